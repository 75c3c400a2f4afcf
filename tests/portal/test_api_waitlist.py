"""API v1, waiting lists of full days: the planning says when a day is full and the child's place
in its list, join_waitlist and leave_waitlist refuse with the web page's codes and messages,
list_waitlist shows the household's entries; another family's child or entry is a 404, and each
household of a shared child has its own entries."""

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.urls import reverse

from portal.models import Booking, Closure, Family, LedgerEntry, WaitlistEntry
from portal.services import planning_states
from portal.services.booking import book_day, cancel_booking, join_waitlist, refusal_message
from tests.portal.api_client import API, assert_refused, post, token_headers
from tests.portal.fixtures_planning import *  # noqa: F403
from tests.portal.fixtures_planning import MONDAY, NOW, give_tickets, make_family

pytestmark = pytest.mark.django_db
TUESDAY = MONDAY + datetime.timedelta(days=1)
THURSDAY = MONDAY + datetime.timedelta(days=3)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def api(client, dupont):
    client.defaults.update(token_headers(dupont["user"]))
    return client


def join(client, child, service, day, **extra):
    return post(client, "/waitlist", {"child_id": child.pk, "service_id": service.pk,
                                      "date": day.isoformat()}, **extra)


def leave(client, entry_id, **extra):
    return client.delete(f"{API}/waitlist/{entry_id}", **extra)




@pytest.fixture
def full(canteen, meal, martin):
    """The canteen takes one child a day; Martin's Tom has Monday's and Tuesday's places."""
    canteen.capacity = 1
    canteen.save()
    give_tickets(martin["family"], meal, 2)
    for day in (MONDAY, TUESDAY):
        book_day(martin["child"], canteen, day, by=martin["user"])
    return canteen


@pytest.fixture
def bernard(school):
    user, family, kids = make_family("Bernard", "bernard@example.org", school, children=("Zoé",))
    return {"user": user, "family": family, "child": kids[0]}


@pytest.fixture
def durand(school, dupont):
    """Léa's second household (her father's)."""
    user, family, _kids = make_family("Durand", "durand@example.org", school, children=())
    dupont["child"].other_family = family
    dupont["child"].save()
    return {"user": user, "family": family}


def planning_cell(client, child, service, day):
    body = client.get(f"{API}/children/{child.pk}/planning?start={day}&end={day}").json()
    return next(c for c in body["days"][0]["services"] if c["service_id"] == service.pk)


# ---------------------------------------------------------------------------------------------
# get_planning


def test_the_planning_says_a_day_is_full_then_the_childs_entry_and_place_like_the_web_grid(
        api, dupont, bernard, full):
    cell = planning_cell(api, dupont["child"], full, MONDAY)
    assert (cell["state"], cell["label"], cell["waitlist_entry_id"], cell["waitlist_position"]) == (
        "full", "Complet", None, None)
    join_waitlist(bernard["child"], full, MONDAY, by=bernard["user"])
    entry_id = join(api, dupont["child"], full, MONDAY).json()["id"]

    cell = planning_cell(api, dupont["child"], full, MONDAY)
    assert cell == {"service_id": full.pk, "service": "Cantine", "state": "waiting",
                    "label": "En liste d’attente", "reason": "", "booking_id": None,
                    "waitlist_entry_id": entry_id, "waitlist_position": 2}
    # The web grid's own state function says the same.
    web = planning_states.day_states([dupont["child"]], [MONDAY], now=NOW).rows[0].cells[(full.pk, MONDAY)]
    assert (web.state, web.waiting) == ("waiting", (entry_id, 2))
    # Bernard's Zoé leaves the list: Léa is next.
    leave(Client(), WaitlistEntry.objects.get(child=bernard["child"]).pk, **token_headers(bernard["user"]))
    assert planning_cell(api, dupont["child"], full, MONDAY)["waitlist_position"] == 1


# ---------------------------------------------------------------------------------------------
# join_waitlist


