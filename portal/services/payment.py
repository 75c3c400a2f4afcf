"""Buying tickets: purchases, crediting exactly once, receipts, refunds, disputes, the treasury journal.

Every path that turns money into tickets — Stripe's webhook, the return page, reconciliation,
the demo page, a town-hall payment — ends in `_credit`, which runs under a lock on the
purchase row and does nothing if the purchase is already paid.
"""

import datetime
import logging
import traceback
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.models import Site

from documents.pdf import simple_pdf
from home.models import TownSettings
from portal.models import (
    Child,
    Closure,
    Dispute,
    Family,
    LedgerEntry,
    Price,
    Purchase,
    Receipt,
    ReceiptCounter,
    Refund,
    Service,
    StripeEvent,
    TicketType,
)
from portal.models.payment import euros
from portal.payments import CheckoutSession, ProviderError, get_provider

from . import audit, calendar
from .mail import absolute_url
from .wallet import apply_entry, lock_family_wallet

logger = logging.getLogger(__name__)


class PaymentError(Exception):
    """A refused payment action; the message is shown to the user as is."""


# ---------------------------------------------------------------------------------------------
# Prices, limits, suggestions


def town_settings():
    site = Site.objects.filter(is_default_site=True).first()
    return TownSettings.for_site(site) if site else None


def quantity_limits():
    town = town_settings()
    if town is None:
        return 1, 100
    return town.purchase_min_quantity, max(town.purchase_min_quantity, town.purchase_max_quantity)


def unit_price(family, ticket_type):
    """The family's price for one ticket, in cents, or None if its bracket has no price."""
    if not family.tariff_bracket_id:
        return None
    price = Price.objects.filter(ticket_type=ticket_type, bracket_id=family.tariff_bracket_id).first()
    return price.unit_cents if price else None


def buyable_ticket_types(family):
    """[(ticket_type, unit_cents)] the family's children's services consume and that have a price."""
    school_ids = Child.objects.filter(family=family).values("school_id")
    types = TicketType.objects.filter(services__schools__in=school_ids).distinct().order_by("name")
    prices = {}
    if family.tariff_bracket_id:
        prices = dict(Price.objects.filter(bracket_id=family.tariff_bracket_id)
                      .values_list("ticket_type_id", "unit_cents"))
    return [(t, prices[t.pk]) for t in types if t.pk in prices]


def _next_holiday_start(today, horizon):
    closure = (Closure.objects.filter(kind=Closure.Kind.SCHOOL_HOLIDAY, start__gt=today, start__lte=horizon,
                                      school=None).order_by("start").first())
    return closure.start if closure else None


def suggestions(family, ticket_type, *, now=None):
    """Tickets needed for the family's usual week (the weekdays each child is booked on, per
    service) on the days still open this week, this month and until the next school holidays.

    One planning load over the longest period, so the page costs the same whatever the family.
    """
    from portal.models import Booking

    now = now or timezone.now()
    today = timezone.localtime(now, calendar.PARIS).date()
    children = list(Child.objects.filter(family=family).select_related("family", "school"))
    if not children:
        return []
    # The usual week: weekdays booked over the last eight weeks and ahead.
    pattern = {}
    for child_id, service_id, day in (Booking.objects.filter(
            child__family=family, status=Booking.Status.ACTIVE, service__ticket_type=ticket_type,
            date__gte=today - datetime.timedelta(weeks=8)).values_list("child_id", "service_id", "date")):
        pattern.setdefault((child_id, service_id), set()).add(day.weekday())
    week_end = today + datetime.timedelta(days=6 - today.weekday())
    month_end = calendar.month_days(today.year, today.month)[-1]
    horizon = today + datetime.timedelta(days=120)
    holidays = _next_holiday_start(today, horizon)
    last_service_day = (Service.objects.filter(ticket_type=ticket_type, end__gte=today)
                        .order_by("-end").values_list("end", flat=True).first())
    until_holidays = (holidays - datetime.timedelta(days=1)) if holidays else min(
        horizon, last_service_day or horizon)
    periods = [("week", _("cette semaine"), week_end), ("month", _("ce mois-ci"), month_end),
               ("holidays", _("jusqu’aux vacances") if holidays else _("dans les quatre prochains mois"),
                until_holidays)]
    last = max(end for _key, _label, end in periods)
    days = [today + datetime.timedelta(days=i) for i in range((last - today).days + 1)]
    planning = calendar.day_states(children, days, now=now, ignore_tickets=True)
    open_days = []
    for row in planning.rows:
        for service in row.services:
            if service.ticket_type_id != ticket_type.pk:
                continue
            weekdays = pattern.get((row.child.pk, service.pk), set())
            open_days += [d for d in days if d.weekday() in weekdays
                          and row.cells[(service.pk, d)].state == "available"]
    balance = planning.balances.get(ticket_type.pk, 0)
    low, high = quantity_limits()
    out = []
    for key, label, end in periods:
        needed = sum(1 for d in open_days if d <= end)
        missing = max(0, needed - balance)
        out.append({"key": key, "label": label, "end": end, "needed": needed, "balance": balance,
                    "missing": missing, "quantity": min(high, max(low, missing)) if missing else 0})
    return out


