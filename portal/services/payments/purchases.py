"""Prices and suggestions, online and town-hall purchases, and crediting a paid purchase once."""

import datetime
import logging
import uuid

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.models import (
    Child,
    Closure,
    Family,
    LedgerEntry,
    Price,
    Purchase,
    Service,
    TicketType,
)
from portal.payments import ProviderError, get_provider
from portal.services import audit, deadlines, planning_states
from portal.services.town import town_settings
from portal.services.wallet import apply_entry, lock_wallet, settle_debts

from . import AmountMismatch, PaymentError
from .receipts import allocate_receipt, send_receipt_after_commit

logger = logging.getLogger(__name__)



# ---------------------------------------------------------------------------------------------
# Prices, limits, suggestions


def quantity_limits():
    town = town_settings()
    if town is None:
        return 1, 100
    return town.purchase_min_quantity, max(town.purchase_min_quantity, town.purchase_max_quantity)


def bracket_id(family):
    """The family's tariff bracket, else the town's default one; None: the family has no price."""
    if family.tariff_bracket_id:
        return family.tariff_bracket_id
    town = town_settings()
    return town.default_tariff_bracket_id if town is not None else None


def town_default_bracket():
    town = town_settings()
    return town.default_tariff_bracket if town is not None else None


def unit_price(family, ticket_type):
    """The family's price for one ticket, in cents, or None if its bracket has no price."""
    bracket = bracket_id(family)
    if bracket is None:
        return None
    price = Price.objects.filter(ticket_type=ticket_type, bracket_id=bracket).first()
    return price.unit_cents if price else None


def prices(family):
    """{ticket_type_id: unit_cents} for the family's bracket."""
    bracket = bracket_id(family)
    if bracket is None:
        return {}
    return dict(Price.objects.filter(bracket_id=bracket).values_list("ticket_type_id", "unit_cents"))


def buyable_ticket_types(family):
    """[(ticket_type, unit_cents)] the family's children's services consume and that have a price."""
    school_ids = Child.objects.filter(Child.of_household(family.pk)).values("school_id")
    types = TicketType.objects.filter(services__schools__in=school_ids).distinct().order_by("name")
    unit_cents = prices(family)
    return [(t, unit_cents[t.pk]) for t in types if t.pk in unit_cents]


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
    today = timezone.localtime(now, deadlines.PARIS).date()
    children = list(Child.objects.filter(Child.of_household(family.pk)).select_related("family", "school"))
    if not children:
        return []
    # The usual week: weekdays this household booked over the last eight weeks and ahead.
    pattern = {}
    for child_id, service_id, day in (Booking.objects.filter(
            family=family, status=Booking.Status.ACTIVE, service__ticket_type=ticket_type,
            date__gte=today - datetime.timedelta(weeks=8)).values_list("child_id", "service_id", "date")):
        pattern.setdefault((child_id, service_id), set()).add(day.weekday())
    week_end = today + datetime.timedelta(days=6 - today.weekday())
    month_end = deadlines.month_days(today.year, today.month)[-1]
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
    planning = planning_states.day_states(children, days, now=now, family=family, ignore_tickets=True)
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
        raise PaymentError(_("Choisissez entre %(low)d et %(high)d tickets.") % {"low": low, "high": high},
                           "quantity")
    if family.status == Family.Status.SUSPENDED:
        raise PaymentError(_("Le compte de la famille est suspendu : contactez la mairie."), "suspended")
    unit = unit_price(family, ticket_type)
    if unit is None:
        raise PaymentError(_("Aucun tarif n’est défini pour votre famille : contactez la mairie."),
                           "no_price")
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
        raise PaymentError(_("Ce paiement n’est plus en attente."), "not_pending")
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
                             "Rien n’a été débité."), "payment_unavailable") from exc
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
            if session.currency != settings.PAYMENT_CURRENCY:
                raise AmountMismatch(f"session {session.id} paid in {session.currency!r}, "
                                     f"purchase {p.pk} expects {settings.PAYMENT_CURRENCY!r}")
            credit(p, payment_id=session.payment_id, by=p.created_by, notify=notify)
        elif p.state == Purchase.State.PENDING:
            if failed or session.status == "failed":
                p.state = Purchase.State.FAILED
            elif session.status == "expired":
                p.state = Purchase.State.EXPIRED
            p.save(update_fields=["state", "session_id"])
    return p


def credit(locked_purchase, *, payment_id, by, notify=True):
    """Credit the tickets of a purchase locked by the caller, issue its receipt, mail it."""
    p = locked_purchase
    wallet = lock_wallet(p.family_id, p.ticket_type_id)
    reason = _("Achat de %(n)d ticket(s) — %(method)s") % {"n": p.quantity, "method": p.get_method_display()}
    p.ledger_entry = apply_entry(wallet, p.quantity, LedgerEntry.Kind.PURCHASE, reason=reason, by=by)
    settle_debts(wallet, by=by)
    p.state = Purchase.State.PAID
    p.paid_at = timezone.now()
    p.payment_id = payment_id or None
    p.save()
    receipt = allocate_receipt(p)
    if notify:
        send_receipt_after_commit(p, receipt)
    return receipt



def confirm_return(session_id, family):
    """The return page: ask the provider about the session and settle it (credit if paid).
    A session of another family is treated as unknown."""
    purchase = Purchase.objects.filter(session_id=session_id, family=family).first()
    if purchase is None:
        return None
    if purchase.state == Purchase.State.PAID:
        return purchase
    try:
        session = provider_for(purchase).retrieve_session(session_id)
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


def provider_for(purchase):
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
        receipt = credit(purchase, payment_id=None, by=by)
        audit.record_action(by, "payment.town_hall", family, target=purchase, after={
            "tickets": quantity, "ticket_type": ticket_type.name, "amount_cents": purchase.amount_cents,
            "method": method, "reference": reference, "receipt": receipt.label})
    return purchase
