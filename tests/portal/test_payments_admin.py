"""Town-hall payments, refunds, the treasury journal and unused tickets (agents, Wagtail admin)."""

import csv
import datetime
import io
from unittest import mock

import pytest
from django.db.models import Sum
from django.urls import reverse

from portal.models import AuditLog, LedgerEntry, Purchase, Wallet
from portal.services.booking import book_day
from portal.services.payments import PaymentError, purchases, refunds, treasury
from tests.factories import make_agent
from tests.portal.fixtures_payments import *  # noqa: F403
from tests.portal.fixtures_payments import mock_create, session_dict
from tests.portal.fixtures_planning import MONDAY, NOW


@pytest.fixture
def town_agent(db):
    return make_agent("regisseur@example.org")


def balance(family, ticket_type):
    return Wallet.objects.filter(family=family, ticket_type=ticket_type).values_list(
        "balance", flat=True).first() or 0


def test_an_agent_records_a_cheque_the_tickets_are_credited_with_a_receipt_and_an_audit_entry(
        client, town_agent, dupont, meal, priced):
    client.force_login(town_agent)
    url = reverse("paiements:add")
    assert "Famille Dupont" in client.get(url, {"q": "dupont@"}).content.decode()
    assert client.get(url, {"family": dupont["family"].pk}).status_code == 200
    response = client.post(url, {"family": dupont["family"].pk, "ticket_type": meal.pk, "quantity": "6",
                                 "method": "cheque", "reference": "0004567"})
    purchase = Purchase.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("paiements:edit", args=[purchase.pk])
    assert (purchase.method, purchase.reference, purchase.amount_cents) == ("cheque", "0004567", 6 * 310)
    assert purchase.receipt.number == 1
    assert balance(dupont["family"], meal) == 6
    log = AuditLog.objects.get(action="payment.town_hall")
    assert log.family == dupont["family"] and log.after["reference"] == "0004567"
    detail = client.get(response["Location"]).content.decode()
    assert purchase.receipt.label in detail
    assert client.get(reverse("paiements:receipt", args=[purchase.pk])).status_code == 200
    assert client.get(reverse("paiements:receipt_pdf", args=[purchase.pk])).content.startswith(b"%PDF")


def test_a_cheque_without_its_number_is_refused_and_nothing_is_credited(client, town_agent, dupont, meal,
                                                                        priced):
    client.force_login(town_agent)
    response = client.post(reverse("paiements:add"), {"family": dupont["family"].pk, "ticket_type": meal.pk,
                                                      "quantity": "6", "method": "cheque"})
    assert response.status_code == 200 and "numéro du chèque" in response.content.decode()
    assert not Purchase.objects.exists() and balance(dupont["family"], meal) == 0


def test_a_family_without_a_bracket_needs_an_explicit_unit_price(town_agent, dupont, meal):
    with pytest.raises(PaymentError):
        purchases.record_town_hall_payment(dupont["family"], meal, 2, "cash", by=town_agent)
    purchase = purchases.record_town_hall_payment(dupont["family"], meal, 2, "cash", by=town_agent,
                                                unit_cents=250)
    assert purchase.amount_cents == 500


def test_a_unit_price_with_fractions_of_a_cent_is_refused(client, town_agent, dupont, meal, priced):
    client.force_login(town_agent)
    response = client.post(reverse("paiements:add"), {"family": dupont["family"].pk, "ticket_type": meal.pk,
                                                      "quantity": "1", "method": "cash",
                                                      "unit_price": "3.105"})
    assert response.status_code == 200 and not Purchase.objects.exists()


def test_families_and_staff_without_the_permission_cannot_record_payments(client, dupont, meal, priced):
    client.force_login(dupont["user"])
    response = client.post(reverse("paiements:add"), {"family": dupont["family"].pk, "ticket_type": meal.pk,
                                                      "quantity": "6", "method": "cash"})
    assert response.status_code in (302, 403)
    assert not Purchase.objects.exists()