# ---------------------------------------------------------------------------------------------
# Online purchases


def start_purchase(family, ticket_type, quantity, *, by, token=None):
    """The pending purchase for this buy form (same token → same purchase, so a double click
    or a reload pays once)."""
    low, high = quantity_limits()
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not low <= quantity <= high:
        raise PaymentError(_("Choisissez entre %(low)d et %(high)d tickets.") % {"low": low, "high": high})
    if family.status == Family.Status.SUSPENDED:
        raise PaymentError(_("Le compte de la famille est suspendu : contactez la mairie."))
    unit = unit_price(family, ticket_type)
    if unit is None:
        raise PaymentError(_("Aucun tarif n’est défini pour votre famille : contactez la mairie."))
    provider = get_provider()
    method = Purchase.Method.CARD if provider.NAME == "stripe" else Purchase.Method.DEMO
    try:
        token = uuid.UUID(str(token)) if token else uuid.uuid4()
    except ValueError:
        token = uuid.uuid4()
    purchase, _created = Purchase.objects.get_or_create(token=token, defaults={
        "family": family, "ticket_type": ticket_type, "quantity": quantity, "unit_cents": unit,
        "amount_cents": quantity * unit, "method": method, "provider": provider.NAME, "created_by": by})
    if purchase.family_id != family.pk:
        # Someone else's token: never reuse it; a fresh purchase instead.
        return start_purchase(family, ticket_type, quantity, by=by)
    return purchase


def open_checkout(purchase, *, success_url, cancel_url):
    """The provider's payment page for this purchase (created once, then reused)."""
    if purchase.state != Purchase.State.PENDING:
        raise PaymentError(_("Ce paiement n’est plus en attente."))
    if purchase.session_id and purchase.checkout_url:
        return purchase.checkout_url
    provider = get_provider()
    guardian = purchase.created_by
    description = _("%(n)d ticket(s) %(type)s — %(town)s") % {
        "n": purchase.quantity, "type": purchase.ticket_type.name,
        "town": getattr(town_settings(), "town_name", "Préau")}
    try:
        session = provider.create_checkout(purchase, success_url=success_url, cancel_url=cancel_url,
                                           description=description,
                                           customer_email=getattr(guardian, "email", "") or "")
    except ProviderError as exc:
        logger.warning("Checkout creation failed for purchase %s: %s", purchase.pk, exc)
        raise PaymentError(_("Le service de paiement ne répond pas : réessayez dans quelques minutes. "
                             "Rien n’a été débité.")) from exc
    Purchase.objects.filter(pk=purchase.pk, session_id__isnull=True).update(
        session_id=session.id, checkout_url=session.url, provider=provider.NAME)
    purchase.refresh_from_db()
    return purchase.checkout_url or session.url


def find_purchase(session):
    """The purchase a provider session belongs to: by session id, else by our token."""
    purchase = Purchase.objects.filter(session_id=session.id).first()
    if purchase is None and session.purchase_token:
        try:
            purchase = Purchase.objects.filter(token=uuid.UUID(session.purchase_token)).first()
        except ValueError:
            purchase = None
    return purchase


class AmountMismatch(Exception):
    pass


