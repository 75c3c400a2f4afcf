"""Payment fixtures and helpers: priced tickets, Stripe sessions as Stripe returns them, signed
webhook deliveries (Stripe's own signing helper, no network).

Imported with `from tests.portal.fixtures_payments import *`.
"""

import json
import time
from unittest import mock

import pytest
import stripe
from django.contrib.auth.models import Group
from django.urls import reverse

from portal.models import Price, TariffBracket, User
from tests.portal.fixtures_planning import *  # noqa: F403

WEBHOOK_SECRET = "whsec_test_secret"
SECRET_KEY = "sk_test_key"
UNIT = 310  # 3,10 € a meal for the Duponts' bracket


@pytest.fixture
def priced(dupont, martin, meal, care):
    bracket = TariffBracket.objects.create(name="Tranche B")
    Price.objects.create(ticket_type=meal, bracket=bracket, unit_cents=UNIT)
    Price.objects.create(ticket_type=care, bracket=bracket, unit_cents=150)
    for family in (dupont["family"], martin["family"]):
        family.tariff_bracket = bracket
        family.save()
    return bracket


@pytest.fixture
def stripe_on(settings):
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    return settings


@pytest.fixture
def agents_group_member(db):
    user = User.objects.create_user(email="regie@example.org", password="x" * 12, is_staff=True)
    user.groups.add(Group.objects.get(name="Agents"))
    return user


def session_dict(purchase, *, sid="cs_test_1", status="complete", payment_status="paid", pi="pi_test_1",
                 amount=None):
    """A Checkout Session as Stripe's API returns it (the fields Préau reads)."""
    return {
        "id": sid, "object": "checkout.session", "url": f"https://checkout.stripe.com/c/pay/{sid}",
        "status": status, "payment_status": payment_status, "client_reference_id": str(purchase.token),
        "amount_total": purchase.amount_cents if amount is None else amount, "currency": "eur",
        "payment_intent": pi if payment_status == "paid" else None,
        "metadata": {"purchase_token": str(purchase.token)}, "created": int(time.time()),
    }


def stripe_object(data):
    return stripe.checkout.Session.construct_from(data, SECRET_KEY)


def event_dict(event_type, obj, *, event_id="evt_test_1"):
    return {"id": event_id, "object": "event", "type": event_type, "api_version": "2025-01-27.acacia",
            "created": int(time.time()), "data": {"object": obj}}


def sign(payload, *, secret=WEBHOOK_SECRET, timestamp=None):
    return stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)


def post_event(client, event, *, header=None, body=None):
    payload = json.dumps(event)
    return client.post(reverse("portal:stripe_webhook"), data=body if body is not None else payload,
                       content_type="application/json",
                       HTTP_STRIPE_SIGNATURE=header if header is not None else sign(payload))


def mock_create(session):
    return mock.patch("stripe.checkout.Session.create", return_value=stripe_object(session))


def mock_retrieve(session):
    return mock.patch("stripe.checkout.Session.retrieve", return_value=stripe_object(session))
