"""Payment providers: Stripe Checkout, or the offline demo when no Stripe key is set.

Both answer the same few calls with the same plain `CheckoutSession`, so the services that
credit tickets never know which one ran.
"""

from dataclasses import dataclass

from django.conf import settings


class ProviderError(Exception):
    """The provider could not be reached or refused the request."""


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str
    # open (not paid yet), pending (asynchronous payment under way), paid, failed, expired
    status: str
    purchase_token: str
    amount_cents: int | None = None
    currency: str = ""
    payment_id: str | None = None
    created: int | None = None
    # What the provider says was refunded on the payment, when it said (reconciliation).
    refunded_cents: int | None = None


def get_provider():
    """The Stripe provider when a secret key is configured, else the demo one."""
    if settings.STRIPE_SECRET_KEY:
        from . import stripe

        return stripe
    from . import demo

    return demo
