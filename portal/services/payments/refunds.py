"""Refunds: an agent's exceptional refund, and a refund made on Stripe's side."""


from django.db import transaction
from django.utils.translation import gettext as _

from portal.models import (
    LedgerEntry,
    Purchase,
    Refund,
)
from portal.money import euros
from portal.payments import ProviderError
from portal.services import audit
from portal.services.wallet import apply_entry, lock_wallet

from . import PaymentError, UnknownPayment
from .purchases import provider_for
from .receipts import receipt_label


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
        wallet = lock_wallet(p.family_id, p.ticket_type_id)
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
                "receipt": receipt_label(p), "reason": reason})
        p.refunded_quantity += quantity
        p.refunded_cents += amount
        p.save(update_fields=["refunded_quantity", "refunded_cents"])
        if p.method in Purchase.ONLINE_METHODS and amount:
            if not p.payment_id:
                raise PaymentError(_("Ce paiement en ligne n’a pas d’identifiant de transaction."))
            try:
                # Last, so any refusal above leaves the card untouched; the key makes a retry safe.
                refund.provider_refund_id = provider_for(p).refund(
                    p.payment_id, amount, idempotency_key=f"preau-refund-{refund.pk}")
            except ProviderError as exc:
                raise PaymentError(_("Le remboursement par carte a échoué : %(e)s") % {"e": exc}) from exc
        refund.save(update_fields=["ledger_entry", "provider_refund_id"])
        audit.record_action(by, "payment.refund", p.family, target=p, after={
            "tickets": quantity, "amount_cents": amount, "reason": reason,
            "provider_refund_id": refund.provider_refund_id or ""})
    purchase.refresh_from_db()
    return refund



def record_provider_refund(charge):
    """A refund made on Stripe's side (e.g. from its dashboard): record the amount not yet known
    and take back the matching tickets, never more than the wallet holds."""
    payment_id = charge.get("payment_intent") or ""
    purchase = Purchase.objects.filter(payment_id=payment_id or "-").first()
    if purchase is None:
        # Stripe does not order events: this refund may come before its payment's event. It stays
        # unprocessed (Stripe retries it) and is applied as soon as the payment is credited.
        raise UnknownPayment(f"refund for payment {payment_id!r}, not credited yet")
    with transaction.atomic():
        p = Purchase.objects.select_for_update().get(pk=purchase.pk)
        new_cents = min(int(charge.get("amount_refunded") or 0), p.amount_cents) - p.refunded_cents
        if new_cents <= 0:
            return None  # already recorded (e.g. the refund was made from Préau)
        wallet = lock_wallet(p.family_id, p.ticket_type_id)
        tickets = min(new_cents // p.unit_cents if p.unit_cents else 0, p.quantity - p.refunded_quantity,
                      wallet.balance)
        refund = Refund.objects.create(purchase=p, quantity=tickets, amount_cents=new_cents,
                                       reason=_("Remboursement enregistré chez Stripe"))
        if tickets:
            refund.ledger_entry = apply_entry(
                wallet, -tickets, LedgerEntry.Kind.ADJUSTMENT,
                reason=_("Remboursement de %(amount)s (reçu %(receipt)s)") % {
                    "amount": euros(new_cents), "receipt": receipt_label(p)})
            refund.save(update_fields=["ledger_entry"])
        p.refunded_cents += new_cents
        p.refunded_quantity += tickets
        p.save(update_fields=["refunded_cents", "refunded_quantity"])
        audit.record_action(None, "payment.refund.stripe", p.family, target=p,
                            after={"amount_cents": new_cents, "tickets": tickets})
    return refund
