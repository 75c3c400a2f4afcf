import pytest
from django.core.management import CommandError, call_command

from portal.models import Booking, LedgerEntry, Wallet
from portal.services.booking import book_day, cancel_booking
from tests.portal.fixtures_planning import *  # noqa: F403
from tests.portal.fixtures_planning import MONDAY, NOW, give_tickets

pytestmark = pytest.mark.django_db


def test_check_wallets_passes_on_consistent_data(dupont, canteen, meal, capsys):
    give_tickets(dupont["family"], meal, 2)
    booking = book_day(dupont["child"], canteen, MONDAY, by=dupont["user"], now=NOW)
    cancel_booking(booking, by=dupont["user"], now=NOW)
    book_day(dupont["child"], canteen, MONDAY, by=dupont["user"], now=NOW)
    call_command("check_wallets")
    assert "cohérents" in capsys.readouterr().out


def test_check_wallets_reports_a_balance_that_differs_from_the_ledger(dupont, meal):
    wallet = give_tickets(dupont["family"], meal, 2)
    Wallet.objects.filter(pk=wallet.pk).update(balance=5)
    with pytest.raises(CommandError):
        call_command("check_wallets")


def test_check_wallets_reports_a_booking_without_its_debit(dupont, canteen, meal):
    Booking.objects.create(child=dupont["child"], service=canteen, date=MONDAY)
    with pytest.raises(CommandError):
        call_command("check_wallets")


def test_check_wallets_reports_a_cancelled_booking_refunded_twice(dupont, canteen, meal):
    wallet = give_tickets(dupont["family"], meal, 1)
    booking = book_day(dupont["child"], canteen, MONDAY, by=dupont["user"], now=NOW)
    cancel_booking(booking, by=dupont["user"], now=NOW)
    LedgerEntry.objects.create(wallet=wallet, kind="cancellation", quantity=1, booking=booking)
    Wallet.objects.filter(pk=wallet.pk).update(balance=2)
    with pytest.raises(CommandError):
        call_command("check_wallets")


def test_check_wallets_names_only_the_wrong_rows_among_consistent_ones(dupont, canteen, meal, capsys):
    from portal.services.wallet import find_inconsistencies

    wallet = give_tickets(dupont["family"], meal, 3)
    good = book_day(dupont["child"], canteen, MONDAY, by=dupont["user"], now=NOW)
    cancel_booking(good, by=dupont["user"], now=NOW)
    book_day(dupont["child"], canteen, MONDAY, by=dupont["user"], now=NOW)
    lost = Booking.objects.create(child=dupont["child"], service=canteen, date=MONDAY.replace(day=15))
    Wallet.objects.filter(pk=wallet.pk).update(balance=7)
    problems = find_inconsistencies()
    assert len(problems) == 2
    assert problems[0].startswith(f"Porte-monnaie {wallet.pk} ")
    assert "solde 7, somme du journal 2" in problems[0]
    assert problems[1] == (f"Réservation {lost.pk} : 0 débit(s), 0 remboursement(s), état active.")