def settle_session(session, *, failed=False, notify=True):
    """Bring a purchase in line with its provider session; credits if paid, once.

    Returns the purchase (or None if the session is not ours). `notify=False` (demo data only)
    skips the receipt e-mail."""
    purchase = find_purchase(session)
    if purchase is None:
        return None
    with transaction.atomic():
        p = Purchase.objects.select_for_update().get(pk=purchase.pk)
        # Re-checked under the lock: a concurrent webhook or return page may have credited it.
        if p.state == Purchase.State.PAID:
            return p
        if p.session_id is None:
            p.session_id = session.id
        if session.status == "paid":
            if session.amount_cents is not None and session.amount_cents != p.amount_cents:
                raise AmountMismatch(f"session {session.id} paid {session.amount_cents}, "
                                     f"purchase {p.pk} expects {p.amount_cents}")
            _credit(p, payment_id=session.payment_id, by=p.created_by, notify=notify)
        elif p.state == Purchase.State.PENDING:
            if failed or session.status == "failed":
                p.state = Purchase.State.FAILED
            elif session.status == "expired":
                p.state = Purchase.State.EXPIRED
            p.save(update_fields=["state", "session_id"])
    return p


def _credit(locked_purchase, *, payment_id, by, notify=True):
    """Credit the tickets of a purchase locked by the caller, issue its receipt, mail it."""
    p = locked_purchase
    wallet = lock_family_wallet(p.family_id, p.ticket_type_id)
    reason = _("Achat de %(n)d ticket(s) — %(method)s") % {"n": p.quantity, "method": p.get_method_display()}
    p.ledger_entry = apply_entry(wallet, p.quantity, LedgerEntry.Kind.PURCHASE, reason=reason, by=by)
    p.state = Purchase.State.PAID
    p.paid_at = timezone.now()
    p.payment_id = payment_id or None
    p.save()
    receipt = allocate_receipt(p)
    if notify:
        send_receipt_after_commit(p, receipt)
    return receipt