def test_a_refund_never_takes_more_tickets_than_the_wallet_holds(town_agent, dupont, canteen, meal, priced):
    purchase = purchases.record_town_hall_payment(dupont["family"], meal, 3, "cash", by=town_agent)
    book_day(dupont["child"], canteen, MONDAY, by=dupont["user"], now=NOW)
    with pytest.raises(PaymentError, match="ne contient que 2"):
        refunds.refund_purchase(purchase, 3, "Départ de la commune", by=town_agent)
    refunds.refund_purchase(purchase, 2, "Départ de la commune", by=town_agent)
    assert balance(dupont["family"], meal) == 0
    purchase.refresh_from_db()
    assert (purchase.refunded_quantity, purchase.refunded_cents) == (2, 620)
    assert AuditLog.objects.filter(action="payment.refund").count() == 1


def test_a_card_refund_goes_through_stripe_for_at_most_what_was_paid(stripe_on, town_agent, dupont, meal,
                                                                    priced, client):
    purchase = purchases.start_purchase(dupont["family"], meal, 4, by=dupont["user"])
    with mock_create(session_dict(purchase, status="open", payment_status="unpaid")):
        purchases.open_checkout(purchase, success_url="http://t/r/", cancel_url="http://t/c/")
    from portal.payments.stripe import session_from_dict

    purchases.settle_session(session_from_dict(session_dict(purchase)))
    with pytest.raises(PaymentError, match="ne peut dépasser"):
        refunds.refund_purchase(purchase, 1, "Départ", by=town_agent, amount_cents=5000)
    with mock.patch("stripe.Refund.create", return_value={"id": "re_1"}) as create:
        client.force_login(town_agent)
        response = client.post(reverse("paiements:edit", args=[purchase.pk]),
                               {"quantity": "4", "amount": "12.40", "reason": "Départ de la commune"})
    assert response.status_code == 302
    kwargs = create.call_args.kwargs
    assert (kwargs["payment_intent"], kwargs["amount"]) == ("pi_test_1", 1240)
    assert kwargs["idempotency_key"].startswith("preau-refund-")
    assert balance(dupont["family"], meal) == 0
    with pytest.raises(PaymentError):
        refunds.refund_purchase(purchase, 1, "Encore", by=town_agent)


def test_a_refused_card_refund_removes_no_ticket(stripe_on, town_agent, dupont, meal, priced):
    import stripe

    purchase = purchases.start_purchase(dupont["family"], meal, 2, by=dupont["user"])
    from portal.payments.stripe import session_from_dict

    purchases.settle_session(session_from_dict(session_dict(purchase)))
    with mock.patch("stripe.Refund.create", side_effect=stripe.InvalidRequestError("no", None)), \
            pytest.raises(PaymentError, match="a échoué"):
        refunds.refund_purchase(purchase, 2, "Départ", by=town_agent)
    assert balance(dupont["family"], meal) == 2
    purchase.refresh_from_db()
    assert purchase.refunded_quantity == 0 and not purchase.refunds.exists()


def test_journal_totals_equal_the_ledgers_purchases(town_agent, dupont, martin, meal, care, priced, client,
                                                    django_capture_on_commit_callbacks):
    purchases.record_town_hall_payment(dupont["family"], meal, 6, "cheque", by=town_agent, reference="1")
    purchases.record_town_hall_payment(martin["family"], meal, 2, "cash", by=town_agent)
    purchases.record_town_hall_payment(martin["family"], care, 3, "cesu", by=town_agent, reference="C9")
    online = purchases.start_purchase(dupont["family"], care, 4, by=dupont["user"])
    from portal.payments import demo

    purchases.open_checkout(online, success_url="/r/", cancel_url="/c/")
    online.refresh_from_db()
    demo.settle(online.session_id, "paid")
    purchases.settle_session(demo.retrieve_session(online.session_id))
    today = datetime.date.today()
    data = treasury.journal(today - datetime.timedelta(days=1), today + datetime.timedelta(days=1))
    bought = LedgerEntry.objects.filter(kind="purchase")
    assert data["total_quantity"] == bought.aggregate(n=Sum("quantity"))["n"] == 15
    assert data["total_cents"] == Purchase.objects.filter(state="paid").aggregate(
        c=Sum("amount_cents"))["c"] == 6 * 310 + 2 * 310 + 3 * 150 + 4 * 150
    by_type = {name: q for name, q, _amount in data["by_type"]}
    assert by_type == {"Repas": 8, "Garderie": 7}
    assert len(data["by_method"]) == 4
    only_cash = treasury.journal(today, today, method="cash")
    assert only_cash["total_cents"] == 620

    client.force_login(town_agent)
    page = client.get(reverse("paiements:journal"))
    assert page.status_code == 200 and "journal-total" in page.content.decode()
    query = {"start": str(today), "end": str(today)}
    exported = client.get(reverse("paiements:journal"), {**query, "export": "csv"})
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Date" and rows[-1][1] == "Total" and rows[-1][7] == "15"
    assert rows[-1][8] == "35,30"
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(client.get(reverse("paiements:journal"), {**query, "export": "xlsx"})
                                    .content))
    sheet = book.worksheets[0]
    assert sheet.max_row == 6 and sheet.cell(row=6, column=8).value == 15