def test_join_waitlist_signs_the_child_up_without_taking_a_ticket(api, dupont, bernard, meal, full):
    wallet = give_tickets(dupont["family"], meal, 0)
    join_waitlist(bernard["child"], full, MONDAY, by=bernard["user"])
    response = join(api, dupont["child"], full, MONDAY)
    assert response.status_code == 201, response.content
    entry = WaitlistEntry.objects.get(child=dupont["child"])
    assert response.json() == {"id": entry.pk, "child_id": dupont["child"].pk, "child": "Léa",
                               "service_id": full.pk, "service": "Cantine", "date": "2026-09-14",
                               "status": "waiting", "status_label": "En attente", "position": 2,
                               "booking_id": None}
    assert (entry.family, entry.created_by) == (dupont["family"], dupont["user"])
    wallet.refresh_from_db()
    assert wallet.balance == 0 and not LedgerEntry.objects.filter(wallet=wallet).exists()


def test_a_place_freed_goes_to_the_child_signed_up_through_the_api(api, dupont, martin, meal, full):
    give_tickets(dupont["family"], meal, 1)
    entry_id = join(api, dupont["child"], full, MONDAY).json()["id"]
    cancel_booking(Booking.objects.get(child=martin["child"], date=MONDAY), by=martin["user"])
    booking = Booking.objects.get(child=dupont["child"], status=Booking.Status.ACTIVE)
    listed = api.get(f"{API}/waitlist").json()
    assert [(e["id"], e["status"], e["status_label"], e["position"], e["booking_id"]) for e in listed] == [
        (entry_id, "booked", "Place obtenue", None, booking.pk)]
    assert planning_cell(api, dupont["child"], full, MONDAY)["state"] == "booked"


def test_join_waitlist_refuses_with_the_web_pages_codes_and_messages(api, dupont, meal, full, evening):
    child = dupont["child"]

    def refused(service, day, code, reason=""):
        body = assert_refused(join(api, child, service, day), 409, code)
        assert body["message"] == refusal_message(code, reason)

    refused(evening, MONDAY, "not_full")  # no capacity: a place is always there
    refused(full, THURSDAY, "not_full")  # capacity left that day
    refused(full, datetime.date(2026, 9, 7), "deadline")
    refused(full, datetime.date(2026, 9, 16), "not_offered")  # no canteen on Wednesdays
    assert join(api, child, full, MONDAY).status_code == 201
    refused(full, MONDAY, "waiting")  # already on the list
    # A day the child has booked is not full for it: already booked.
    full.capacity = 2
    full.save()
    give_tickets(dupont["family"], meal, 1)
    book_day(child, full, TUESDAY, by=dupont["user"])
    full.capacity = 1
    full.save()
    refused(full, TUESDAY, "already")
    friday = MONDAY + datetime.timedelta(days=4)
    Closure.objects.create(kind=Closure.Kind.ONE_OFF, start=friday, end=friday, reason="grève")
    refused(full, friday, "closed", "grève")
    Family.objects.filter(pk=dupont["family"].pk).update(status=Family.Status.SUSPENDED)
    refused(full, MONDAY + datetime.timedelta(days=7), "not_validated")
    assert WaitlistEntry.objects.filter(child=child).count() == 1


def test_join_waitlist_for_another_familys_child_or_an_unknown_service_is_404(api, dupont, martin, full):
    assert_refused(join(api, martin["child"], full, MONDAY), 404, "not_found")
    response = post(api, "/waitlist", {"child_id": dupont["child"].pk, "service_id": 2**63 - 1,
                                       "date": "2026-09-14"})
    assert_refused(response, 404, "not_found")
    assert not WaitlistEntry.objects.exists()


@pytest.mark.parametrize("body", [
    {"service_id": 1, "date": "2026-09-14"},
    {"child_id": 1, "service_id": 1, "date": "14/09/2026"},
    {"child_id": 1, "service_id": 1, "date": "9999-12-31"},
    {"child_id": 2**63, "service_id": 1, "date": "2026-09-14"},
    {"child_id": "x", "service_id": 1, "date": "2026-09-14"},
])
def test_join_waitlist_bad_input_is_a_french_422(api, body):
    body = assert_refused(post(api, "/waitlist", body), 422, "invalid")
    assert body["message"].startswith("Requête invalide") and body["fields"]
    assert not WaitlistEntry.objects.exists()


