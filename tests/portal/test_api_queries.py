"""Each API operation runs a fixed number of SQL queries whatever the family holds (more
children, bookings, ledger lines, purchases, menus): pinned here, measured on a small and a
larger family. book_pattern books each day like a click: a fixed number per day."""

import datetime
import json

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from menus.models import Dish, MenuDay, WeekMenu
from portal.models import AppToken, Booking, Child, Price, Service, TariffBracket, TicketType, WaitlistEntry
from portal.services.booking import book_day
from portal.services.payments.purchases import record_town_hall_payment
from tests.portal.api_client import API, token_headers
from tests.portal.fixtures_planning import *  # noqa: F403
from tests.portal.fixtures_planning import MONDAY, NOW, give_tickets, make_family

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def queries(client, method, path, body=None, **headers):
    with CaptureQueriesContext(connection) as ctx:
        if body is None:
            response = getattr(client, method)(API + path, **headers)
        else:
            response = getattr(client, method)(API + path, json.dumps(body), content_type="application/json",
                                               **headers)
    assert response.status_code < 300, response.content
    return len(ctx.captured_queries)


def grow(family, school, canteen, evening, meal, care, n):
    """n more children, each booked on 5 days, ledger lines and purchases."""
    give_tickets(family, meal, 10 * n)
    give_tickets(family, care, 10 * n)
    for i in range(n):
        child = Child.objects.create(family=family, first_name=f"Enfant{i}", last_name="X",
                                     birth_date=datetime.date(2018, 1, 1), school=school)
        for day in range(5):
            date = MONDAY + datetime.timedelta(days=day + 7)
            for service in (canteen, evening):
                if service.runs_on(date):
                    Booking.objects.create(child=child, service=service, date=date)
        record_town_hall_payment(family, meal, 2, "cash", by=None, unit_cents=300)


@pytest.fixture
def families(dupont, martin, school, canteen, evening, meal, care):
    grow(martin["family"], school, canteen, evening, meal, care, 3)
    give_tickets(dupont["family"], meal, 5)
    bracket = TariffBracket.objects.create(name="A")
    Price.objects.create(ticket_type=meal, bracket=bracket, unit_cents=350)
    for f in (dupont["family"], martin["family"]):
        f.tariff_bracket = bracket
        f.save()
    dish = Dish.objects.create(name="Lasagnes", course="main")
    menu = WeekMenu.objects.create(week=MONDAY, school=school)
    for day in range(5):
        MenuDay.objects.create(menu=menu, date=MONDAY + datetime.timedelta(days=day), main=dish)
    # Tokens used a moment ago: the last use is not written again within the minute (one query less).
    return {"small": (dupont, token_headers(dupont["user"], last_used_at=NOW)),
            "large": (martin, token_headers(martin["user"], last_used_at=NOW))}


def both(client, families, method, path_for, body_for=None, warm=None):
    """The count for the large family, then the small one; the same for both. Reads are called
    once first: the planning configuration and the family's file status are then cached, as
    they are on a running server."""
    if warm if warm is not None else method == "get":
        for fam, headers in families.values():
            body = body_for(fam) if body_for else None
            queries(client, method, path_for(fam), body, **headers)
    counts = []
    for size in ("large", "small"):
        fam, headers = families[size]
        body = body_for(fam) if body_for else None
        counts.append(queries(client, method, path_for(fam), body, **headers))
    assert counts[0] == counts[1], counts
    return counts[0]


@pytest.fixture(autouse=True)
def _warm(client, families, meal):
    """Process-wide caches (content types) filled by a first purchase, as on a running server."""
    fam, headers = families["small"]
    client.post(f"{API}/purchases", json.dumps({"ticket_type_id": meal.pk, "quantity": 1}),
                content_type="application/json", **headers)


def test_reads_run_a_fixed_number_of_queries(client, families, school):
    # The token with its user (1) and the family (1), then the operation's own queries.
    assert both(client, families, "get", lambda f: "/me") == 4
    assert both(client, families, "get", lambda f: "/wallet") == 8
    assert both(client, families, "get", lambda f: f"/children/{f['child'].pk}/planning") == 4
    assert both(client, families, "get", lambda f: "/purchases") == 3
    assert both(client, families, "get", lambda f: f"/menus?week=2026-09-14&school_id={school.pk}") == 6
    assert both(client, families, "get", lambda f: "/documents") == 4


def test_writes_run_a_fixed_number_of_queries(client, families, canteen, meal):
    assert both(client, families, "post", lambda f: "/bookings",
                lambda f: {"child_id": f["child"].pk, "service_id": canteen.pk, "date": "2026-09-14"}) == 13
    for size in ("small", "large"):
        fam, headers = families[size]
        booking = Booking.objects.filter(child=fam["child"], date=MONDAY).get()
        assert queries(client, "delete", f"/bookings/{booking.pk}", **headers) == 10
    assert both(client, families, "post", lambda f: "/purchases",
                lambda f: {"ticket_type_id": meal.pk, "quantity": 10}) == 20
    pattern = {"service_ids": [canteen.pk], "weekdays": [0, 1, 3, 4], "start": "2026-09-14",
               "end": "2026-10-30"}
    assert both(client, families, "post", lambda f: "/patterns/preview",
                lambda f: {**pattern, "child_ids": [f["child"].pk]}, warm=True) == 5