def test_refunds_appear_as_negative_lines_in_the_journal(town_agent, dupont, meal, priced):
    purchase = purchases.record_town_hall_payment(dupont["family"], meal, 5, "cash", by=town_agent)
    refunds.refund_purchase(purchase, 2, "Départ", by=town_agent)
    today = datetime.date.today()
    data = treasury.journal(today, today)
    assert [line.quantity for line in data["lines"]] == [5, -2]
    assert data["total_cents"] == 3 * 310
    assert data["total_quantity"] == LedgerEntry.objects.filter(
        wallet__family=dupont["family"]).aggregate(n=Sum("quantity"))["n"]


def test_unused_tickets_at_a_date_come_from_the_ledger(town_agent, dupont, canteen, meal, priced, client):
    purchases.record_town_hall_payment(dupont["family"], meal, 5, "cash", by=town_agent)
    book_day(dupont["child"], canteen, MONDAY, by=dupont["user"], now=NOW)
    today = datetime.date.today()
    assert treasury.outstanding_tickets(today) == [{"ticket_type": "Repas", "tickets": 4}]
    assert treasury.outstanding_tickets(today - datetime.timedelta(days=1)) == []
    client.force_login(town_agent)
    response = client.get(reverse("paiements:outstanding"), {"at": str(today)})
    assert response.status_code == 200 and "Repas" in response.content.decode()


@pytest.mark.parametrize("name", ["paiements:index", "litiges:index", "evenements-stripe:index",
                                  "paiements:journal", "paiements:outstanding"])
def test_the_payments_admin_pages_open_for_an_agent(client, town_agent, name):
    client.force_login(town_agent)
    assert client.get(reverse(name)).status_code == 200


def test_a_bad_journal_period_shows_an_error_not_a_500(client, town_agent):
    client.force_login(town_agent)
    response = client.get(reverse("paiements:journal"), {"start": "2026-09-30", "end": "2026-09-01"})
    assert response.status_code == 200 and "La fin doit suivre le début" in response.content.decode()
    assert client.get(reverse("paiements:journal"), {"start": "nope", "end": "x", "export": "csv"}
                      ).status_code == 200


def test_the_journal_dates_round_trip_through_the_filter_form(client, town_agent, martin, meal, priced):
    """The page's own date values, sent back with another filter, give the filtered journal."""
    import re

    purchases.record_town_hall_payment(martin["family"], meal, 2, "cash", by=town_agent)
    client.force_login(town_agent)
    page = client.get(reverse("paiements:journal")).content.decode()
    values = dict(re.findall(r'<input type="date" name="(start|end)" value="([^"]*)"', page))
    today = datetime.date.today()
    assert values == {"start": f"{today:%Y-%m}-01", "end": today.isoformat()}
    filtered = client.get(reverse("paiements:journal"), {**values, "method": "cheque"}).content.decode()
    assert "Champ requis" not in filtered and "Ce champ est obligatoire" not in filtered
    assert "Aucune opération sur la période." in filtered
    cash = client.get(reverse("paiements:journal"), {**values, "method": "cash"}).content.decode()
    assert "6,20" in cash and "Aucune opération" not in cash