def test_a_service_refusing_the_household_answers_404_in_json_not_an_html_403(api, dupont, full, monkeypatch):
    # join_waitlist raises PermissionDenied when the child left the household meanwhile.
    def detached(*args, **kwargs):
        raise PermissionDenied

    monkeypatch.setattr("portal.api.waitlist.join_waitlist", detached)
    assert_refused(join(api, dupont["child"], full, MONDAY), 404, "not_found")


# ---------------------------------------------------------------------------------------------
# leave_waitlist


def test_leave_waitlist_takes_the_child_off_the_list_once(api, dupont, full):
    entry_id = join(api, dupont["child"], full, MONDAY).json()["id"]
    response = leave(api, entry_id)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["status"], body["status_label"], body["position"]) == (
        entry_id, "left", "Retiré de la liste", None)
    assert WaitlistEntry.objects.get(pk=entry_id).status == WaitlistEntry.Status.LEFT
    body = assert_refused(leave(api, entry_id), 409, "not_waiting")
    assert body["message"] == refusal_message("not_waiting")
    assert planning_cell(api, dupont["child"], full, MONDAY)["state"] == "full"


def test_an_expired_entry_cannot_be_left(api, dupont, full):
    gone = WaitlistEntry.objects.create(child=dupont["child"], service=full, date=datetime.date(2026, 9, 4))
    body = assert_refused(leave(api, gone.pk), 409, "waitlist_expired")
    assert body["message"] == refusal_message("waitlist_expired")
    gone.refresh_from_db()
    assert gone.status == WaitlistEntry.Status.WAITING


def test_an_entry_that_got_its_place_cannot_be_left(api, dupont, martin, meal, full):
    give_tickets(dupont["family"], meal, 1)
    entry_id = join(api, dupont["child"], full, MONDAY).json()["id"]
    cancel_booking(Booking.objects.get(child=martin["child"], date=MONDAY), by=martin["user"])
    assert_refused(leave(api, entry_id), 409, "not_waiting")
    assert Booking.objects.get(child=dupont["child"]).status == Booking.Status.ACTIVE


def test_another_familys_entry_cannot_be_left_or_seen(api, dupont, bernard, full):
    theirs = join_waitlist(bernard["child"], full, MONDAY, by=bernard["user"])
    assert_refused(leave(api, theirs.pk), 404, "not_found")
    assert_refused(leave(api, 2**63 - 1), 404, "not_found")
    assert_refused(leave(api, 0), 422, "invalid")
    theirs.refresh_from_db()
    assert theirs.status == WaitlistEntry.Status.WAITING
    assert api.get(f"{API}/waitlist").json() == []


# ---------------------------------------------------------------------------------------------
# list_waitlist


def test_list_waitlist_gives_the_coming_entries_by_default_and_the_past_ones_as_expired(
        api, dupont, bernard, full, canteen):
    join_waitlist(bernard["child"], full, TUESDAY, by=bernard["user"])
    tuesday = join(api, dupont["child"], full, TUESDAY).json()["id"]
    monday = join(api, dupont["child"], full, MONDAY).json()["id"]
    left = WaitlistEntry.objects.create(child=dupont["child"], service=full, status=WaitlistEntry.Status.LEFT,
                                        date=MONDAY + datetime.timedelta(days=7))
    # A day gone by without a place freed, and one that was given a place.
    gone = WaitlistEntry.objects.create(child=dupont["child"], service=full, date=datetime.date(2026, 9, 4))
    given = WaitlistEntry.objects.create(child=dupont["child"], service=full, date=datetime.date(2026, 9, 3),
                                         status=WaitlistEntry.Status.BOOKED)

    coming = api.get(f"{API}/waitlist").json()
    assert [(e["id"], e["date"], e["status"], e["position"]) for e in coming] == [
        (monday, "2026-09-14", "waiting", 1), (tuesday, "2026-09-15", "waiting", 2),
        (left.pk, "2026-09-21", "left", None)]
    assert api.get(f"{API}/waitlist?period=coming").json() == coming
    past = api.get(f"{API}/waitlist?period=past").json()
    assert [(e["id"], e["status"], e["status_label"], e["position"]) for e in past] == [
        (gone.pk, "waiting", "Expirée (le jour est passé sans place libre)", None),
        (given.pk, "booked", "Place obtenue", None)]
    body = assert_refused(api.get(f"{API}/waitlist?period=hier"), 422, "invalid")
    assert body["fields"][0]["field"] == "period"


