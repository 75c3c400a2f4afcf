"""Exactly-once crediting and gap-free receipts under real concurrent requests (PostgreSQL)."""

import json
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from portal.models import LedgerEntry, Purchase, Receipt, StripeEvent, Wallet
from portal.services import audit
from portal.services.payments import purchases
from tests.portal.fixtures_payments import *  # noqa: F403
from tests.portal.fixtures_payments import (
    event_dict,
    mock_create,
    session_dict,
    sign,
    stripe_object,
)
from tests.portal.test_concurrency import run_concurrently

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="row locks and real concurrency need PostgreSQL (set DATABASE_URL)"),
]


def test_one_event_delivered_10_times_at_once_plus_5_return_pages_credit_exactly_once(
        stripe_on, dupont, canteen, meal, priced):
    purchase = purchases.start_purchase(dupont["family"], meal, 5, by=dupont["user"])
    with mock_create(session_dict(purchase, status="open", payment_status="unpaid")):
        purchases.open_checkout(purchase, success_url="http://testserver/r/", cancel_url="http://testserver/c/")
    purchase.refresh_from_db()
    payload = json.dumps(event_dict("checkout.session.completed", session_dict(purchase)))
    return_url = reverse("portal:payment_return") + f"?session_id={purchase.session_id}"

    def deliver():
        return Client().post(reverse("portal:stripe_webhook"), data=payload, content_type="application/json",
                             HTTP_STRIPE_SIGNATURE=sign(payload)).status_code

    def come_back():
        client = Client()
        client.force_login(dupont["user"])
        return client.get(return_url).status_code

    with mock.patch("stripe.checkout.Session.retrieve", return_value=stripe_object(session_dict(purchase))):
        results = run_concurrently(lambda kind: deliver() if kind == "hook" else come_back(),
                                   [("hook",)] * 10 + [("return",)] * 5)
    assert results == [200] * 15
    assert LedgerEntry.objects.filter(kind="purchase").count() == 1
    assert Wallet.objects.get(family=dupont["family"], ticket_type=meal).balance == 5
    assert Receipt.objects.count() == 1
    assert StripeEvent.objects.count() == 1 and StripeEvent.objects.get().processed_at is not None


def test_concurrent_purchases_get_receipt_numbers_without_gap_or_duplicate(school, meal, priced):
    from portal.models import User
    from tests.portal.fixtures_planning import make_family

    families = []
    for i in range(30):
        _user, family, _kids = make_family(f"R{i}", f"r{i}@example.org", school)
        family.tariff_bracket = priced
        family.save()
        families.append(family)
    agent = User.objects.create_user(email="caisse@example.org", password="x" * 12)

    failing = {f.pk for i, f in enumerate(families) if i % 5 == 0}
    real = audit.record_action

    def flaky(actor, action, family=None, **kwargs):
        # A payment that fails after taking its number must give it back.
        if family is not None and family.pk in failing:
            raise RuntimeError("boom")
        return real(actor, action, family, **kwargs)

    def pay(family_pk):
        family = type(families[0]).objects.get(pk=family_pk)
        try:
            purchases.record_town_hall_payment(family, meal, 1, "cash", by=agent)
            return "ok"
        except RuntimeError:
            return "failed"

    with mock.patch("portal.services.audit.record_action", side_effect=flaky):
        results = run_concurrently(pay, [(f.pk,) for f in families])
    assert results.count("ok") == 24
    numbers = sorted(Receipt.objects.values_list("number", flat=True))
    assert numbers == list(range(1, 25))
    assert Purchase.objects.filter(state="paid").count() == 24
