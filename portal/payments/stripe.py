"""Stripe Checkout (hosted page: card data never reaches our server)."""

import datetime

import stripe
from django.conf import settings
from django.utils import timezone

from . import CheckoutSession, ProviderError

NAME = "stripe"
LABEL = "Stripe"
# A session left open this long expires (Stripe's minimum is 30 minutes).
SESSION_LIFETIME = datetime.timedelta(hours=1)


def _as_dict(obj):
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def session_from_dict(data):
    """Stripe's Checkout Session (as a dict) → our CheckoutSession."""
    payment_status, status = data.get("payment_status"), data.get("status")
    if payment_status in ("paid", "no_payment_required"):
        outcome = "paid"
    elif status == "expired":
        outcome = "expired"
    elif status == "complete":
        outcome = "pending"  # e.g. a bank debit still being confirmed
    else:
        outcome = "open"
    intent = data.get("payment_intent")
    refunded = None
    if isinstance(intent, dict):
        charge = intent.get("latest_charge")
        if isinstance(charge, dict):
            refunded = int(charge.get("amount_refunded") or 0)
        intent = intent.get("id")
    token = data.get("client_reference_id") or (data.get("metadata") or {}).get("purchase_token") or ""
    return CheckoutSession(id=data["id"], url=data.get("url") or "", status=outcome,
                           purchase_token=token, amount_cents=data.get("amount_total"),
                           currency=(data.get("currency") or "").lower(), payment_id=intent,
                           created=data.get("created"), refunded_cents=refunded)


def create_checkout(purchase, *, success_url, cancel_url, description, customer_email=""):
    params = {
        "mode": "payment",
        "line_items": [{
            "quantity": purchase.quantity,
            "price_data": {"currency": settings.PAYMENT_CURRENCY, "unit_amount": purchase.unit_cents,
                           "product_data": {"name": description}},
        }],
        "client_reference_id": str(purchase.token),
        "metadata": {"purchase_token": str(purchase.token), "family_id": str(purchase.family_id)},
        "payment_intent_data": {"metadata": {"purchase_token": str(purchase.token)}},
        "success_url": success_url + "?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": cancel_url,
        "expires_at": int((timezone.now() + SESSION_LIFETIME).timestamp()),
        "locale": "fr",
    }
    if customer_email:
        params["customer_email"] = customer_email
    try:
        # Same purchase, same key: a double click or a retry gets the same session back.
        session = stripe.checkout.Session.create(
            api_key=settings.STRIPE_SECRET_KEY, idempotency_key=f"preau-purchase-{purchase.token}",
            **params)
    except stripe.StripeError as exc:
        raise ProviderError(str(exc)) from exc
    return session_from_dict(_as_dict(session))


def retrieve_session(session_id):
    try:
        session = stripe.checkout.Session.retrieve(session_id, api_key=settings.STRIPE_SECRET_KEY)
    except stripe.StripeError as exc:
        raise ProviderError(str(exc)) from exc
    return session_from_dict(_as_dict(session))


def list_recent_sessions(since):
    """Every Checkout Session created since `since` (aware datetime), newest first."""
    try:
        # The payment's charge comes along so reconciliation can compare refunds too.
        sessions = stripe.checkout.Session.list(created={"gte": int(since.timestamp())}, limit=100,
                                                expand=["data.payment_intent.latest_charge"],
                                                api_key=settings.STRIPE_SECRET_KEY)
        return [session_from_dict(_as_dict(s)) for s in sessions.auto_paging_iter()]
    except stripe.StripeError as exc:
        raise ProviderError(str(exc)) from exc


def refund(payment_id, amount_cents, *, idempotency_key):
    try:
        result = stripe.Refund.create(payment_intent=payment_id, amount=amount_cents,
                                      api_key=settings.STRIPE_SECRET_KEY,
                                      idempotency_key=idempotency_key)
    except stripe.StripeError as exc:
        raise ProviderError(str(exc)) from exc
    return _as_dict(result)["id"]