def test_the_lists_place_is_the_planning_grids_place(api, school, dupont, bernard, martin, full, evening):
    """WaitlistEntry.position() (the list) and the planning's raw SQL count the same way: only
    entries still waiting, of the same service and day, signed up before."""
    _user, _family, (other,) = make_family("Autre", "autre@example.org", school, children=("Jo",))
    left = WaitlistEntry.objects.create(child=other, service=full, date=MONDAY,
                                        status=WaitlistEntry.Status.LEFT)
    WaitlistEntry.objects.create(child=bernard["child"], service=full, date=MONDAY)
    WaitlistEntry.objects.create(child=bernard["child"], service=full, date=TUESDAY)  # another day
    WaitlistEntry.objects.create(child=bernard["child"], service=evening, date=MONDAY)  # another service
    booked = WaitlistEntry.objects.create(child=martin["child"], service=full, date=MONDAY,
                                          status=WaitlistEntry.Status.BOOKED)
    monday = WaitlistEntry.objects.create(child=dupont["child"], service=full, date=MONDAY)
    WaitlistEntry.objects.create(child=other, service=full, date=TUESDAY)
    tuesday = WaitlistEntry.objects.create(child=dupont["child"], service=full, date=TUESDAY)
    assert left.pk < monday.pk and booked.pk < monday.pk
    listed = {e["id"]: e["position"] for e in api.get(f"{API}/waitlist").json()}
    grid = planning_states.day_states([dupont["child"]], [MONDAY, TUESDAY], now=NOW).rows[0].cells
    assert listed == {monday.pk: 2, tuesday.pk: 3}
    assert {c.waiting.pk: c.waiting.position for c in grid.values() if c.waiting} == listed


def test_an_entry_of_today_is_still_waiting_with_its_place(api, dupont, full):
    entry = WaitlistEntry.objects.create(child=dupont["child"], service=full, date=NOW.date())
    (listed,) = api.get(f"{API}/waitlist").json()
    assert (listed["id"], listed["status_label"], listed["position"]) == (entry.pk, "En attente", 1)


# ---------------------------------------------------------------------------------------------
# Two households, the session, agents


def test_each_household_of_a_shared_child_signs_up_for_itself_and_sees_only_its_own_entries(
        client, dupont, durand, full):
    mum, dad = token_headers(dupont["user"]), token_headers(durand["user"])
    response = join(client, dupont["child"], full, MONDAY, **dad)
    assert response.status_code == 201, response.content
    entry = WaitlistEntry.objects.get()
    assert entry.family == durand["family"] and entry.created_by == durand["user"]
    # The father's household sees its entry and its place; the mother's sees a full day.
    assert planning_cell(Client(**dad), dupont["child"], full, MONDAY)["waitlist_entry_id"] == entry.pk
    assert planning_cell(Client(**mum), dupont["child"], full, MONDAY)["state"] == "full"
    assert [e["id"] for e in client.get(f"{API}/waitlist", **dad).json()] == [entry.pk]
    assert client.get(f"{API}/waitlist", **mum).json() == []
    assert_refused(leave(client, entry.pk, **mum), 404, "not_found")
    # One child waits once for a day, whichever household signed up.
    assert_refused(join(client, dupont["child"], full, MONDAY, **mum), 409, "waiting")
    assert leave(client, entry.pk, **dad).status_code == 200
    # Her own household signs her up in its turn.
    assert join(client, dupont["child"], full, MONDAY, **mum).status_code == 201
    assert WaitlistEntry.objects.get(status=WaitlistEntry.Status.WAITING).family == dupont["family"]


