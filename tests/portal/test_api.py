"""API v1: tokens (lockout, revocation, last use), each operation's answer and refusal codes,
another family's objects as 404, bad input as a French 4xx, pinned query counts."""

import datetime
import json
import uuid

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from portal.models import AppToken, Booking, Closure, Family, Price, Purchase, TariffBracket
from portal.services import app_tokens
from tests.portal.api_client import API, assert_refused, bearer, delete, new_token, post
from tests.portal.fixtures_planning import *  # noqa: F403
from tests.portal.fixtures_planning import MONDAY, NOW, give_tickets

pytestmark = pytest.mark.django_db

PASSWORD = "x" * 12


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def api(client, dupont):
    """A client speaking for the Duponts with a token."""
    _token, raw = new_token(dupont["user"])
    client.defaults.update(bearer(raw))
    return client




# ---------------------------------------------------------------------------------------------
# Tokens


def test_a_family_gets_a_token_with_its_email_and_password_and_only_its_hash_is_kept(client, dupont):
    response = post(client, "/tokens", {"email": "Dupont@Example.org ", "password": PASSWORD,
                                        "name": "Téléphone de Camille"})
    assert response.status_code == 201
    raw = response.json()["token"]
    stored = AppToken.objects.get(user=dupont["user"])
    assert stored.name == "Téléphone de Camille"
    assert raw not in stored.token_hash and stored.token_hash == app_tokens.hash_token(raw)
    me = Client().get(f"{API}/me", **bearer(raw))
    assert me.status_code == 200 and me.json()["family"]["name"] == "Famille Dupont"


def test_a_wrong_password_gets_no_token(client, dupont):
    response = post(client, "/tokens", {"email": "dupont@example.org", "password": "mauvais essai"})
    assert_refused(response, 401, "invalid_credentials")
    assert not AppToken.objects.exists()


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True


def test_five_failures_lock_the_account_for_the_api_as_for_the_login_form(client, dupont, axes_on):
    for _ in range(5):
        post(client, "/tokens", {"email": "dupont@example.org", "password": "mauvais essai"})
    body = assert_refused(post(client, "/tokens", {"email": "dupont@example.org", "password": PASSWORD}),
                          429, "locked")
    assert "15 minutes" in body["message"]
    # The same counter as the login form: the form is locked too.
    response = client.post(reverse("portal:login"), {"username": "dupont@example.org", "password": PASSWORD})
    assert response.status_code == 429
    assert not AppToken.objects.exists()


def test_failures_on_the_login_form_lock_the_api_too(client, dupont, axes_on):
    for _ in range(5):
        client.post(reverse("portal:login"), {"username": "dupont@example.org", "password": "mauvais"})
    assert_refused(post(client, "/tokens", {"email": "dupont@example.org", "password": PASSWORD}),
                   429, "locked")


def test_a_token_obtained_clears_the_failures_of_that_account(client, dupont, axes_on):
    for _ in range(4):
        post(client, "/tokens", {"email": "dupont@example.org", "password": "mauvais essai"})
    assert post(client, "/tokens", {"email": "dupont@example.org", "password": PASSWORD}).status_code == 201
    for _ in range(4):
        post(client, "/tokens", {"email": "dupont@example.org", "password": "mauvais essai"})
    assert post(client, "/tokens", {"email": "dupont@example.org", "password": PASSWORD}).status_code == 201


def test_agents_get_no_token_and_their_session_gets_403(client, agent):
    agent.set_password(PASSWORD)
    agent.save()
    assert_refused(post(client, "/tokens", {"email": agent.email, "password": PASSWORD}), 403, "not_family")
    client.force_login(agent)
    assert_refused(client.get(f"{API}/me"), 403, "not_family")
    assert_refused(client.get(f"{API}/wallet"), 403, "not_family")


