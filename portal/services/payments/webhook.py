"""Stripe's webhook events, and the reconciliation that catches what a lost event missed."""

import datetime
import traceback

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.models import (
    Dispute,
    Purchase,
    StripeEvent,
)
from portal.money import euros
from portal.payments import get_provider
from portal.services import audit, mail
from portal.services.mail import absolute_url

from . import AmountMismatch
from .purchases import find_purchase, settle_session
from .refunds import record_provider_refund


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
        apply_parked_refunds(settle_session(session_from_dict(obj)))
    elif event_type == "checkout.session.async_payment_failed":
        settle_session(session_from_dict(obj), failed=True)
    elif event_type == "charge.refunded":
        record_provider_refund(obj)
    elif event_type.startswith("charge.dispute."):
        record_dispute(obj, created=event_type == "charge.dispute.created")
    else:
        return False
    return True



def apply_parked_refunds(purchase):
    """Refund events that came before their payment was credited (Stripe does not order its
    events) were kept unprocessed; once the payment is credited they are applied, in the same
    transaction."""
    if purchase is None or purchase.state != Purchase.State.PAID or not purchase.payment_id:
        return 0
    parked = (StripeEvent.objects.select_for_update()
              .filter(type="charge.refunded", processed_at__isnull=True,
                      payload__data__object__payment_intent=purchase.payment_id).order_by("pk"))
    count = 0
    for event in parked:
        record_provider_refund(event.payload["data"]["object"])
        event.processed_at = timezone.now()
        event.attempts += 1
        event.last_error = ""
        event.save(update_fields=["processed_at", "attempts", "last_error"])
        count += 1
    return count


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
    mail.send_after_commit("payment_dispute", {
        "dispute": dispute, "purchase": dispute.purchase, "amount": euros(dispute.amount_cents),
        "admin_url": absolute_url("/admin/")}, emails)


# ---------------------------------------------------------------------------------------------
# Reconciliation


def reconcile(since=None, *, now=None):
    """Fetch recent sessions from the provider, credit paid ones that were missed, settle
    expired ones, and report what does not match. Returns {"credited": n, "problems": [...]}."""
    now = now or timezone.now()
    since = since or now - datetime.timedelta(days=3)
    provider = get_provider()
    report = {"checked": 0, "credited": 0, "expired": 0, "refunded": 0, "problems": []}
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
        if session.status == "paid" and session.refunded_cents is not None:
            _compare_refunds(purchase, session, report)
    return report


def _compare_refunds(purchase, session, report):
    """A refund Stripe made whose event was lost is recorded; Préau counting more refunded
    than Stripe is reported, never corrected silently."""
    purchase.refresh_from_db()
    if purchase.state != Purchase.State.PAID or purchase.payment_id != session.payment_id:
        return
    if session.refunded_cents > purchase.refunded_cents:
        with transaction.atomic():
            record_provider_refund({"payment_intent": session.payment_id,
                                    "amount_refunded": session.refunded_cents})
            apply_parked_refunds(purchase)
        report["refunded"] += 1
    elif session.refunded_cents < purchase.refunded_cents:
        report["problems"].append(_("Paiement %(p)d : %(a)s remboursés selon Préau, %(b)s selon "
                                    "Stripe.") % {"p": purchase.pk,
                                                  "a": euros(purchase.refunded_cents),
                                                  "b": euros(session.refunded_cents)})
