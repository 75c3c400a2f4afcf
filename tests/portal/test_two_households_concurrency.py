"""Both households of a child book the same day at once: they lock different wallets, so the
database's one-active-booking index decides. One booking, one ticket debited, nothing lost."""

import pytest
from django.db import connection

from portal.models import Booking, Child, Family, LedgerEntry, Service, Wallet
from portal.services.booking import BookingRefused, book_day
from tests.portal.fixtures_planning import *  # noqa: F403
from tests.portal.fixtures_planning import MONDAY, NOW, give_tickets, make_family
from tests.portal.test_concurrency import run_concurrently

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="row locks and real concurrency need PostgreSQL (set DATABASE_URL)"),
]


def try_book_for(child_pk, family_pk, service_pk, user):
    household = Family.objects.get(pk=family_pk)
    child = Child.objects.select_related("family", "school").get(pk=child_pk).seen_by(household)
    try:
        book_day(child, Service.objects.get(pk=service_pk), MONDAY, by=user, now=NOW)
        return "ok"
    except BookingRefused as exc:
        return exc.code


def test_both_households_booking_the_same_day_at_once_make_one_booking_and_one_debit(
        school, canteen, meal):
    mum, mother, (lea,) = make_family("Dupont", "dupont@example.org", school)
    dad, father, _ = make_family("Durand", "durand@example.org", school, children=())
    lea.other_family = father
    lea.save()
    give_tickets(mother, meal, 10)
    give_tickets(father, meal, 10)

    # Ten clicks from each household, all released at once.
    attempts = [(lea.pk, mother.pk, canteen.pk, mum), (lea.pk, father.pk, canteen.pk, dad)] * 10
    results = run_concurrently(try_book_for, attempts)

    assert results.count("ok") == 1
    booking = Booking.objects.get(status="active")
    winner, loser = (mother, father) if booking.family == mother else (father, mother)
    # The other household's clicks are refused with the state its planning shows.
    theirs = [r for (args, r) in zip(attempts, results, strict=True) if args[1] == loser.pk]
    assert set(theirs) == {"other_household"}
    assert LedgerEntry.objects.filter(kind="booking").count() == 1
    balances = dict(Wallet.objects.values_list("family_id", "balance"))
    assert (balances[winner.pk], balances[loser.pk]) == (9, 10)