def test_book_pattern_costs_a_fixed_number_of_queries_per_day_booked(client, families, canteen, meal):
    fam, headers = families["small"]
    body = {"child_ids": [fam["child"].pk], "service_ids": [canteen.pk], "start": "2026-09-14"}
    one = queries(client, "post", "/patterns", {**body, "weekdays": [0], "end": "2026-09-14"}, **headers)
    three = queries(client, "post", "/patterns", {**body, "weekdays": [1], "end": "2026-09-29"}, **headers)
    assert Booking.objects.filter(child=fam["child"]).count() == 4
    # Each day booked costs book_day's 9 (savepoint, the service, the wallet locked, the facts,
    # the day's closures, booking, ledger entry, balance, release); the second call finds in the
    # cache the family's file status (its row with the rule, its children, the school year) and
    # the month's planning configuration (services per school, closures).
    assert one == 24 and three - one == 2 * 9 - 5


def test_revoking_a_token_is_two_queries(client, families):
    fam, headers = families["small"]
    other = AppToken.objects.create(user=fam["user"], token_hash="x" * 64)
    assert queries(client, "delete", f"/tokens/{other.public_id}", **headers) == 2


def test_waiting_lists_run_a_fixed_number_of_queries(client, families, school, canteen, meal):
    """1 entry for the small family, 20 for the large one, each behind another family's."""
    _user, others, (other,) = make_family("Autre", "autre@example.org", school, children=("Zoé",))
    small, large = families["small"][0], families["large"][0]
    days = [MONDAY + datetime.timedelta(days=d) for d in range(14, 42) if d % 7 in (0, 1, 3, 4)][:5]
    for day in days:
        WaitlistEntry.objects.create(child=other, service=canteen, date=day)
    past = [datetime.date(2026, 9, d) for d in (1, 3, 4)]  # expired, still waiting
    for day in (days[0], past[0]):
        WaitlistEntry.objects.create(child=small["child"], service=canteen, date=day)
    for child in Child.objects.filter(family=large["family"]):
        for day in days + past:
            WaitlistEntry.objects.create(child=child, service=canteen, date=day)
    assert WaitlistEntry.objects.filter(family=large["family"], date__gte=MONDAY).count() == 20
    # The token with its user, the family, then the entries with their places: one query.
    assert both(client, families, "get", lambda f: "/waitlist") == 3
    assert both(client, families, "get", lambda f: "/waitlist?period=past") == 3
    _fam, headers = families["large"]
    assert len(client.get(f"{API}/waitlist", **headers).json()) == 20
    assert len(client.get(f"{API}/waitlist?period=past", **headers).json()) == 12

    # A full day: each family signs a child up, then leaves.
    canteen.capacity = 1
    canteen.save()
    give_tickets(others, meal, 1)
    Booking.objects.create(child=other, family=others, service=canteen, date=MONDAY)
    # Token, family, child, service; join_waitlist's savepoint, service, its lock, the facts, the
    # day's closures, the entry, release; the entry read back with its place.
    assert both(client, families, "post", lambda f: "/waitlist",
                lambda f: {"child_id": f["child"].pk, "service_id": canteen.pk, "date": "2026-09-14"}) == 12
    for size in ("small", "large"):
        fam, headers = families[size]
        entry = WaitlistEntry.objects.get(child=fam["child"], date=MONDAY)
        # Token, family, the entry; leave_waitlist's savepoint, service lock, entry lock, update,
        # the household's journal entry, release (the journal is not in Wagtail's reference index).
        assert queries(client, "delete", f"/waitlist/{entry.pk}", **headers) == 9
    # The planning of a capacity-limited service, with the children's places in its lists.
    assert both(client, families, "get", lambda f: f"/children/{f['child'].pk}/planning") == 4


def test_tax_attestations_run_a_fixed_number_of_queries(client, families, school):
    """The small family: one child, one year. The large one: four children (all under 6), two
    years, bookings of the canteen and the evening care besides."""
    wednesday_tickets = TicketType.objects.create(name="Mercredi")
    wednesday = Service.objects.create(name="Accueil du mercredi", weekdays="2",
                                       start=datetime.date(2026, 9, 1), end=datetime.date(2027, 7, 3),
                                       ticket_type=wednesday_tickets,
                                       booking_days=1, cancel_days=1, childcare_tax_credit=True)
    wednesday.schools.add(school)
    small, large = families["small"][0], families["large"][0]
    paris = NOW.tzinfo
    for fam, days in ((small, 1), (large, 3)):
        record_town_hall_payment(fam["family"], wednesday_tickets, 20, "cash", by=None, unit_cents=150)
        children = Child.objects.filter(family=fam["family"]).order_by("pk")
        children.update(birth_date=datetime.date(2021, 3, 1))
        for child in children:
            for week in range(days):
                book_day(child, wednesday, MONDAY + datetime.timedelta(days=2 + 7 * week), by=fam["user"],
                         now=NOW)
    for child in Child.objects.filter(family=large["family"]):
        book_day(child, wednesday, datetime.date(2027, 1, 6), by=large["user"],
                 now=datetime.datetime(2027, 1, 4, 8, tzinfo=paris))
    with time_machine.travel(datetime.datetime(2027, 2, 1, 9, tzinfo=paris), tick=False):
        _fam, headers = families["large"]
        body = client.get(f"{API}/tax-attestations", **headers).json()
        assert [(a["year"], len(a["children"])) for a in body] == [(2027, 4), (2026, 4)]
        # Token, family; the family with its guardians (2), the eligible services, the purchases
        # and refunds (2), the ledger, the children.
        assert both(client, families, "get", lambda f: "/tax-attestations") == 9
        # The same for one year; the town's settings (the PDF's letterhead) are cached by then.
        assert both(client, families, "get", lambda f: "/tax-attestations/2026/pdf") == 9
