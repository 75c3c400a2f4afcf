"""Every agent listing runs the same number of SQL queries for 1 row and for 50 rows: a big town's
back office must not grow with the page (issue 14)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.models import (
    AbsenceReport,
    AuditLog,
    Booking,
    Child,
    Family,
    LedgerEntry,
    Purchase,
    School,
    Service,
    TicketType,
    User,
    Wallet,
)
from tests.factories import make_agent

DAY = datetime.date(2026, 9, 14)


@pytest.fixture
def town(db):
    school = School.objects.create(name="École Jules-Ferry")
    meal = TicketType.objects.create(name="Repas")
    canteen = Service.objects.create(name="Cantine", weekdays="0134", start=datetime.date(2026, 9, 1),
                                     end=datetime.date(2027, 7, 3), ticket_type=meal, is_meal=True)
    canteen.schools.add(school)
    return {"school": school, "meal": meal, "canteen": canteen, "n": 0}


def add_rows(town, agent, count):
    """`count` families, each with a guardian, a child, a wallet, a booking, a paid purchase and
    an audit entry (written straight to the tables: only the listings are under test)."""
    for _ in range(count):
        town["n"] += 1
        n = town["n"]
        user = User.objects.create_user(email=f"p{n}@example.org", password="x" * 12,
                                        first_name=f"Parent{n}", last_name=f"Nom{n}")
        family = Family.objects.create(name=f"Famille {n}", status=Family.Status.VALIDATED,
                                       phone=f"06000000{n:02d}")
        family.guardians.add(user)
        child = Child.objects.create(family=family, first_name=f"Enfant{n}", last_name=f"Nom{n}",
                                     birth_date=datetime.date(2018, 1, 1), school=town["school"])
        wallet = Wallet.objects.create(family=family, ticket_type=town["meal"], balance=4)
        credit = LedgerEntry.objects.create(wallet=wallet, kind=LedgerEntry.Kind.PURCHASE, quantity=5)
        booking = Booking.objects.create(child=child, service=town["canteen"], date=DAY, created_by=user)
        LedgerEntry.objects.create(wallet=wallet, kind=LedgerEntry.Kind.BOOKING, quantity=-1,
                                   booking=booking)
        Purchase.objects.create(family=family, ticket_type=town["meal"], quantity=5, unit_cents=300,
                                amount_cents=1500, method=Purchase.Method.CASH,
                                state=Purchase.State.PAID, ledger_entry=credit, created_by=agent,
                                paid_at=datetime.datetime(2026, 9, 10, 10, tzinfo=datetime.UTC))
        AuditLog.objects.create(actor=agent, action="family.validate", family=family, target=family)
        AbsenceReport.objects.create(child=child, service=town["canteen"], date=DAY, reason="Malade",
                                     created_by=user)


LISTINGS = {
    "bookings": ("reservations:index", {}),
    "bookings of a day": ("reservations:index", {"day": DAY.isoformat()}),
    "bookings found by a child's name": ("reservations:index", {"q": "nom"}),
    "wallets": ("porte-monnaie:index", {}),
    "payments": ("paiements:index", {"start": "2026-09-01"}),
    "families": ("portal_families:index", {}),
    "children": ("portal_children:index", {}),
    "audit log": ("portal_audit:index", {}),
}


def count_rows_and_queries(client, url, params):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, params)
    assert response.status_code == 200
    return response.context["page_obj"].paginator.count, len(context.captured_queries)


@pytest.mark.parametrize("listing", LISTINGS)
def test_each_agent_listing_runs_the_same_queries_for_1_or_50_rows(listing, client, town):
    agent = make_agent()
    client.force_login(agent)
    url_name, params = LISTINGS[listing]
    url = reverse(url_name)
    add_rows(town, agent, 1)
    client.get(url, params)  # warm the per-process caches (site settings, permissions)
    one_row, one_row_queries = count_rows_and_queries(client, url, params)
    add_rows(town, agent, 49)
    rows, queries = count_rows_and_queries(client, url, params)
    assert (one_row, rows) == (1, 50)
    assert queries == one_row_queries, f"{listing}: {one_row_queries} queries for 1 row, {queries} for 50"


DAY_PAGES = {
    "day list": ("staff:day_list", True),
    "roll-call": ("staff:roll_call", True),
    "sick-day reports": ("staff:absences", False),
}


@pytest.mark.parametrize("page", DAY_PAGES)
def test_each_page_of_the_towns_day_runs_the_same_queries_for_1_or_50_children(page, client, town):
    agent = make_agent()
    client.force_login(agent)
    url_name, per_list = DAY_PAGES[page]
    args = [DAY.isoformat(), town["school"].pk, town["canteen"].pk] if per_list else []
    url = reverse(url_name, args=args)
    add_rows(town, agent, 1)
    counts = []
    for more in (0, 49):
        add_rows(town, agent, more)
        client.get(url)
        with CaptureQueriesContext(connection) as context:
            response = client.get(url)
        assert response.status_code == 200
        assert response.content.decode().count("Enfant") >= 1 + more
        counts.append(len(context.captured_queries))
    assert counts[0] == counts[1], f"{page}: {counts[0]} queries for 1 child, {counts[1]} for 50"
