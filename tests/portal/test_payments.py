"""Buying tickets: Stripe Checkout (mocked at the HTTP client), the demo provider, the return page."""

import datetime
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from portal.models import Closure, LedgerEntry, Purchase, Receipt, Wallet
from portal.payments import get_provider
from portal.services.booking import book_day
from portal.services.payments import AmountMismatch, PaymentError, purchases
from portal.services.town import town_settings
from tests.portal.fixtures_payments import *  # noqa: F403
from tests.portal.fixtures_payments import (
    UNIT,
    mock_create,
    mock_retrieve,
    session_dict,
    stripe_object,
)
from tests.portal.fixtures_planning import MONDAY, NOW, give_tickets


def balance(family, ticket_type):
    return Wallet.objects.filter(family=family, ticket_type=ticket_type).values_list(
        "balance", flat=True).first() or 0


def credits(family):
    return LedgerEntry.objects.filter(wallet__family=family, kind=LedgerEntry.Kind.PURCHASE).count()


# Prices, limits and suggestions ------------------------------------------------------------------

def test_suggestions_count_the_usual_weekdays_still_open_this_week_month_and_until_the_holidays(
        dupont, canteen, meal, priced):
    give_tickets(dupont["family"], meal, 3)
    book_day(dupont["child"], canteen, MONDAY, by=dupont["user"], now=NOW)
    book_day(dupont["child"], canteen, MONDAY + datetime.timedelta(days=1), by=dupont["user"], now=NOW)
    Closure.objects.create(kind=Closure.Kind.SCHOOL_HOLIDAY, reason="Toussaint",
                           start=datetime.date(2026, 10, 17), end=datetime.date(2026, 11, 1))
    lines = {s["key"]: s for s in purchases.suggestions(dupont["family"], meal, now=NOW)}
    # Monday 7 and Tuesday 8 are past the deadline; 14 and 15 are booked already.
    assert lines["week"]["needed"] == 0 and lines["week"]["quantity"] == 0
    assert lines["month"]["needed"] == 4  # 21, 22, 28, 29 September
    assert lines["holidays"]["needed"] == 8  # … and 5, 6, 12, 13 October
    assert lines["month"]["balance"] == 1
    assert (lines["month"]["missing"], lines["holidays"]["missing"]) == (3, 7)
    assert lines["holidays"]["quantity"] == 7


def test_suggestions_respect_the_towns_minimum_quantity(dupont, canteen, meal, priced):
    town = town_settings()
    town.purchase_min_quantity = 5
    town.save()
    give_tickets(dupont["family"], meal, 1)
    book_day(dupont["child"], canteen, MONDAY, by=dupont["user"], now=NOW)
    lines = {s["key"]: s for s in purchases.suggestions(dupont["family"], meal, now=NOW)}
    assert lines["month"]["missing"] == 2 and lines["month"]["quantity"] == 5  # Mondays 21 and 28


def test_the_suggestions_cost_the_same_queries_whatever_the_number_of_bookings(
        dupont, canteen, meal, priced):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    give_tickets(dupont["family"], meal, 40)

    def count():
        purchases.suggestions(dupont["family"], meal, now=NOW)  # warm the per-process caches
        with CaptureQueriesContext(connection) as ctx:
            purchases.suggestions(dupont["family"], meal, now=NOW)
        return len(ctx)

    book_day(dupont["child"], canteen, MONDAY, by=dupont["user"], now=NOW)
    few = count()
    day = MONDAY + datetime.timedelta(days=1)
    for _ in range(30):
        if canteen.runs_on(day):
            book_day(dupont["child"], canteen, day, by=dupont["user"], now=NOW)
        day += datetime.timedelta(days=1)
    assert count() == few <= 20


