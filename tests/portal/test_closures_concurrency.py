"""Closures saved twice, or overlapping closures saved at once, cancel and refund each booking
once (PostgreSQL, real threads)."""

import datetime

import pytest
from django.core import mail
from django.db import connection, transaction

from portal.models import Booking, Closure, LedgerEntry, SentNotification, User, Wallet
from portal.services import closures
from portal.services.booking import BookingRefused, book_day, cancel_booking
from portal.services.wallet import find_inconsistencies
from tests.portal.fixtures_planning import *  # noqa: F403
from tests.portal.fixtures_planning import MONDAY, NOW, give_tickets, make_family
from tests.portal.test_concurrency import run_concurrently

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="real concurrency needs PostgreSQL (set DATABASE_URL)"),
]

TUESDAY = MONDAY + datetime.timedelta(days=1)
FAMILIES = 6


def apply(closure_pk, agent_pk):
    with transaction.atomic():
        result = closures.apply_closure(Closure.objects.get(pk=closure_pk),
                                        by=User.objects.get(pk=agent_pk))
    return len(result.cancelled)


def family_cancels(booking_pk):
    booking = Booking.objects.select_related("child__family", "service__ticket_type").get(pk=booking_pk)
    try:
        cancel_booking(booking, by=booking.child.family.guardians.get(), now=NOW)
        return 1
    except BookingRefused:
        return 0


def test_overlapping_closures_saved_at_once_refund_each_booking_once(school, canteen, meal, agent):
    bookings = []
    for i in range(FAMILIES):
        user, family, (child,) = make_family(f"F{i}", f"f{i}@example.org", school)
        give_tickets(family, meal, 2)
        bookings += [book_day(child, canteen, day, by=user, now=NOW) for day in (MONDAY, TUESDAY)]
    whole_town = Closure.objects.create(reason="Grève", start=MONDAY, end=MONDAY)
    school_only = Closure.objects.create(reason="Travaux", start=MONDAY, end=TUESDAY, school=school)

    results = run_concurrently(apply, [(whole_town.pk, agent.pk), (school_only.pk, agent.pk)] * 4)

    assert sum(results) == 2 * FAMILIES
    assert not Booking.objects.filter(status="active").exists()
    assert LedgerEntry.objects.filter(kind="cancellation").count() == 2 * FAMILIES
    assert set(Wallet.objects.values_list("balance", flat=True)) == {2}
    assert find_inconsistencies() == []
    # Each family was told what was cancelled for it, each day once.
    assert FAMILIES <= SentNotification.objects.filter(kind="bookings").count() <= 2 * FAMILIES
    told = [line for m in mail.outbox for line in m.body.splitlines() if line.startswith("  – ")]
    assert len(told) == 2 * FAMILIES


def test_a_closure_and_the_families_own_cancellations_at_once_refund_each_booking_once(
        school, canteen, meal, agent):
    bookings = []
    for i in range(FAMILIES):
        user, family, (child,) = make_family(f"F{i}", f"f{i}@example.org", school)
        give_tickets(family, meal, 1)
        bookings.append(book_day(child, canteen, MONDAY, by=user, now=NOW))
    closure = Closure.objects.create(reason="Grève", start=MONDAY, end=MONDAY)

    results = run_concurrently(
        lambda kind, pk: apply(pk, agent.pk) if kind == "closure" else family_cancels(pk),
        [("closure", closure.pk)] * 2 + [("family", b.pk) for b in bookings])

    assert sum(results) == FAMILIES
    assert LedgerEntry.objects.filter(kind="cancellation").count() == FAMILIES
    assert set(Wallet.objects.values_list("balance", flat=True)) == {1}
    assert find_inconsistencies() == []