def test_a_revoked_token_no_longer_opens_anything(client, dupont):
    token, raw = new_token(dupont["user"])
    assert delete(client, f"/tokens/{token.public_id}", **bearer(raw)).status_code == 204
    assert_refused(client.get(f"{API}/me", **bearer(raw)), 401, "unauthenticated")
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_a_family_cannot_revoke_another_familys_token(client, dupont, martin):
    theirs, their_raw = new_token(martin["user"])
    _mine, raw = new_token(dupont["user"])
    assert_refused(delete(client, f"/tokens/{theirs.public_id}", **bearer(raw)), 404, "not_found")
    assert client.get(f"{API}/me", **bearer(their_raw)).status_code == 200


def test_no_token_or_an_unknown_one_is_401(client, dupont):
    assert_refused(client.get(f"{API}/me"), 401, "unauthenticated")
    assert_refused(client.get(f"{API}/me", **bearer("preau_nope")), 401, "unauthenticated")
    assert_refused(client.get(f"{API}/me", HTTP_AUTHORIZATION="Basic Zm9vOmJhcg=="), 401, "unauthenticated")


def test_the_last_use_is_noted_at_most_once_a_minute(client, dupont):
    token, raw = new_token(dupont["user"])
    assert token.last_used_at is None
    client.get(f"{API}/me", **bearer(raw))
    token.refresh_from_db()
    assert token.last_used_at == NOW
    with time_machine.travel(NOW + datetime.timedelta(seconds=30), tick=False):
        client.get(f"{API}/me", **bearer(raw))
    token.refresh_from_db()
    assert token.last_used_at == NOW
    later = NOW + datetime.timedelta(minutes=5)
    with time_machine.travel(later, tick=False):
        client.get(f"{API}/me", **bearer(raw))
    token.refresh_from_db()
    assert token.last_used_at == later


def test_the_account_page_lists_the_tokens_with_their_last_use_and_revokes_one(client, dupont, martin):
    used, raw = new_token(dupont["user"], "Téléphone de Camille")
    new_token(dupont["user"], "Tablette")
    new_token(martin["user"], "Téléphone des Martin")
    client.get(f"{API}/me", **bearer(raw))
    client.force_login(dupont["user"])
    page = client.get(reverse("portal:account")).content.decode()
    assert "Téléphone de Camille" in page and "Tablette" in page
    assert "Téléphone des Martin" not in page
    assert "7 septembre 2026 à 08:00" in page  # the last use (Paris time)
    assert "jamais" in page  # the tablet never called
    response = client.post(reverse("portal:app_token_revoke", args=[used.public_id]), follow=True)
    assert "déconnectée" in response.content.decode()
    assert "Téléphone de Camille" not in response.content.decode()
    assert_refused(Client().get(f"{API}/me", **bearer(raw)), 401, "unauthenticated")


def test_the_account_page_cannot_revoke_another_familys_token(client, dupont, martin):
    theirs, their_raw = new_token(martin["user"])
    client.force_login(dupont["user"])
    assert client.post(reverse("portal:app_token_revoke", args=[theirs.public_id])).status_code == 404
    assert Client().get(f"{API}/me", **bearer(their_raw)).status_code == 200


# ---------------------------------------------------------------------------------------------
# Session (the web app)