def test_the_buy_page_shows_the_familys_price_the_suggestions_and_the_no_refund_warning(
        client, dupont, canteen, meal, priced):
    client.force_login(dupont["user"])
    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse("portal:payment_buy"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "3,10 €" in page
    assert "ne sont pas remboursés" in page
    assert "Mode démonstration" in page  # no Stripe key in the test settings
    assert "Cette semaine" in page and "Ce mois-ci" in page


def test_quantities_outside_the_towns_limits_are_refused_with_a_message_and_nothing_is_created(
        client, dupont, canteen, meal, priced):
    client.force_login(dupont["user"])
    for bad in ("0", "101", "-3", "abc", ""):
        response = client.post(reverse("portal:payment_buy"), {"ticket_type": meal.pk, "quantity": bad})
        assert response.status_code == 400
        assert "Choisissez entre 1 et 100 tickets" in response.content.decode()
    assert not Purchase.objects.exists()


def test_a_family_without_a_price_for_its_bracket_is_told_to_contact_the_town_hall(
        client, dupont, canteen, meal):
    client.force_login(dupont["user"])
    response = client.get(reverse("portal:payment_buy"))
    assert "contactez la mairie" in response.content.decode()
    with pytest.raises(PaymentError):
        purchases.start_purchase(dupont["family"], meal, 3, by=dupont["user"])


def test_the_price_is_fixed_at_purchase_time(dupont, meal, priced):
    purchase = purchases.start_purchase(dupont["family"], meal, 4, by=dupont["user"])
    meal.prices.update(unit_cents=999)
    purchase.refresh_from_db()
    assert (purchase.unit_cents, purchase.amount_cents) == (UNIT, 4 * UNIT)


# Stripe Checkout ---------------------------------------------------------------------------------

def test_the_stripe_provider_is_used_only_when_a_secret_key_is_set(settings):
    settings.STRIPE_SECRET_KEY = ""
    assert get_provider().NAME == "demo"
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    assert get_provider().NAME == "stripe"


def test_a_double_click_makes_one_purchase_and_one_checkout_session_with_an_idempotency_key(
        client, stripe_on, dupont, canteen, meal, priced):
    client.force_login(dupont["user"])
    token = "5b0a5f0e-1d7c-4e57-9a3e-6a0f0c1d2e3f"
    with mock.patch("stripe.checkout.Session.create") as create:
        create.side_effect = lambda **kw: stripe_object(session_dict(Purchase.objects.get(),
                                                                     sid="cs_test_once"))
        first = client.post(reverse("portal:payment_buy"), {"ticket_type": meal.pk, "quantity": "5",
                                                            "token": token})
        second = client.post(reverse("portal:payment_buy"), {"ticket_type": meal.pk, "quantity": "5",
                                                             "token": token})
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == "https://checkout.stripe.com/c/pay/cs_test_once"
    purchase = Purchase.objects.get()
    assert create.call_count == 1
    kwargs = create.call_args.kwargs
    assert kwargs["idempotency_key"] == f"preau-purchase-{purchase.token}"
    assert kwargs["api_key"] == "sk_test_key"
    assert kwargs["line_items"][0]["quantity"] == 5
    assert kwargs["line_items"][0]["price_data"]["unit_amount"] == UNIT
    assert kwargs["line_items"][0]["price_data"]["currency"] == "eur"
    assert kwargs["success_url"].endswith("/famille/paiement/retour/?session_id={CHECKOUT_SESSION_ID}")
    assert (purchase.state, purchase.session_id, purchase.method) == ("pending", "cs_test_once", "card")
    assert balance(dupont["family"], meal) == 0


def test_stripe_being_down_leaves_a_clear_message_and_nothing_charged(client, stripe_on, dupont, canteen,
                                                                      meal, priced):
    import stripe

    client.force_login(dupont["user"])
    with mock.patch("stripe.checkout.Session.create", side_effect=stripe.APIConnectionError("down")):
        response = client.post(reverse("portal:payment_buy"), {"ticket_type": meal.pk, "quantity": "5"})
    assert response.status_code == 400
    assert "ne répond pas" in response.content.decode()
    assert balance(dupont["family"], meal) == 0


def _pending_card_purchase(dupont, meal, quantity=5, sid="cs_test_1"):
    purchase = purchases.start_purchase(dupont["family"], meal, quantity, by=dupont["user"])
    with mock_create(session_dict(purchase, sid=sid, status="open", payment_status="unpaid")):
        purchases.open_checkout(purchase, success_url="http://testserver/r/", cancel_url="http://testserver/c/")
    purchase.refresh_from_db()
    return purchase


def test_the_return_page_credits_a_paid_session_once_issues_a_receipt_and_mails_it(
        client, stripe_on, dupont, canteen, meal, priced, django_capture_on_commit_callbacks):
    purchase = _pending_card_purchase(dupont, meal)
    client.force_login(dupont["user"])
    url = reverse("portal:payment_return") + f"?session_id={purchase.session_id}"
    with mock_retrieve(session_dict(purchase)) as retrieve, \
            django_capture_on_commit_callbacks(execute=True):
        first = client.get(url)
        second = client.get(url)
    assert first.status_code == second.status_code == 200
    assert "Paiement reçu : 5 tickets Repas" in first.content.decode()
    assert retrieve.call_count == 1  # once paid, the page no longer asks Stripe
    assert balance(dupont["family"], meal) == 5 and credits(dupont["family"]) == 1
    purchase.refresh_from_db()
    assert purchase.state == "paid" and purchase.payment_id == "pi_test_1"
    assert purchase.receipt.label.endswith("-000001")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["dupont@example.org"]
    assert purchase.receipt.label in message.subject
    name, content, mimetype = message.attachments[0]
    assert mimetype == "application/pdf" and content.startswith(b"%PDF")


@pytest.mark.parametrize("status,payment_status,state,text", [
    ("open", "unpaid", "pending", "pas encore confirmé"),
    ("complete", "unpaid", "pending", "pas encore confirmé"),
    ("expired", "unpaid", "expired", "a expiré"),
])
def test_an_unpaid_or_expired_session_credits_nothing_and_the_page_says_so(
        client, stripe_on, dupont, canteen, meal, priced, status, payment_status, state, text):
    purchase = _pending_card_purchase(dupont, meal)
    client.force_login(dupont["user"])
    with mock_retrieve(session_dict(purchase, status=status, payment_status=payment_status)):
        response = client.get(reverse("portal:payment_return") + f"?session_id={purchase.session_id}")
    assert text in response.content.decode()
    purchase.refresh_from_db()
    assert purchase.state == state
    assert balance(dupont["family"], meal) == 0 and not Receipt.objects.exists()


def test_a_paid_session_whose_amount_differs_from_the_purchase_is_not_credited(
        stripe_on, dupont, canteen, meal, priced):
    purchase = _pending_card_purchase(dupont, meal)
    from portal.payments.stripe import session_from_dict

    with pytest.raises(AmountMismatch):
        purchases.settle_session(session_from_dict(session_dict(purchase, amount=1)))
    assert balance(dupont["family"], meal) == 0


def test_the_return_page_of_another_familys_session_is_a_404_and_credits_nothing(
        client, stripe_on, dupont, martin, canteen, meal, priced):
    purchase = _pending_card_purchase(dupont, meal)
    client.force_login(martin["user"])
    with mock_retrieve(session_dict(purchase)) as retrieve:
        response = client.get(reverse("portal:payment_return") + f"?session_id={purchase.session_id}")
    assert response.status_code == 404
    assert retrieve.call_count == 0
    assert balance(dupont["family"], meal) == 0 and balance(martin["family"], meal) == 0


def test_coming_back_without_paying_marks_the_purchase_abandoned(client, stripe_on, dupont, canteen, meal,
                                                                 priced):
    purchase = _pending_card_purchase(dupont, meal)
    client.force_login(dupont["user"])
    response = client.get(reverse("portal:payment_cancel") + f"?achat={purchase.token}")
    assert "rien n’a été débité" in response.content.decode()
    purchase.refresh_from_db()
    assert purchase.state == "cancelled"
    # A payment that completes after all (back button on Stripe's page) still credits.
    from portal.payments.stripe import session_from_dict

    purchases.settle_session(session_from_dict(session_dict(purchase)))
    assert balance(dupont["family"], meal) == 5


def test_a_bad_token_on_the_cancel_page_is_a_404(client, dupont):
    client.force_login(dupont["user"])
    assert client.get(reverse("portal:payment_cancel") + "?achat=nope").status_code == 404


# Demo provider -----------------------------------------------------------------------------------

def _buy_with_demo(client, dupont, meal, quantity="4"):
    client.force_login(dupont["user"])
    response = client.post(reverse("portal:payment_buy"), {"ticket_type": meal.pk, "quantity": quantity})
    assert response.status_code == 302
    assert response["Location"].startswith("/famille/paiement/demo/demo_cs_")
    return response["Location"]


def test_the_demo_provider_pays_through_the_same_path_as_stripe(client, dupont, canteen, meal, priced):
    demo_url = _buy_with_demo(client, dupont, meal)
    page = client.get(demo_url).content.decode()
    assert "Ceci n’est pas un vrai paiement" in page and "12,40 €" in page
    back = client.post(demo_url, {"outcome": "paid"})
    assert back["Location"].startswith("http://testserver/famille/paiement/retour/?session_id=demo_cs_")
    response = client.get(back["Location"])
    assert "Paiement reçu : 4 tickets Repas" in response.content.decode()
    purchase = Purchase.objects.get()
    assert (purchase.method, purchase.provider, purchase.state) == ("demo", "demo", "paid")
    assert balance(dupont["family"], meal) == 4 and Receipt.objects.count() == 1
    # Reloading the return page or the demo page changes nothing.
    client.get(back["Location"])
    client.post(demo_url, {"outcome": "paid"})
    assert balance(dupont["family"], meal) == 4 and credits(dupont["family"]) == 1


def test_a_refused_demo_payment_credits_nothing(client, dupont, canteen, meal, priced):
    demo_url = _buy_with_demo(client, dupont, meal)
    response = client.get(client.post(demo_url, {"outcome": "failed"})["Location"])
    assert "refusé" in response.content.decode()
    assert Purchase.objects.get().state == "failed" and balance(dupont["family"], meal) == 0


def test_an_abandoned_demo_payment_credits_nothing(client, dupont, canteen, meal, priced):
    demo_url = _buy_with_demo(client, dupont, meal)
    response = client.get(client.post(demo_url, {"outcome": "cancel"})["Location"])
    assert "abandonné" in response.content.decode()
    assert Purchase.objects.get().state == "cancelled" and balance(dupont["family"], meal) == 0


def test_an_unknown_demo_outcome_is_a_400_and_changes_nothing(client, dupont, canteen, meal, priced):
    demo_url = _buy_with_demo(client, dupont, meal)
    assert client.post(demo_url, {"outcome": "jackpot"}).status_code == 400
    assert Purchase.objects.get().state == "pending"


def test_another_family_cannot_open_or_settle_a_demo_payment(client, dupont, martin, canteen, meal, priced):
    demo_url = _buy_with_demo(client, dupont, meal)
    client.force_login(martin["user"])
    assert client.get(demo_url).status_code == 404
    assert client.post(demo_url, {"outcome": "paid"}).status_code == 404
    assert Purchase.objects.get().state == "pending"


# Receipts ----------------------------------------------------------------------------------------

def test_the_family_downloads_its_receipt_as_printable_html_and_pdf(client, dupont, canteen, meal, priced):
    client.get(client.post(_buy_with_demo(client, dupont, meal), {"outcome": "paid"})["Location"])
    purchase = Purchase.objects.get()
    html = client.get(reverse("portal:payment_receipt", args=[purchase.pk]))
    assert html.status_code == 200 and purchase.receipt.label in html.content.decode()
    assert "12,40 €" in html.content.decode()
    pdf = client.get(reverse("portal:payment_receipt_pdf", args=[purchase.pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    listing = client.get(reverse("portal:payment_list")).content.decode()
    assert purchase.receipt.label in listing


def test_an_unpaid_purchase_has_no_receipt_page(client, dupont, canteen, meal, priced):
    _buy_with_demo(client, dupont, meal)
    purchase = Purchase.objects.get()
    assert client.get(reverse("portal:payment_receipt", args=[purchase.pk])).status_code == 404


def test_receipt_numbers_follow_each_other_and_restart_each_year(dupont, meal, priced, agent):
    with time_machine.travel(datetime.datetime(2026, 12, 31, 12, 0, tzinfo=datetime.UTC), tick=False):
        a = purchases.record_town_hall_payment(dupont["family"], meal, 1, "cash", by=agent)
        b = purchases.record_town_hall_payment(dupont["family"], meal, 2, "cash", by=agent)
    # 23:30 UTC on 31 December is already 1 January in Paris.
    with time_machine.travel(datetime.datetime(2026, 12, 31, 23, 30, tzinfo=datetime.UTC), tick=False):
        c = purchases.record_town_hall_payment(dupont["family"], meal, 3, "cash", by=agent)
    labels = [Purchase.objects.get(pk=p.pk).receipt.label for p in (a, b, c)]
    assert labels == ["2026-000001", "2026-000002", "2027-000001"]


def test_a_failed_payment_gives_its_receipt_number_back(dupont, meal, priced, agent):
    purchases.record_town_hall_payment(dupont["family"], meal, 1, "cash", by=agent)
    with mock.patch("portal.services.audit.record_action", side_effect=RuntimeError("disk full")), \
            pytest.raises(RuntimeError):
        purchases.record_town_hall_payment(dupont["family"], meal, 1, "cash", by=agent)
    third = purchases.record_town_hall_payment(dupont["family"], meal, 1, "cash", by=agent)
    assert sorted(Receipt.objects.values_list("number", flat=True)) == [1, 2]
    assert third.receipt.number == 2
    assert balance(dupont["family"], meal) == 2
