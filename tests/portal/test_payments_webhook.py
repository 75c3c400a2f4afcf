"""Stripe's webhook, signed for real, and reconciliation (Stripe's HTTP mocked at the client)."""

import datetime
import hashlib
import hmac
import json
import time
from unittest import mock

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from portal.models import Dispute, LedgerEntry, Purchase, Refund, StripeEvent, Wallet
from portal.services.payments import purchases, webhook
from tests.portal.fixtures_payments import *  # noqa: F403
from tests.portal.fixtures_payments import (
    WEBHOOK_SECRET,
    event_dict,
    mock_create,
    post_event,
    session_dict,
    sign,
    stripe_object,
)


def balance(family, ticket_type):
    return Wallet.objects.filter(family=family, ticket_type=ticket_type).values_list(
        "balance", flat=True).first() or 0


@pytest.fixture
def pending(stripe_on, dupont, canteen, meal, priced):
    purchase = purchases.start_purchase(dupont["family"], meal, 5, by=dupont["user"])
    with mock_create(session_dict(purchase, status="open", payment_status="unpaid")):
        purchases.open_checkout(purchase, success_url="http://testserver/r/", cancel_url="http://testserver/c/")
    purchase.refresh_from_db()
    return purchase


def completed(purchase, event_id="evt_test_1", **kwargs):
    return event_dict("checkout.session.completed", session_dict(purchase, **kwargs), event_id=event_id)


def test_a_signed_completed_session_credits_the_tickets(client, pending, dupont, meal):
    response = post_event(client, completed(pending))
    assert response.status_code == 200 and response.json() == {"status": "processed"}
    assert balance(dupont["family"], meal) == 5
    pending.refresh_from_db()
    assert pending.state == "paid" and pending.receipt.number == 1
    assert StripeEvent.objects.get().processed_at is not None


