"""Offline stand-in for Stripe: sessions live in the database and a labelled demo page settles them.

Only used when STRIPE_SECRET_KEY is empty (the embedded default), so `make run` can buy tickets.
"""

import secrets

from django.urls import reverse

from portal.models import DemoCheckoutSession

from . import CheckoutSession, ProviderError

NAME = "demo"
LABEL = "Démonstration"


def _session(row):
    return CheckoutSession(id=row.session_id, url=reverse("portal:payment_demo", args=[row.session_id]),
                           status=row.outcome, purchase_token=str(row.purchase_token),
                           amount_cents=row.amount_cents, currency="eur",
                           payment_id=f"demo_pi_{row.session_id[8:]}" if row.outcome == "paid" else None,
                           created=int(row.created_at.timestamp()))


def create_checkout(purchase, *, success_url, cancel_url, description, customer_email=""):
    # Like Stripe's idempotency key: the same purchase always gets the same session.
    row, _created = DemoCheckoutSession.objects.get_or_create(purchase_token=purchase.token, defaults={
        "session_id": f"demo_cs_{secrets.token_urlsafe(18)}", "amount_cents": purchase.amount_cents,
        "success_url": success_url + "?session_id={CHECKOUT_SESSION_ID}", "cancel_url": cancel_url})
    return _session(row)


def retrieve_session(session_id):
    row = DemoCheckoutSession.objects.filter(session_id=session_id).first()
    if row is None:
        raise ProviderError("No such demo session")
    return _session(row)


def list_recent_sessions(since):
    return [_session(row) for row in DemoCheckoutSession.objects.filter(created_at__gte=since)
            .order_by("-created_at")]


def settle(session_id, outcome):
    """What the demo page's buttons do in place of the card network: paid, failed or expired."""
    if outcome not in ("paid", "failed", "expired"):
        raise ProviderError("Unknown demo outcome")
    updated = (DemoCheckoutSession.objects.filter(session_id=session_id, outcome="open")
               .update(outcome=outcome))
    row = DemoCheckoutSession.objects.get(session_id=session_id)
    return _session(row), bool(updated)


def refund(payment_id, amount_cents, *, idempotency_key):
    return f"demo_re_{idempotency_key}"