def allocate_receipt(paid_purchase):
    """The next number of the year, taken under a lock on the year's counter in the caller's
    transaction: a rolled-back payment gives its number back, so the sequence has no gap."""
    year = timezone.localtime(paid_purchase.paid_at, calendar.PARIS).year
    counter = ReceiptCounter.objects.select_for_update().filter(year=year).first()
    if counter is None:
        try:
            with transaction.atomic():
                ReceiptCounter.objects.create(year=year)
        except IntegrityError:
            pass  # created meanwhile by a concurrent payment
        counter = ReceiptCounter.objects.select_for_update().get(year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return Receipt.objects.create(purchase=paid_purchase, year=year, number=counter.last_number,
                                  issued_at=paid_purchase.paid_at)


def confirm_return(session_id, family):
    """The return page: ask the provider about the session and settle it (credit if paid).
    A session of another family is treated as unknown."""
    purchase = Purchase.objects.filter(session_id=session_id, family=family).first()
    if purchase is None:
        return None
    if purchase.state == Purchase.State.PAID:
        return purchase
    try:
        session = _provider_for(purchase).retrieve_session(session_id)
    except ProviderError:
        logger.warning("Could not retrieve session %s on return", session_id)
        return purchase
    return settle_session(session)


def cancel_pending(purchase):
    """The family came back from the payment page without paying."""
    Purchase.objects.filter(pk=purchase.pk, state=Purchase.State.PENDING).update(
        state=Purchase.State.CANCELLED)
    purchase.refresh_from_db()
    return purchase


def _provider_for(purchase):
    if purchase.provider == "demo":
        from portal.payments import demo

        return demo
    if purchase.provider == "stripe":
        if not settings.STRIPE_SECRET_KEY:
            raise ProviderError("STRIPE_SECRET_KEY is not set")
        from portal.payments import stripe

        return stripe
    raise ProviderError(f"No provider for {purchase.provider!r}")


# ---------------------------------------------------------------------------------------------
# Stripe webhook


def process_event(event):
    """Store a verified Stripe event once and act on it in the same transaction.

    Returns "processed", "duplicate" or "ignored". Raises if processing fails: the event stays
    unprocessed (with the traceback) so that Stripe's retry processes it later."""
    event_id, event_type = event["id"], event.get("type", "")
    try:
        with transaction.atomic():
            stored, _created = StripeEvent.objects.get_or_create(
                event_id=event_id, defaults={"type": event_type, "payload": event})
            stored = StripeEvent.objects.select_for_update().get(pk=stored.pk)
            if stored.processed_at is not None:
                return "duplicate"
            handled = _dispatch(event_type, event.get("data", {}).get("object", {}))
            stored.processed_at = timezone.now()
            stored.attempts += 1
            stored.last_error = ""
            stored.save(update_fields=["processed_at", "attempts", "last_error"])
            return "processed" if handled else "ignored"
    except Exception:
        error = traceback.format_exc()
        with transaction.atomic():
            stored, _created = StripeEvent.objects.get_or_create(
                event_id=event_id, defaults={"type": event_type, "payload": event})
            StripeEvent.objects.filter(pk=stored.pk, processed_at__isnull=True).update(
                attempts=F("attempts") + 1, last_error=error[-10000:])
        raise


def _dispatch(event_type, obj):
    from portal.payments.stripe import session_from_dict

    if event_type in ("checkout.session.completed", "checkout.session.async_payment_succeeded",
                      "checkout.session.expired"):
        settle_session(session_from_dict(obj))
    elif event_type == "checkout.session.async_payment_failed":
        settle_session(session_from_dict(obj), failed=True)
    elif event_type == "charge.refunded":
        record_provider_refund(obj)
    elif event_type.startswith("charge.dispute."):
        record_dispute(obj, created=event_type == "charge.dispute.created")
    else:
        return False
    return True


def record_provider_refund(charge):
    """A refund made on Stripe's side (e.g. from its dashboard): record the amount not yet known
    and take back the matching tickets, never more than the wallet holds."""
    purchase = Purchase.objects.filter(payment_id=charge.get("payment_intent") or "-").first()
    if purchase is None:
        return None
    with transaction.atomic():
        p = Purchase.objects.select_for_update().get(pk=purchase.pk)
        new_cents = min(int(charge.get("amount_refunded") or 0), p.amount_cents) - p.refunded_cents
        if new_cents <= 0:
            return None  # already recorded (e.g. the refund was made from Préau)
        wallet = lock_family_wallet(p.family_id, p.ticket_type_id)
        tickets = min(new_cents // p.unit_cents if p.unit_cents else 0, p.quantity - p.refunded_quantity,
                      wallet.balance)
        refund = Refund.objects.create(purchase=p, quantity=tickets, amount_cents=new_cents,
                                       reason=_("Remboursement enregistré chez Stripe"))
        if tickets:
            refund.ledger_entry = apply_entry(
                wallet, -tickets, LedgerEntry.Kind.ADJUSTMENT,
                reason=_("Remboursement de %(amount)s (reçu %(receipt)s)") % {
                    "amount": euros(new_cents), "receipt": _receipt_label(p)})
            refund.save(update_fields=["ledger_entry"])
        p.refunded_cents += new_cents
        p.refunded_quantity += tickets
        p.save(update_fields=["refunded_cents", "refunded_quantity"])
        audit.record_action(None, "payment.refund.stripe", p.family, target=p,
                            after={"amount_cents": new_cents, "tickets": tickets})
    return refund


def record_dispute(obj, *, created):
    purchase = Purchase.objects.filter(payment_id=obj.get("payment_intent") or "-").first()
    dispute, new = Dispute.objects.update_or_create(dispute_id=obj["id"], defaults={
        "purchase": purchase, "payment_id": obj.get("payment_intent") or "",
        "amount_cents": int(obj.get("amount") or 0), "reason": obj.get("reason") or "",
        "status": obj.get("status") or ""})
    if created or new:
        if purchase is not None:
            audit.record_action(None, "payment.dispute", purchase.family, target=purchase,
                                after={"dispute": dispute.dispute_id, "amount_cents": dispute.amount_cents})
        _alert_agents(dispute)
    return dispute


def _alert_agents(dispute):
    User = get_user_model()
    emails = sorted(set(User.objects.filter(groups__name="Agents", is_active=True).exclude(email="")
                        .values_list("email", flat=True)))
    if not emails:
        return
    text = render_to_string("portal/emails/payment_dispute.txt", {
        "dispute": dispute, "purchase": dispute.purchase, "amount": euros(dispute.amount_cents),
        "admin_url": absolute_url("/admin/")})
    subject, _sep, body = text.strip().partition("\n")
    transaction.on_commit(lambda: EmailMessage(subject.strip(), body.strip() + "\n", None, emails).send())


# ---------------------------------------------------------------------------------------------
# Receipts


def _receipt_label(purchase):
    receipt = Receipt.objects.filter(purchase=purchase).first()
    return receipt.label if receipt else "—"


def receipt_context(receipt):
    p = receipt.purchase
    town = town_settings()
    return {
        "receipt": receipt, "purchase": p, "family": p.family,
        "town_name": getattr(town, "town_name", ""), "header": getattr(town, "receipt_header", ""),
        "paid_at": timezone.localtime(p.paid_at, calendar.PARIS),
        "unit": euros(p.unit_cents), "amount": euros(p.amount_cents),
        "refunded": euros(p.refunded_cents) if p.refunded_cents else "",
    }


def receipt_pdf(receipt):
    from django.utils.html import escape

    c = receipt_context(receipt)
    p = c["purchase"]
    header = [escape(line) for line in (c["header"] or c["town_name"]).splitlines() if line.strip()]
    payment = [
        _("Payé le %(date)s") % {"date": c["paid_at"].strftime("%d/%m/%Y %H:%M")},
        _("Moyen de paiement : %(m)s") % {"m": p.get_method_display()},
    ]
    if p.reference:
        payment.append(_("Référence : %(r)s") % {"r": escape(p.reference)})
    if p.payment_id:
        payment.append(_("Transaction : %(r)s") % {"r": escape(p.payment_id)})
    family = [escape(p.family.name)]
    address = " ".join(part for part in (p.family.address, p.family.postcode, p.family.city) if part)
    if address:
        family.append(escape(address))
    sections = [
        (_("Émetteur"), header or [escape(c["town_name"])]),
        (_("Famille"), family),
        (_("Détail"), [_("%(n)d ticket(s) %(type)s × %(unit)s = <b>%(amount)s</b>") % {
            "n": p.quantity, "type": escape(p.ticket_type.name), "unit": c["unit"], "amount": c["amount"]}]),
        (_("Paiement"), payment),
    ]
    if c["refunded"]:
        sections.append((_("Remboursement"), [_("Remboursé depuis : %(a)s") % {"a": c["refunded"]}]))
    return simple_pdf(_("Reçu n° %(n)s") % {"n": receipt.label}, sections, author=c["town_name"])


def send_receipt_after_commit(purchase, receipt):
    recipients = [g.email for g in purchase.family.guardians.all() if g.email]
    if not recipients:
        return
    text = render_to_string("portal/emails/payment_receipt.txt", {
        "purchase": purchase, "receipt": receipt, "amount": euros(purchase.amount_cents),
        "wallet_url": absolute_url(reverse("portal:payment_list"))})
    subject, _sep, body = text.strip().partition("\n")
    receipt_id = receipt.pk

    def send():
        # Rendered after commit, from the committed rows.
        fresh = Receipt.objects.select_related("purchase__family", "purchase__ticket_type").get(pk=receipt_id)
        message = EmailMessage(subject.strip(), body.strip() + "\n", None, recipients)
        message.attach(f"recu-{fresh.label}.pdf", receipt_pdf(fresh), "application/pdf")
        message.send()

    transaction.on_commit(send)


# ---------------------------------------------------------------------------------------------
# Town hall


def record_town_hall_payment(family, ticket_type, quantity, method, *, by, reference="", unit_cents=None):
    """A payment received at the town hall: purchase, credit, receipt and audit entry, all or nothing."""
    if method not in Purchase.TOWN_HALL_METHODS:
        raise PaymentError(_("Choisissez un moyen de paiement reçu en mairie."))
    reference = (reference or "").strip()
    if method in (Purchase.Method.CHEQUE, Purchase.Method.CESU) and not reference:
        raise PaymentError(_("Indiquez le numéro du chèque ou du CESU."))
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= 1000:
        raise PaymentError(_("Le nombre de tickets doit être entre 1 et 1000."))
    unit = unit_cents if unit_cents is not None else unit_price(family, ticket_type)
    if unit is None:
        raise PaymentError(_("Aucun tarif pour la tranche de cette famille : indiquez le prix unitaire."))
    with transaction.atomic():
        purchase = Purchase.objects.create(
            family=family, ticket_type=ticket_type, quantity=quantity, unit_cents=unit,
            amount_cents=quantity * unit, method=method, reference=reference, created_by=by)
        purchase = Purchase.objects.select_for_update().get(pk=purchase.pk)
        receipt = _credit(purchase, payment_id=None, by=by)
        audit.record_action(by, "payment.town_hall", family, target=purchase, after={
            "tickets": quantity, "ticket_type": ticket_type.name, "amount_cents": purchase.amount_cents,
            "method": method, "reference": reference, "receipt": receipt.label})
    return purchase


def refund_purchase(purchase, quantity, reason, *, by, amount_cents=None):
    """An exceptional refund: removes tickets (never more than the wallet holds nor than were
    bought) and, for a card payment, refunds at most what was paid through the provider."""
    reason = (reason or "").strip()
    if not reason:
        raise PaymentError(_("Indiquez le motif."))
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
        raise PaymentError(_("Le nombre de tickets doit être un entier positif."))
    with transaction.atomic():
        p = Purchase.objects.select_for_update().select_related("family", "ticket_type").get(pk=purchase.pk)
        if p.state != Purchase.State.PAID:
            raise PaymentError(_("Seul un paiement encaissé peut être remboursé."))
        if quantity > p.quantity - p.refunded_quantity:
            raise PaymentError(_("Ce paiement ne compte plus que %(n)d ticket(s) remboursable(s).")
                               % {"n": p.quantity - p.refunded_quantity})
        wallet = lock_family_wallet(p.family_id, p.ticket_type_id)
        if quantity > wallet.balance:
            raise PaymentError(_("Le porte-monnaie ne contient que %(n)d ticket(s) : impossible d’en "
                                 "retirer %(q)d.") % {"n": wallet.balance, "q": quantity})
        amount = quantity * p.unit_cents if amount_cents is None else amount_cents
        if amount < 0 or amount > p.amount_cents - p.refunded_cents:
            raise PaymentError(_("Le montant remboursé ne peut dépasser %(a)s.")
                               % {"a": euros(p.amount_cents - p.refunded_cents)})
        refund = Refund.objects.create(purchase=p, quantity=quantity, amount_cents=amount, reason=reason,
                                       by=by)
        refund.ledger_entry = apply_entry(
            wallet, -quantity, LedgerEntry.Kind.ADJUSTMENT, by=by, agent=by,
            reason=_("Remboursement (reçu %(receipt)s) : %(reason)s") % {
                "receipt": _receipt_label(p), "reason": reason})
        p.refunded_quantity += quantity
        p.refunded_cents += amount
        p.save(update_fields=["refunded_quantity", "refunded_cents"])
        if p.method in Purchase.ONLINE_METHODS and amount:
            if not p.payment_id:
                raise PaymentError(_("Ce paiement en ligne n’a pas d’identifiant de transaction."))
            try:
                # Last, so any refusal above leaves the card untouched; the key makes a retry safe.
                refund.provider_refund_id = _provider_for(p).refund(
                    p.payment_id, amount, idempotency_key=f"preau-refund-{refund.pk}")
            except ProviderError as exc:
                raise PaymentError(_("Le remboursement par carte a échoué : %(e)s") % {"e": exc}) from exc
        refund.save(update_fields=["ledger_entry", "provider_refund_id"])
        audit.record_action(by, "payment.refund", p.family, target=p, after={
            "tickets": quantity, "amount_cents": amount, "reason": reason,
            "provider_refund_id": refund.provider_refund_id or ""})
    purchase.refresh_from_db()
    return refund


# ---------------------------------------------------------------------------------------------
# Treasury


def day_bounds(start, end):
    """[start 00:00, end+1 00:00) in Paris time, as aware datetimes."""
    return (datetime.datetime.combine(start, datetime.time(0), tzinfo=calendar.PARIS),
            datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time(0),
                                      tzinfo=calendar.PARIS))