def test_the_signature_is_stripes_scheme_hmac_sha256_of_timestamp_dot_payload(client, pending, dupont, meal):
    payload = json.dumps(completed(pending))
    t = int(time.time())
    v1 = hmac.new(WEBHOOK_SECRET.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    assert sign(payload, timestamp=t) == f"t={t},v1={v1}"
    response = client.post(reverse("portal:stripe_webhook"), data=payload, content_type="application/json",
                           HTTP_STRIPE_SIGNATURE=f"t={t},v1={v1}")
    assert response.status_code == 200
    assert balance(dupont["family"], meal) == 5


def test_a_tampered_body_is_refused_with_400_and_nothing_is_written(client, pending, dupont, meal):
    event = completed(pending)
    payload = json.dumps(event)
    header = sign(payload)
    tampered = payload.replace('"amount_total": 1550', '"amount_total": 1')
    assert tampered != payload
    response = post_event(client, event, header=header, body=tampered)
    assert response.status_code == 400
    assert not StripeEvent.objects.exists() and balance(dupont["family"], meal) == 0


def test_a_stale_timestamp_is_refused_with_400(client, pending, dupont, meal):
    event = completed(pending)
    payload = json.dumps(event)
    response = post_event(client, event, header=sign(payload, timestamp=int(time.time()) - 600))
    assert response.status_code == 400
    assert not StripeEvent.objects.exists() and balance(dupont["family"], meal) == 0


@pytest.mark.parametrize("header", ["", "t=1,v1=abc", "garbage"])
def test_a_missing_or_malformed_signature_is_refused_with_400(client, pending, header):
    assert post_event(client, completed(pending), header=header).status_code == 400
    assert not StripeEvent.objects.exists()


def test_a_wrong_secret_is_refused_with_400(client, pending):
    event = completed(pending)
    response = post_event(client, event, header=sign(json.dumps(event), secret="whsec_other"))
    assert response.status_code == 400


def test_without_a_configured_secret_every_delivery_is_refused(client, pending, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    assert post_event(client, completed(pending)).status_code == 400
    assert not StripeEvent.objects.exists()


def test_the_webhook_accepts_only_post(client, stripe_on):
    assert client.get(reverse("portal:stripe_webhook")).status_code == 405


def test_a_duplicate_event_credits_once(client, pending, dupont, meal):
    event = completed(pending)
    assert post_event(client, event).json() == {"status": "processed"}
    assert post_event(client, event).json() == {"status": "duplicate"}
    # The same payment announced by another event (e.g. async succeeded) changes nothing either.
    other = event_dict("checkout.session.async_payment_succeeded", session_dict(pending), event_id="evt_2")
    assert post_event(client, other).status_code == 200
    assert balance(dupont["family"], meal) == 5
    assert LedgerEntry.objects.filter(kind="purchase").count() == 1
    assert StripeEvent.objects.count() == 2


def test_return_page_then_webhook_credit_once(client, pending, dupont, meal):
    from tests.portal.fixtures_payments import mock_retrieve

    client.force_login(dupont["user"])
    with mock_retrieve(session_dict(pending)):
        client.get(reverse("portal:payment_return") + f"?session_id={pending.session_id}")
    assert post_event(client, completed(pending)).status_code == 200
    assert balance(dupont["family"], meal) == 5
    assert LedgerEntry.objects.filter(kind="purchase").count() == 1


def test_an_unhandled_event_type_is_stored_and_answered_200(client, db, stripe_on):
    event = event_dict("customer.created", {"id": "cus_1", "object": "customer"}, event_id="evt_cus")
    response = post_event(client, event)
    assert response.status_code == 200 and response.json() == {"status": "ignored"}
    stored = StripeEvent.objects.get()
    assert stored.type == "customer.created" and stored.processed_at is not None


def test_a_processing_failure_answers_500_keeps_the_event_unprocessed_then_the_retry_credits_once(
        client, pending, dupont, meal):
    event = completed(pending)
    real = purchases.settle_session
    with mock.patch("portal.services.payments.webhook.settle_session",
                    side_effect=RuntimeError("database hiccup")):
        response = post_event(client, event)
    assert response.status_code == 500
    stored = StripeEvent.objects.get()
    assert stored.processed_at is None and stored.attempts == 1 and "database hiccup" in stored.last_error
    assert balance(dupont["family"], meal) == 0
    assert purchases.settle_session is real
    # Stripe retries the same event later.
    assert post_event(client, event).json() == {"status": "processed"}
    assert post_event(client, event).json() == {"status": "duplicate"}
    stored.refresh_from_db()
    assert stored.processed_at is not None and stored.attempts == 2 and stored.last_error == ""
    assert balance(dupont["family"], meal) == 5
    assert LedgerEntry.objects.filter(kind="purchase").count() == 1


def test_an_async_payment_failure_marks_the_purchase_failed(client, pending, dupont, meal):
    event = event_dict("checkout.session.async_payment_failed",
                       session_dict(pending, status="complete", payment_status="unpaid"))
    assert post_event(client, event).status_code == 200
    pending.refresh_from_db()
    assert pending.state == "failed" and balance(dupont["family"], meal) == 0


def test_an_expired_session_marks_the_purchase_expired(client, pending, dupont, meal):
    event = event_dict("checkout.session.expired", session_dict(pending, status="expired",
                                                                 payment_status="unpaid"))
    assert post_event(client, event).status_code == 200
    pending.refresh_from_db()
    assert pending.state == "expired" and balance(dupont["family"], meal) == 0


def test_a_refund_made_on_stripe_takes_back_tickets_but_never_below_zero(client, pending, dupont, canteen,
                                                                        meal):
    from portal.services.booking import book_day
    from tests.portal.fixtures_planning import MONDAY, NOW

    post_event(client, completed(pending))
    for offset in (0, 1, 3):
        book_day(dupont["child"], canteen, MONDAY + datetime.timedelta(days=offset),
                 by=dupont["user"], now=NOW)
    assert balance(dupont["family"], meal) == 2
    charge = {"id": "ch_1", "object": "charge", "payment_intent": "pi_test_1", "amount_refunded": 1550}
    assert post_event(client, event_dict("charge.refunded", charge, event_id="evt_r")).status_code == 200
    refund = Refund.objects.get()
    assert (refund.amount_cents, refund.quantity) == (1550, 2)
    assert balance(dupont["family"], meal) == 0
    pending.refresh_from_db()
    assert (pending.refunded_cents, pending.refunded_quantity) == (1550, 2)
    # The same cumulative amount again records nothing more.
    post_event(client, event_dict("charge.refunded", charge, event_id="evt_r2"))
    assert Refund.objects.count() == 1


def test_a_dispute_is_recorded_and_alerts_the_agents_without_touching_the_balance(
        client, pending, dupont, meal, agents_group_member, django_capture_on_commit_callbacks):
    post_event(client, completed(pending))
    mail.outbox.clear()
    dispute = {"id": "dp_1", "object": "dispute", "payment_intent": "pi_test_1", "amount": 1550,
               "reason": "fraudulent", "status": "needs_response"}
    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(client, event_dict("charge.dispute.created", dispute, event_id="evt_d"))
    assert response.status_code == 200
    recorded = Dispute.objects.get()
    assert recorded.purchase == pending and recorded.status == "needs_response"
    assert [m.to for m in mail.outbox] == [["regie@example.org"]]
    assert "15,50 €" in mail.outbox[0].body
    assert balance(dupont["family"], meal) == 5
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, event_dict("charge.dispute.closed", {**dispute, "status": "won"},
                                      event_id="evt_d2"))
    assert Dispute.objects.get().status == "won" and len(mail.outbox) == 1


# Reconciliation ----------------------------------------------------------------------------------

class FakeList:
    def __init__(self, items):
        self.items = items

    def auto_paging_iter(self):
        return iter(self.items)


def test_reconciliation_credits_a_paid_session_whose_webhook_and_return_were_missed(pending, dupont, meal):
    unknown = Purchase(token="0b7e3b7e-0000-4000-8000-000000000000", amount_cents=999)
    sessions = [stripe_object(session_dict(pending)),
                stripe_object({**session_dict(unknown, sid="cs_stranger"), "client_reference_id": None,
                               "metadata": {}})]
    with mock.patch("stripe.checkout.Session.list", return_value=FakeList(sessions)) as listing:
        report = webhook.reconcile()
    assert listing.call_args.kwargs["api_key"] == "sk_test_key"
    assert report["credited"] == 1 and report["checked"] == 2
    assert any("cs_stranger" in p for p in report["problems"])
    assert balance(dupont["family"], meal) == 5
    with mock.patch("stripe.checkout.Session.list", return_value=FakeList(sessions[:1])):
        assert webhook.reconcile()["credited"] == 0
    assert balance(dupont["family"], meal) == 5


def test_the_reconcile_command_reports_what_it_did(pending, dupont, meal):
    from io import StringIO

    out = StringIO()
    with mock.patch("stripe.checkout.Session.list",
                    return_value=FakeList([stripe_object(session_dict(pending))])):
        call_command("reconcile_payments", "--days", "2", stdout=out)
    assert "1 paiement(s) crédité(s)" in out.getvalue() and "Aucun écart" in out.getvalue()
    assert balance(dupont["family"], meal) == 5


def test_the_reconcile_task_runs_through_django_tasks(pending, dupont, meal):
    from portal.tasks import reconcile_payments

    with mock.patch("stripe.checkout.Session.list",
                    return_value=FakeList([stripe_object(session_dict(pending, status="expired",
                                                                      payment_status="unpaid"))])):
        result = reconcile_payments.enqueue(days=1)
    assert result.return_value["expired"] == 1
    pending.refresh_from_db()
    assert pending.state == "expired"


def test_reconciliation_with_stripe_down_fails_loudly(pending):
    import stripe

    with mock.patch("stripe.checkout.Session.list", side_effect=stripe.APIConnectionError("down")), \
            pytest.raises(Exception, match="ne répond pas"):
        call_command("reconcile_payments")


# Out of order, currency, future timestamps (issue 18 §3) -----------------------------------------

REFUND = {"id": "ch_1", "object": "charge", "payment_intent": "pi_test_1", "amount_refunded": 620}


def test_a_refund_that_arrives_before_its_payment_is_kept_and_applied_once_the_payment_is(
        client, pending, dupont, meal):
    early = post_event(client, event_dict("charge.refunded", REFUND, event_id="evt_refund"))
    # Not dropped as processed: Stripe is asked to deliver it again.
    assert early.status_code == 500
    assert StripeEvent.objects.get(event_id="evt_refund").processed_at is None
    assert post_event(client, completed(pending)).status_code == 200
    pending.refresh_from_db()
    assert (pending.refunded_cents, pending.refunded_quantity) == (620, 2)
    assert balance(dupont["family"], meal) == 3
    assert StripeEvent.objects.get(event_id="evt_refund").processed_at is not None
    # Stripe's redelivery of the refund changes nothing more.
    again = post_event(client, event_dict("charge.refunded", REFUND, event_id="evt_refund"))
    assert again.json() == {"status": "duplicate"}
    assert Refund.objects.count() == 1 and balance(dupont["family"], meal) == 3


def test_a_redelivered_early_refund_is_applied_when_the_return_page_credited_first(
        client, pending, dupont, meal):
    from tests.portal.fixtures_payments import mock_retrieve

    assert post_event(client, event_dict("charge.refunded", REFUND, event_id="evt_refund")).status_code == 500
    with mock_retrieve(session_dict(pending)):
        purchases.confirm_return(pending.session_id, dupont["family"])
    retry = post_event(client, event_dict("charge.refunded", REFUND, event_id="evt_refund"))
    assert retry.json() == {"status": "processed"}
    assert balance(dupont["family"], meal) == 3


def test_a_session_paid_in_another_currency_credits_nothing(client, pending, dupont, meal):
    event = completed(pending)
    event["data"]["object"]["currency"] = "usd"
    assert post_event(client, event).status_code == 500
    pending.refresh_from_db()
    assert pending.state == "pending" and balance(dupont["family"], meal) == 0
    assert "usd" in StripeEvent.objects.get().last_error


def test_a_signed_event_dated_in_the_future_is_refused(client, pending, dupont, meal):
    payload = json.dumps(completed(pending))
    header = sign(payload, timestamp=int(time.time()) + 3600)
    response = post_event(client, None, header=header, body=payload)
    assert response.status_code == 400
    assert not StripeEvent.objects.exists() and balance(dupont["family"], meal) == 0
    # Within the tolerance (clocks drift a little) it is accepted.
    ok = post_event(client, None, header=sign(payload, timestamp=int(time.time()) + 60), body=payload)
    assert ok.status_code == 200


def test_reconciliation_records_a_refund_whose_event_was_lost(client, pending, dupont, meal):
    post_event(client, completed(pending))
    paid = session_dict(pending)
    paid["payment_intent"] = {"id": "pi_test_1", "latest_charge": {"id": "ch_1", "amount_refunded": 620}}
    with mock.patch("stripe.checkout.Session.list", return_value=FakeList([stripe_object(paid)])) as listing:
        report = webhook.reconcile()
    assert "data.payment_intent.latest_charge" in listing.call_args.kwargs["expand"]
    assert report["refunded"] == 1
    pending.refresh_from_db()
    assert pending.refunded_cents == 620 and balance(dupont["family"], meal) == 3
    with mock.patch("stripe.checkout.Session.list", return_value=FakeList([stripe_object(paid)])):
        assert webhook.reconcile()["refunded"] == 0
    # Préau counting more refunded than Stripe is reported.
    Purchase.objects.filter(pk=pending.pk).update(refunded_cents=930)
    with mock.patch("stripe.checkout.Session.list", return_value=FakeList([stripe_object(paid)])):
        problems = webhook.reconcile()["problems"]
    assert any("remboursés selon Préau" in p for p in problems)
