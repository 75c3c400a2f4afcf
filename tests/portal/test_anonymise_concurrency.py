"""An agent anonymises a family while one of its guardians is booking a day: the booking either
ends before the anonymisation reads the family's future bookings (then it is cancelled and its
ticket given back) or is refused after it (the family is no longer validated). Never a booking
left active on an anonymised family."""

import threading

import pytest
from django.core.management import call_command
from django.db import connection, connections

from portal.models import Booking, Child, Family, LedgerEntry, Service, Wallet
from portal.services import booking as booking_service
from portal.services.booking import BookingRefused, book_day
from portal.services.privacy import anonymise_family
from tests.portal.fixtures_planning import *  # noqa: F403
from tests.portal.fixtures_planning import MONDAY, NOW, give_tickets

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="row locks and real concurrency need PostgreSQL (set DATABASE_URL)"),
]


def _in_thread(func, results, name):
    def run():
        try:
            results[name] = func()
        except Exception as exc:  # noqa: BLE001 — the test reads what each side ended with
            results[name] = exc
        finally:
            connections.close_all()
    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.parametrize("capped", [False, True], ids=["canteen", "capped-canteen"])
def test_a_booking_half_way_when_the_family_is_anonymised_does_not_stay_active(
        monkeypatch, dupont, canteen, meal, agent, capped):
    if capped:
        canteen.capacity = 10
        canteen.save()
    give_tickets(dupont["family"], meal, 3)
    debited, go_on = threading.Event(), threading.Event()
    real_apply_entry = booking_service.apply_entry

    def apply_entry_then_wait(*args, **kwargs):
        # The ticket is debited, the transaction not yet committed: the anonymisation starts now.
        entry = real_apply_entry(*args, **kwargs)
        debited.set()
        go_on.wait(timeout=10)
        return entry

    monkeypatch.setattr(booking_service, "apply_entry", apply_entry_then_wait)
    results = {}

    def book():
        child = Child.objects.select_related("family", "school").get(pk=dupont["child"].pk)
        return book_day(child, Service.objects.get(pk=canteen.pk), MONDAY, by=dupont["user"], now=NOW)

    def anonymise():
        return anonymise_family(Family.objects.get(pk=dupont["family"].pk), by=agent, confirm=True,
                                now=NOW)

    booking_thread = _in_thread(book, results, "booking")
    assert debited.wait(timeout=10)
    anonymise_thread = _in_thread(anonymise, results, "anonymise")
    # The anonymisation waits for the booking's locks instead of reading past it.
    anonymise_thread.join(timeout=1)
    assert anonymise_thread.is_alive()
    go_on.set()
    booking_thread.join(timeout=20)
    anonymise_thread.join(timeout=20)

    assert isinstance(results["booking"], Booking), results
    assert isinstance(results["anonymise"], dict), results
    assert results["anonymise"]["future_bookings_cancelled"] == 1
    booking = Booking.objects.get()
    assert booking.status == Booking.Status.CANCELLED and booking.refunded
    # The ticket came back: the three bought are in the wallet, the ledger says how.
    assert Wallet.objects.get(family=dupont["family"]).balance == 3
    assert list(LedgerEntry.objects.order_by("pk").values_list("kind", "quantity"))[1:] == [
        ("booking", -1), ("cancellation", 1)]
    call_command("check_wallets")


def test_a_booking_after_the_anonymisation_is_refused(dupont, canteen, meal, agent):
    give_tickets(dupont["family"], meal, 3)
    anonymise_family(dupont["family"], by=agent, confirm=True, now=NOW)
    child = Child.objects.select_related("family", "school").get(pk=dupont["child"].pk)
    with pytest.raises(BookingRefused):
        book_day(child, canteen, MONDAY, by=dupont["user"], now=NOW)
    assert not Booking.objects.exists()
    assert Wallet.objects.get(family=dupont["family"]).balance == 3
