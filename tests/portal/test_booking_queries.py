"""One booking click must stay a handful of round trips: pinned here, so an added query fails."""

import pytest
import time_machine
from django.db import connection
from django.urls import reverse

from portal.models import Booking, LedgerEntry
from portal.services.booking import BookingRefused, book_day, cancel_booking
from tests.portal.fixtures_planning import *  # noqa: F403
from tests.portal.fixtures_planning import MONDAY, NOW, give_tickets

pytestmark = pytest.mark.django_db

# Inside the test's transaction, book_day's atomic block is a savepoint: SAVEPOINT, the service's
# row (its rules, never the caller's instance), the wallet locked, the facts read in one query
# (file, school, already booked, waiting list), the day's closures (deadlines.closure_for
# decides, as for the grid), the booking, the ledger entry, the balance, RELEASE.
BOOKING_QUERIES = 9
# A capacity-limited service adds the lock of its row (the day's count joins the facts' query).
CAPPED_BOOKING_QUERIES = 10
# SAVEPOINT, the wallet locked, the booking locked, its UPDATE (a save(), so post_save
# listeners see it), the ledger entry, the balance, RELEASE.
CANCEL_QUERIES = 7


def test_one_booking_runs_a_pinned_number_of_queries(dupont, canteen, meal, django_assert_num_queries):
    give_tickets(dupont["family"], meal, 2)
    with django_assert_num_queries(BOOKING_QUERIES):
        booking = book_day(dupont["child"], canteen, MONDAY, by=dupont["user"], now=NOW)
    assert LedgerEntry.objects.get(booking=booking).quantity == -1


def test_one_booking_of_a_capacity_limited_service_runs_a_pinned_number_of_queries(
        dupont, canteen, meal, django_assert_num_queries):
    canteen.capacity = 10
    canteen.save()
    give_tickets(dupont["family"], meal, 2)
    with django_assert_num_queries(CAPPED_BOOKING_QUERIES) as captured:
        book_day(dupont["child"], canteen, MONDAY, by=dupont["user"], now=NOW)
    sql = [q["sql"] for q in captured.captured_queries]
    # Lock order: the service (it serialises the day's bookings, cancellations and waiting
    # list), then the wallet, then the day's count (read after both locks).
    assert "portal_service" in sql[2] and (connection.vendor != "postgresql" or "FOR UPDATE" in sql[2])
    assert "portal_wallet" in sql[3] and "COUNT(" in sql[4]


def test_a_refused_booking_stops_after_reading_the_rules(dupont, canteen, meal, django_assert_num_queries):
    give_tickets(dupont["family"], meal, 0)
    # SAVEPOINT, the service, the wallet, the facts, the closures, ROLLBACK TO SAVEPOINT, RELEASE.
    with django_assert_num_queries(7), pytest.raises(BookingRefused) as exc:
        book_day(dupont["child"], canteen, MONDAY, by=dupont["user"], now=NOW)
    assert exc.value.code == "no_ticket"


def test_one_cancellation_runs_a_pinned_number_of_queries(dupont, canteen, meal,
                                                          django_assert_num_queries):
    give_tickets(dupont["family"], meal, 1)
    booking = book_day(dupont["child"], canteen, MONDAY, by=dupont["user"], now=NOW)
    with django_assert_num_queries(CANCEL_QUERIES):
        cancel_booking(booking, by=dupont["user"], now=NOW)
    assert Booking.objects.get(pk=booking.pk).status == "cancelled"
    assert LedgerEntry.objects.filter(booking=booking, kind="cancellation", quantity=1).count() == 1


# The htmx click on the planning, whole request, after the parent opened the month: session
# (database sessions here; from Redis in production), user, the child (family and school
# joined), the service clicked (its name and ticket type for the answer), book_day's 9 queries
# above, then the clicked cell again: bookings and balances in one UNION ALL round trip, the
# planning configuration (the month's, loaded by the page) and the file status from the cache.
CLICK_QUERIES = 14


def test_an_htmx_booking_click_runs_a_pinned_number_of_queries(logged_dupont, dupont, canteen, meal,
                                                                 django_assert_num_queries):
    give_tickets(dupont["family"], meal, 3)
    cell = f"{dupont['child'].pk}:{canteen.pk}:{MONDAY.isoformat()}"
    with time_machine.travel(NOW, tick=False):
        assert logged_dupont.get(reverse("portal:planning") + "?mois=2026-09").status_code == 200
        with django_assert_num_queries(CLICK_QUERIES):
            response = logged_dupont.post(reverse("portal:planning_act"), {
                "book": cell, "scope": "family", "mois": "2026-09"}, headers={"HX-Request": "true"})
    assert "Un ticket a été utilisé" in response.content.decode()
    assert Booking.objects.filter(child=dupont["child"], date=MONDAY, status="active").count() == 1