def test_a_place_the_other_household_booked_ends_the_entry_without_showing_its_booking(
        client, dupont, durand, martin, meal, full):
    dad = token_headers(durand["user"])
    entry_id = join(client, dupont["child"], full, MONDAY, **dad).json()["id"]
    # Tom's place comes free; the father's household has no ticket, keeps its place, and the
    # mother's household books the day.
    cancel_booking(Booking.objects.get(child=martin["child"], date=MONDAY), by=martin["user"])
    give_tickets(dupont["family"], meal, 1)
    mum = token_headers(dupont["user"])
    assert join(client, dupont["child"], full, MONDAY, **mum).json()["code"] == "not_full"
    mums = book_day(dupont["child"], full, MONDAY, by=dupont["user"])
    (listed,) = client.get(f"{API}/waitlist", **dad).json()
    assert (listed["id"], listed["status"], listed["booking_id"]) == (entry_id, "booked", None)
    assert WaitlistEntry.objects.get(pk=entry_id).booking == mums
    assert planning_cell(Client(**dad), dupont["child"], full, MONDAY)["state"] == "other_household"


def test_the_other_households_booked_day_is_refused_as_the_web_says(client, dupont, durand, meal, canteen):
    canteen.capacity = 1
    canteen.save()
    give_tickets(durand["family"], meal, 1)
    lea = type(dupont["child"]).objects.select_related("family", "school").get(pk=dupont["child"].pk)
    book_day(lea.seen_by(durand["family"]), canteen, MONDAY, by=durand["user"])
    mum = token_headers(dupont["user"])
    body = assert_refused(join(client, dupont["child"], canteen, MONDAY, **mum), 409, "other_household")
    assert body["message"] == "Réservé par l’autre foyer."


def test_the_session_needs_the_csrf_token_to_join_or_leave(dupont, full):
    client = Client(enforce_csrf_checks=True)
    client.force_login(dupont["user"])
    assert_refused(join(client, dupont["child"], full, MONDAY), 403, "csrf")
    assert not WaitlistEntry.objects.exists()
    client.get(reverse("portal:account"))  # sets the CSRF cookie
    csrf = {"HTTP_X_CSRFTOKEN": client.cookies["csrftoken"].value}
    entry_id = join(client, dupont["child"], full, MONDAY, **csrf).json()["id"]
    assert_refused(leave(client, entry_id), 403, "csrf")
    assert leave(client, entry_id, **csrf).status_code == 200


def test_agents_get_403_not_family(client, agent, dupont, full):
    client.force_login(agent)
    assert_refused(client.get(f"{API}/waitlist"), 403, "not_family")
    assert_refused(join(client, dupont["child"], full, MONDAY), 403, "not_family")
    assert not WaitlistEntry.objects.exists()


# ---------------------------------------------------------------------------------------------
# Two sign-ups at once (PostgreSQL)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="row locks and real concurrency need PostgreSQL (set DATABASE_URL)")
def test_two_simultaneous_sign_ups_of_the_same_child_make_one_entry(dupont, full):
    from tests.portal.test_concurrency import run_concurrently

    headers = token_headers(dupont["user"])

    def sign_up():
        response = join(Client(), dupont["child"], full, MONDAY, **headers)
        return response.status_code, response.json()["code"] if response.status_code >= 400 else "ok"

    results = run_concurrently(sign_up, [()] * 6)
    assert sorted(results) == [(201, "ok")] + [(409, "waiting")] * 5
    assert WaitlistEntry.objects.filter(child=dupont["child"]).count() == 1