def test_the_session_works_and_its_posts_need_the_csrf_token(dupont, canteen, meal):
    give_tickets(dupont["family"], meal, 2)
    client = Client(enforce_csrf_checks=True)
    client.force_login(dupont["user"])
    assert client.get(f"{API}/me").status_code == 200
    data = {"child_id": dupont["child"].pk, "service_id": canteen.pk, "date": MONDAY.isoformat()}
    assert_refused(post(client, "/bookings", data), 403, "csrf")
    assert not Booking.objects.exists()
    client.get(reverse("portal:account"))  # sets the CSRF cookie
    response = post(client, "/bookings", data, HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    assert response.status_code == 201


# ---------------------------------------------------------------------------------------------
# get_me, get_wallet


def test_get_me_gives_the_family_its_guardians_and_children_and_no_health_data(api, dupont, school):
    dupont["child"].allergies = "arachide"
    dupont["child"].save()
    body = api.get(f"{API}/me").json()
    assert body["family"]["status"] == "validated" and body["family"]["bookings_open"] is True
    assert [g["email"] for g in body["guardians"]] == ["dupont@example.org"]
    assert body["children"] == [{"id": dupont["child"].pk, "first_name": "Léa", "last_name": "Dupont",
                                 "birth_date": "2018-01-01", "school": {"id": school.pk, "name": school.name},
                                 "school_class": "", "reviewed": True}]
    assert "arachide" not in json.dumps(body)


def test_get_wallet_gives_balances_and_a_page_of_the_ledger(api, dupont, canteen, meal):
    give_tickets(dupont["family"], meal, 60)
    body = api.get(f"{API}/wallet").json()
    assert body["balances"][0]["ticket_type"]["name"] == "Repas" and body["balances"][0]["balance"] == 60
    assert body["ledger"]["count"] == 1 and body["ledger"]["entries"][0]["quantity"] == 60
    assert api.get(f"{API}/wallet?page=2").json()["ledger"]["entries"] == []
    assert_refused(api.get(f"{API}/wallet?page=0"), 422, "invalid")
    assert_refused(api.get(f"{API}/wallet?page=abc"), 422, "invalid")


# ---------------------------------------------------------------------------------------------
# get_planning


def test_get_planning_gives_each_days_state_and_reason(api, dupont, canteen, meal):
    give_tickets(dupont["family"], meal, 1)
    Closure.objects.create(kind=Closure.Kind.ONE_OFF, start=MONDAY + datetime.timedelta(days=1),
                           end=MONDAY + datetime.timedelta(days=1), reason="grève")
    booking = Booking.objects.create(child=dupont["child"], service=canteen, date=MONDAY)
    child_id = dupont["child"].pk
    body = api.get(f"{API}/children/{child_id}/planning?start=2026-09-07&end=2026-09-15").json()
    days = {d["date"]: d["services"][0] for d in body["days"]}
    assert days["2026-09-07"]["state"] == "deadline"
    assert days["2026-09-09"]["state"] == "not_offered"  # no canteen on Wednesdays (weekdays "0134")
    assert days["2026-09-10"]["state"] == "available"
    assert days["2026-09-14"] == {"service_id": canteen.pk, "service": "Cantine", "state": "booked",
                                  "label": "Réservé", "reason": "", "booking_id": booking.pk,
                                  "waitlist_entry_id": None, "waitlist_position": None}
    assert days["2026-09-15"]["state"] == "closed" and days["2026-09-15"]["reason"] == "grève"
    assert body["balances"] == [{"ticket_type_id": meal.pk, "name": "Repas", "balance": 1}]


def test_get_planning_refuses_bad_ranges_in_french(api, dupont):
    url = f"{API}/children/{dupont['child'].pk}/planning"
    body = assert_refused(api.get(f"{url}?start=2026-09-01&end=2026-12-31"), 422, "invalid")
    assert "Période trop longue" in body["message"]
    body = assert_refused(api.get(f"{url}?start=2026-09-10&end=2026-09-01"), 422, "invalid")
    assert "suivre" in body["message"]
    body = assert_refused(api.get(f"{url}?start=2026-02-30"), 422, "invalid")
    assert "date attendue" in body["message"] and body["fields"] == [
        {"field": "start", "message": "date attendue (AAAA-MM-JJ)"}]
    assert_refused(api.get(f"{url}?start=9999-12-31&end=9999-12-31"), 422, "invalid")
    assert_refused(api.get(f"{url}?start=0001-01-01"), 422, "invalid")


def test_another_familys_child_or_a_huge_id_is_never_found(api, martin):
    assert_refused(api.get(f"{API}/children/{martin['child'].pk}/planning"), 404, "not_found")
    assert_refused(api.get(f"{API}/children/{2**63}/planning"), 422, "invalid")
    assert_refused(api.get(f"{API}/children/{2**63 - 1}/planning"), 404, "not_found")
    assert_refused(api.get(f"{API}/children/-1/planning"), 422, "invalid")


# ---------------------------------------------------------------------------------------------
# book_day, cancel_booking


def book(api, child, service, day, **extra):
    return post(api, "/bookings", {"child_id": child.pk, "service_id": service.pk, "date": day.isoformat(),
                                   **extra})


def test_book_day_books_and_debits_one_ticket(api, dupont, canteen, meal):
    wallet = give_tickets(dupont["family"], meal, 2)
    response = book(api, dupont["child"], canteen, MONDAY)
    assert response.status_code == 201
    booking = Booking.objects.get()
    assert response.json() == {"id": booking.pk, "child_id": dupont["child"].pk, "service_id": canteen.pk,
                               "date": "2026-09-14", "status": "active", "refunded": False}
    wallet.refresh_from_db()
    assert wallet.balance == 1 and booking.created_by == dupont["user"]


def test_book_day_refuses_with_the_rules_codes(api, dupont, canteen, meal, martin):
    child = dupont["child"]
    body = assert_refused(book(api, child, canteen, MONDAY), 409, "no_ticket")
    assert body["message"].startswith("Plus de ticket disponible")
    give_tickets(dupont["family"], meal, 5)
    assert_refused(book(api, child, canteen, datetime.date(2026, 9, 7)), 409, "deadline")
    assert_refused(book(api, child, canteen, datetime.date(2026, 9, 16)), 409, "not_offered")
    assert book(api, child, canteen, MONDAY).status_code == 201
    assert_refused(book(api, child, canteen, MONDAY), 409, "already")
    canteen.capacity = 1
    canteen.save()
    give_tickets(martin["family"], meal, 1)
    Booking.objects.create(child=martin["child"], service=canteen, date=MONDAY + datetime.timedelta(days=1))
    assert_refused(book(api, child, canteen, MONDAY + datetime.timedelta(days=1)), 409, "full")
    Family.objects.filter(pk=dupont["family"].pk).update(status=Family.Status.SUSPENDED)
    assert_refused(book(api, child, canteen, MONDAY + datetime.timedelta(days=3)), 409, "not_validated")
    assert Booking.objects.filter(child=child).count() == 1


def test_a_day_that_could_not_be_cancelled_needs_confirm_final(api, dupont, canteen, meal):
    give_tickets(dupont["family"], meal, 2)
    canteen.cancel_days = 30
    canteen.save()
    assert_refused(book(api, dupont["child"], canteen, MONDAY), 409, "confirm_final")
    assert not Booking.objects.exists()
    assert book(api, dupont["child"], canteen, MONDAY, confirm_final=True).status_code == 201


def test_book_day_for_another_familys_child_or_an_unknown_service_is_404(api, dupont, martin, canteen, meal):
    give_tickets(martin["family"], meal, 2)
    assert_refused(book(api, martin["child"], canteen, MONDAY), 404, "not_found")
    response = post(api, "/bookings", {"child_id": dupont["child"].pk, "service_id": 999999,
                                       "date": "2026-09-14"})
    assert_refused(response, 404, "not_found")
    assert not Booking.objects.exists()


def test_cancel_booking_gives_the_ticket_back(api, dupont, canteen, meal):
    wallet = give_tickets(dupont["family"], meal, 1)
    booking_id = book(api, dupont["child"], canteen, MONDAY).json()["id"]
    response = delete(api, f"/bookings/{booking_id}")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    wallet.refresh_from_db()
    assert wallet.balance == 1
    assert_refused(delete(api, f"/bookings/{booking_id}"), 409, "not_active")


def test_cancel_booking_after_its_deadline_is_refused(api, dupont, canteen, meal):
    give_tickets(dupont["family"], meal, 1)
    booking_id = book(api, dupont["child"], canteen, MONDAY).json()["id"]
    with time_machine.travel(datetime.datetime(2026, 9, 12, 12, 0, tzinfo=NOW.tzinfo), tick=False):
        assert_refused(delete(api, f"/bookings/{booking_id}"), 409, "cancel_deadline")
    assert Booking.objects.get().status == Booking.Status.ACTIVE


def test_another_familys_booking_cannot_be_cancelled(api, martin, canteen, meal):
    give_tickets(martin["family"], meal, 1)
    theirs = Booking.objects.create(child=martin["child"], service=canteen, date=MONDAY)
    assert_refused(delete(api, f"/bookings/{theirs.pk}"), 404, "not_found")
    theirs.refresh_from_db()
    assert theirs.status == Booking.Status.ACTIVE


# ---------------------------------------------------------------------------------------------
# Weekly pattern


def pattern(dupont, canteen, **extra):
    return {"child_ids": [dupont["child"].pk], "service_ids": [canteen.pk], "weekdays": [0, 1],
            "start": "2026-09-14", "end": "2026-09-27", **extra}


def test_preview_pattern_counts_the_tickets_needed(api, dupont, canteen, meal):
    give_tickets(dupont["family"], meal, 1)
    body = post(api, "/patterns/preview", pattern(dupont, canteen)).json()
    assert body["days"] == 4
    assert body["lines"] == [{"ticket_type_id": meal.pk, "name": "Repas", "needed": 4, "balance": 1,
                              "missing": 3}]
    assert not Booking.objects.exists()


def test_book_pattern_books_what_tickets_allow_and_says_why_not_the_rest(api, dupont, canteen, meal):
    give_tickets(dupont["family"], meal, 3)
    body = post(api, "/patterns", pattern(dupont, canteen)).json()
    assert [b["date"] for b in body["booked"]] == ["2026-09-14", "2026-09-15", "2026-09-21"]
    assert [(r["date"], r["reason"][:16]) for r in body["refused"]] == [("2026-09-22", "Plus de ticket d")]


def test_patterns_refuse_another_familys_child_and_bad_input(api, dupont, martin, canteen):
    assert_refused(post(api, "/patterns", pattern(dupont, canteen, child_ids=[martin["child"].pk])),
                   404, "not_found")
    assert_refused(post(api, "/patterns/preview", pattern(dupont, canteen, weekdays=[6])), 422, "invalid")
    body = assert_refused(post(api, "/patterns", pattern(dupont, canteen, end="2028-01-01")), 422, "invalid")
    assert "Période trop longue" in body["message"]
    assert_refused(post(api, "/patterns", pattern(dupont, canteen, child_ids=[])), 422, "invalid")
    assert not Booking.objects.exists()


# ---------------------------------------------------------------------------------------------
# Purchases


@pytest.fixture
def priced(dupont, canteen, meal):
    bracket = TariffBracket.objects.create(name="A")
    Price.objects.create(ticket_type=meal, bracket=bracket, unit_cents=350)
    Family.objects.filter(pk=dupont["family"].pk).update(tariff_bracket=bracket)
    return bracket


def test_create_purchase_returns_the_checkout_url(api, dupont, meal, priced):
    key = str(uuid.uuid4())
    response = post(api, "/purchases", {"ticket_type_id": meal.pk, "quantity": 10, "idempotency_key": key})
    assert response.status_code == 201
    body = response.json()
    assert body["amount_cents"] == 3500 and body["state"] == "pending"
    assert "/famille/paiement/demo/" in body["checkout_url"]
    again = post(api, "/purchases", {"ticket_type_id": meal.pk, "quantity": 10, "idempotency_key": key})
    assert again.json()["id"] == body["id"] and Purchase.objects.count() == 1


def test_create_purchase_refusals(api, dupont, meal, priced, care):
    assert_refused(post(api, "/purchases", {"ticket_type_id": meal.pk, "quantity": 5000}), 422, "quantity")
    assert_refused(post(api, "/purchases", {"ticket_type_id": care.pk, "quantity": 5}), 404, "not_found")
    assert_refused(post(api, "/purchases", {"ticket_type_id": meal.pk, "quantity": 0}), 422, "invalid")
    Family.objects.filter(pk=dupont["family"].pk).update(tariff_bracket=None)
    assert_refused(post(api, "/purchases", {"ticket_type_id": meal.pk, "quantity": 5}), 409, "no_price")
    assert not Purchase.objects.exists()


def test_list_purchases_shows_paid_ones_with_their_receipt(api, dupont, meal, martin):
    from portal.services.payments.purchases import record_town_hall_payment

    record_town_hall_payment(dupont["family"], meal, 4, "cash", by=None, unit_cents=300)
    record_town_hall_payment(martin["family"], meal, 2, "cash", by=None, unit_cents=300)
    body = api.get(f"{API}/purchases").json()
    assert len(body) == 1
    assert body[0]["quantity"] == 4 and body[0]["state"] == "paid" and body[0]["method"] == "cash"
    assert body[0]["receipt"]["number"] and body[0]["receipt"]["url"].endswith("/pdf/")


# ---------------------------------------------------------------------------------------------
# Menus, documents


def test_get_menus_gives_the_week_of_a_school(api, school, other_school):
    from menus.models import Dish, MenuDay, WeekMenu

    dish = Dish.objects.create(name="Lasagnes", course="main", is_organic=True)
    everyone = WeekMenu.objects.create(week=MONDAY, note="Pour tous")
    MenuDay.objects.create(menu=everyone, date=MONDAY, main=dish)
    own = WeekMenu.objects.create(week=MONDAY, school=school, note="Jules-Ferry",
                                  visibility=WeekMenu.Visibility.FAMILIES)
    MenuDay.objects.create(menu=own, date=MONDAY + datetime.timedelta(days=1), main=dish)
    body = api.get(f"{API}/menus?week=2026-09-16&school_id={school.pk}").json()
    assert body["week"] == "2026-09-14" and [m["note"] for m in body["menus"]] == ["Jules-Ferry"]
    course = body["menus"][0]["days"][0]["courses"][0]
    assert course["name"] == "Lasagnes" and course["labels"] == ["Bio"] and course["course"] == "main"
    assert [m["note"] for m in api.get(f"{API}/menus?week=2026-09-14&school_id={other_school.pk}")
            .json()["menus"]] == ["Pour tous"]
    assert_refused(api.get(f"{API}/menus?school_id=999999"), 404, "not_found")
    assert_refused(api.get(f"{API}/menus?week=lundi"), 422, "invalid")


def test_list_documents_lists_the_regulation_with_its_address(api):
    from documents.demo import add_document
    from documents.models import PreauDocument
    from tests.portal.conftest import PDF_BYTES

    add_document("Règlement 2026", "reglement.pdf", PDF_BYTES, kind=PreauDocument.Kind.REGULATION,
                 version="2026-1")
    body = api.get(f"{API}/documents").json()
    assert [(d["title"], d["kind"], d["version"]) for d in body] == [
        ("Règlement 2026", "reglement", "2026-1")]
    assert body[0]["url"].startswith("http://testserver/documents/")


# ---------------------------------------------------------------------------------------------
# Bad input, documents of the API


@pytest.mark.parametrize("body", ["{not json", "[]", '"text"', "null", '{"child_id": "1"'])
def test_malformed_bodies_get_a_french_4xx_and_change_nothing(api, body):
    response = api.post(f"{API}/bookings", body, content_type="application/json")
    assert response.status_code in (400, 422)
    assert response.json()["code"] in ("bad_request", "invalid") and response.json()["message"]
    assert not Booking.objects.exists()


def test_the_openapi_document_names_every_operation(client):
    schema = client.get(f"{API}/openapi.json").json()
    ids = {op["operationId"] for ops in schema["paths"].values() for op in ops.values()}
    assert ids == {"create_token", "revoke_token", "get_me", "get_wallet", "get_planning", "book_day",
                   "cancel_booking", "preview_pattern", "book_pattern", "create_purchase",
                   "list_purchases", "get_menus", "list_documents", "join_waitlist", "leave_waitlist",
                   "list_waitlist", "list_tax_attestations", "get_tax_attestation_pdf"}


def test_the_docs_page_loads_its_scripts_from_this_site(client):
    page = client.get(f"{API}/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page and "cdn" not in page.lower()
    assert "script-src 'self'" in client.get(f"{API}/docs")["Content-Security-Policy"]


def test_a_session_idle_for_30_minutes_gets_a_json_401_not_the_login_page(client, dupont):
    client.force_login(dupont["user"])
    assert client.get(f"{API}/me").status_code == 200
    with time_machine.travel(NOW + datetime.timedelta(minutes=31), tick=False):
        assert_refused(client.get(f"{API}/me"), 401, "unauthenticated")