@dataclass
class JournalLine:
    when: datetime.datetime
    kind: str  # "payment" or "refund"
    receipt: str
    family: str
    ticket_type: str
    method: str
    method_label: str
    reference: str
    quantity: int
    amount_cents: int

    @property
    def amount(self):
        return euros(self.amount_cents)


def journal(start, end, *, method=None, ticket_type=None):
    """Payments received and refunds made in [start, end], with totals per method and ticket type."""
    low, high = day_bounds(start, end)
    purchases = (Purchase.objects.filter(state=Purchase.State.PAID, paid_at__gte=low, paid_at__lt=high)
                 .select_related("family", "ticket_type", "receipt").order_by("paid_at", "pk"))
    refunds = (Refund.objects.filter(created_at__gte=low, created_at__lt=high)
               .select_related("purchase__family", "purchase__ticket_type", "purchase__receipt")
               .order_by("created_at", "pk"))
    if method:
        purchases = purchases.filter(method=method)
        refunds = refunds.filter(purchase__method=method)
    if ticket_type:
        purchases = purchases.filter(ticket_type=ticket_type)
        refunds = refunds.filter(purchase__ticket_type=ticket_type)
    lines = []
    for p in purchases:
        lines.append(JournalLine(timezone.localtime(p.paid_at, calendar.PARIS), "payment",
                                 _receipt_of(p), p.family.name, p.ticket_type.name, p.method,
                                 p.get_method_display(), p.reference or (p.payment_id or ""),
                                 p.quantity, p.amount_cents))
    for r in refunds:
        p = r.purchase
        lines.append(JournalLine(timezone.localtime(r.created_at, calendar.PARIS), "refund",
                                 _receipt_of(p), p.family.name, p.ticket_type.name, p.method,
                                 p.get_method_display(), r.provider_refund_id or r.reason,
                                 -r.quantity, -r.amount_cents))
    lines.sort(key=lambda line: line.when)
    by_method, by_type = {}, {}
    for line in lines:
        for bucket, key in ((by_method, line.method_label), (by_type, line.ticket_type)):
            q, c = bucket.get(key, (0, 0))
            bucket[key] = (q + line.quantity, c + line.amount_cents)
    total = (sum(line.quantity for line in lines), sum(line.amount_cents for line in lines))
    return {"lines": lines, "start": start, "end": end,
            "by_method": [(k, q, euros(c)) for k, (q, c) in sorted(by_method.items())],
            "by_type": [(k, q, euros(c)) for k, (q, c) in sorted(by_type.items())],
            "total_quantity": total[0], "total_cents": total[1], "total": euros(total[1])}


