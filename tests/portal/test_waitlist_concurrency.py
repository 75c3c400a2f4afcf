"""Waiting lists under real concurrent requests (PostgreSQL, threads with one connection each)."""

import pytest
from django.core.management import call_command
from django.db import connection

from portal.models import Booking, Child, Service, WaitlistEntry
from portal.services.booking import (
    BookingRefused,
    book_day,
    cancel_booking,
    fill_from_waitlists,
    join_waitlist,
)
from portal.services.wallet import debit_tickets
from tests.portal.fixtures_planning import *  # noqa: F403
from tests.portal.fixtures_planning import MONDAY, NOW, give_tickets, make_family
from tests.portal.test_concurrency import run_concurrently

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="row locks and real concurrency need PostgreSQL (set DATABASE_URL)"),
]

PLACES = 3


def families(school, meal, prefix, n, tickets):
    out = []
    for i in range(n):
        user, family, (child,) = make_family(f"{prefix}{i}", f"{prefix.lower()}{i}@example.org", school,
                                             children=(f"{prefix}{i}",))
        give_tickets(family, meal, tickets)
        out.append((user, child))
    return out


def act(kind, pk, user_pk, service_pk):
    from portal.models import User

    user = User.objects.get(pk=user_pk)
    service = Service.objects.get(pk=service_pk)
    try:
        if kind == "cancel":
            cancel_booking(Booking.objects.select_related("child", "service").get(pk=pk), by=user, now=NOW)
        elif kind == "join":
            join_waitlist(Child.objects.get(pk=pk), service, MONDAY, by=user, now=NOW)
        elif kind == "fill":
            fill_from_waitlists(service, now=NOW)
        else:
            book_day(Child.objects.get(pk=pk), service, MONDAY, by=user, now=NOW)
        return "ok"
    except BookingRefused as exc:
        return exc.code


def test_cancellations_and_sign_ups_at_once_keep_the_capacity_and_the_lists_order(school, meal, canteen):
    canteen.capacity = PLACES
    canteen.save()
    holders = families(school, meal, "Titulaire", PLACES, 1)
    bookings = [book_day(child, canteen, MONDAY, by=user, now=NOW) for user, child in holders]
    # Eight children already wait, in this order; the second and fifth have no ticket.
    waiting = families(school, meal, "Attente", 8, 1)
    for i in (1, 4):
        debit_tickets(waiting[i][1].family.wallets.get(), 1, "Test", by=None)
    for user, child in waiting:
        join_waitlist(child, canteen, MONDAY, by=user, now=NOW)
    newcomers = families(school, meal, "Nouveau", 10, 1)
    outsiders = families(school, meal, "Direct", 10, 1)

    calls = ([("cancel", b.pk, user.pk, canteen.pk) for b, (user, _c) in zip(bookings, holders, strict=True)]
             + [("join", child.pk, user.pk, canteen.pk) for user, child in newcomers]
             + [("book", child.pk, user.pk, canteen.pk) for user, child in outsiders])
    results = run_concurrently(act, calls)

    assert results[:PLACES] == ["ok"] * PLACES
    # Every freed place went at once to the list: nobody outside it could book.
    assert set(results[-10:]) == {"full"}
    assert results[PLACES:PLACES + 10] == ["ok"] * 10
    active = list(Booking.objects.filter(service=canteen, date=MONDAY, status="active"))
    assert len(active) == PLACES
    # In the list's order, passing over the families without a ticket.
    expected = [waiting[i][1] for i in (0, 2, 3)]
    assert sorted(b.child_id for b in active) == sorted(c.pk for c in expected)
    still = list(WaitlistEntry.objects.filter(status="waiting").order_by("pk")
                 .values_list("child_id", flat=True))
    assert still[:5] == [waiting[i][1].pk for i in (1, 4, 5, 6, 7)]
    assert sorted(still[5:]) == sorted(c.pk for _u, c in newcomers)
    call_command("check_wallets")


def test_many_sign_ups_at_once_each_get_one_place_in_the_list(school, meal, canteen, dupont):
    canteen.capacity = 1
    canteen.save()
    give_tickets(dupont["family"], meal, 1)
    taken = book_day(dupont["child"], canteen, MONDAY, by=dupont["user"], now=NOW)
    signing = families(school, meal, "Liste", 20, 1)
    # Each child signs up twice at once: one entry each.
    calls = [("join", child.pk, user.pk, canteen.pk) for user, child in signing] * 2
    results = run_concurrently(act, calls)
    assert results.count("ok") == 20 and results.count("waiting") == 20
    order = list(WaitlistEntry.objects.order_by("pk").values_list("child_id", flat=True))
    assert sorted(order) == sorted(c.pk for _u, c in signing)
    # Then each cancellation gives the one place to the next child, in the list's order.
    cancel_booking(taken, by=dupont["user"], now=NOW)
    for position, child_id in enumerate(order[:5]):
        booking = Booking.objects.get(service=canteen, date=MONDAY, status="active")
        assert booking.child_id == child_id, position
        cancel_booking(Booking.objects.select_related("child", "service").get(pk=booking.pk),
                       by=booking.child.family.guardians.get(), now=NOW)
    assert Booking.objects.filter(service=canteen, date=MONDAY, status="active").count() == 1
    call_command("check_wallets")


def test_a_higher_capacity_filled_while_places_are_freed_and_children_sign_up(school, meal, canteen):
    canteen.capacity = PLACES
    canteen.save()
    holders = families(school, meal, "Titulaire", PLACES, 1)
    bookings = [book_day(child, canteen, MONDAY, by=user, now=NOW) for user, child in holders]
    waiting = families(school, meal, "Attente", 8, 1)
    debit_tickets(waiting[1][1].family.wallets.get(), 1, "Test", by=None)  # no ticket: passed over
    for user, child in waiting:
        join_waitlist(child, canteen, MONDAY, by=user, now=NOW)
    newcomers = families(school, meal, "Nouveau", 6, 1)
    # The agent's save has committed two more places; their filling runs while two places are
    # freed and newcomers sign up.
    Service.objects.filter(pk=canteen.pk).update(capacity=PLACES + 2)
    agent_user = holders[0][0]
    calls = ([("fill", 0, agent_user.pk, canteen.pk)]
             + [("cancel", b.pk, user.pk, canteen.pk)
                for b, (user, _c) in zip(bookings[:2], holders[:2], strict=True)]
             + [("join", child.pk, user.pk, canteen.pk) for user, child in newcomers])
    results = run_concurrently(act, calls)

    assert results[:3] == ["ok"] * 3
    # A newcomer signing up before the filling took its lock found a free place (not_full).
    assert set(results[3:]) <= {"ok", "not_full"}
    active = list(Booking.objects.filter(service=canteen, date=MONDAY, status="active"))
    assert len(active) == PLACES + 2
    # The four places (two new, two freed) went in the list's order, passing over no ticket.
    assert sorted(b.child_id for b in active) == sorted(
        [c.pk for _u, c in holders[2:]] + [waiting[i][1].pk for i in (0, 2, 3, 4)])
    still = list(WaitlistEntry.objects.filter(status="waiting").order_by("pk")
                 .values_list("child_id", flat=True))
    assert still[:4] == [waiting[i][1].pk for i in (1, 5, 6, 7)]
    call_command("check_wallets")
