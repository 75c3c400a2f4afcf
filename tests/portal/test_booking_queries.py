"""One booking click must stay a handful of round trips: pinned here, so an added query fails."""

import pytest
from django.db import connection

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