def _receipt_of(purchase):
    try:
        return purchase.receipt.label
    except Receipt.DoesNotExist:
        return ""


def outstanding_tickets(at):
    """Unused tickets per ticket type at the end of day `at`, summed from the ledger: what the
    town still owes in prepaid services."""
    _low, high = day_bounds(at, at)
    rows = (LedgerEntry.objects.filter(created_at__lt=high)
            .values("wallet__ticket_type_id", "wallet__ticket_type__name")
            .annotate(total=Sum("quantity")).order_by("wallet__ticket_type__name"))
    return [{"ticket_type": row["wallet__ticket_type__name"], "tickets": row["total"] or 0} for row in rows]


# ---------------------------------------------------------------------------------------------
# Reconciliation


def reconcile(since=None, *, now=None):
    """Fetch recent sessions from the provider, credit paid ones that were missed, settle
    expired ones, and report what does not match. Returns {"credited": n, "problems": [...]}."""
    now = now or timezone.now()
    since = since or now - datetime.timedelta(days=3)
    provider = get_provider()
    report = {"checked": 0, "credited": 0, "expired": 0, "problems": []}
    for session in provider.list_recent_sessions(since):
        report["checked"] += 1
        purchase = find_purchase(session)
        if purchase is None:
            if session.status == "paid":
                report["problems"].append(_("Session %(s)s payée (%(a)s) mais inconnue de Préau.") % {
                    "s": session.id, "a": euros(session.amount_cents or 0)})
            continue
        was = purchase.state
        if session.status == "paid" and was != Purchase.State.PAID:
            try:
                settle_session(session)
            except AmountMismatch:
                report["problems"].append(_("Session %(s)s : montant payé %(a)s, attendu %(b)s.") % {
                    "s": session.id, "a": euros(session.amount_cents or 0), "b": purchase.amount_display})
                continue
            report["credited"] += 1
        elif session.status == "expired" and was == Purchase.State.PENDING:
            settle_session(session)
            report["expired"] += 1
        elif was == Purchase.State.PAID and session.status != "paid" and purchase.session_id == session.id:
            report["problems"].append(_("Paiement %(p)d crédité mais la session %(s)s est « %(st)s ».") % {
                "p": purchase.pk, "s": session.id, "st": session.status})
    return report


__all__ = ["AmountMismatch", "CheckoutSession", "PaymentError", "ProviderError"]
