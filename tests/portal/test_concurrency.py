"""Wallet and bookings under real concurrent requests (threads, one connection each)."""

import datetime
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction

from portal.models import Booking, Child, LedgerEntry, Service, Wallet
from portal.services import deadlines
from portal.services.booking import BookingRefused, book_day, cancel_booking
from tests.portal.fixtures_planning import *  # noqa: F403
from tests.portal.fixtures_planning import MONDAY, NOW, give_tickets

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="row locks and real concurrency need PostgreSQL (set DATABASE_URL)"),
]

# PostgreSQL allows 100 connections by default; 40 threads keep every request in flight at once
# while leaving room for the test runner.
WORKERS = 40


def run_concurrently(func, args_list):
    start = threading.Event()

    def task(args):
        try:
            start.wait(timeout=60)  # released together once every task is queued
            return func(*args)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        futures = [pool.submit(task, args) for args in args_list]
        start.set()
        return [f.result() for f in futures]


@contextmanager
def row_locked(instance):
    """`instance`'s row locked by another connection (a worker, another request) for the
    duration of the block, as a transaction holding SELECT … FOR UPDATE would."""
    locked, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                type(instance).objects.select_for_update().get(pk=instance.pk)
                locked.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        yield
    finally:
        release.set()
        holder.join()


def try_book(child_pk, service_pk, day, user):
    child = Child.objects.select_related("family").get(pk=child_pk)
    service = Service.objects.get(pk=service_pk)
    try:
        book_day(child, service, day, by=user, now=NOW)
        return "ok"
    except BookingRefused as exc:
        return exc.code


@pytest.fixture
def every_day_service(school, meal):
    service = Service.objects.create(name="Accueil", weekdays="0123456", start=datetime.date(2026, 9, 1),
                                     end=datetime.date(2027, 7, 3), ticket_type=meal, booking_days=0)
    service.schools.add(school)
    return service


def test_200_concurrent_bookings_of_distinct_days_against_10_tickets_make_exactly_10(
        dupont, every_day_service, meal):
    wallet = give_tickets(dupont["family"], meal, 10)
    days, day = [], MONDAY
    while len(days) < 200:
        if deadlines.public_holiday_name(day) is None:
            days.append(day)
        day += datetime.timedelta(days=1)
    results = run_concurrently(try_book, [(dupont["child"].pk, every_day_service.pk, d, dupont["user"])
                                          for d in days])
    assert results.count("ok") == 10
    assert results.count("no_ticket") == 190
    wallet.refresh_from_db()
    assert wallet.balance == 0
    assert Booking.objects.filter(status="active").count() == 10
    assert LedgerEntry.objects.filter(kind="booking").count() == 10
    call_command("check_wallets")


def test_50_identical_concurrent_bookings_make_one_booking_and_one_debit(dupont, canteen, meal):
    wallet = give_tickets(dupont["family"], meal, 5)
    results = run_concurrently(try_book, [(dupont["child"].pk, canteen.pk, MONDAY, dupont["user"])] * 50)
    assert results.count("ok") == 1
    assert results.count("already") == 49
    wallet.refresh_from_db()
    assert wallet.balance == 4
    assert Booking.objects.count() == 1
    assert LedgerEntry.objects.filter(kind="booking").count() == 1
    call_command("check_wallets")


def test_capacity_holds_under_concurrent_bookings_of_different_families(school, canteen, meal):
    from tests.portal.fixtures_planning import make_family

    canteen.capacity = 5
    canteen.save()
    args = []
    for i in range(30):
        user, family, kids = make_family(f"F{i}", f"f{i}@example.org", school)
        give_tickets(family, meal, 1)
        args.append((kids[0].pk, canteen.pk, MONDAY, user))
    results = run_concurrently(try_book, args)
    assert results.count("ok") == 5 and results.count("full") == 25
    assert Booking.objects.filter(service=canteen, date=MONDAY, status="active").count() == 5
    call_command("check_wallets")


def test_concurrent_cancel_and_book_of_the_same_day_keep_ledger_and_bookings_consistent(
        dupont, canteen, meal):
    wallet = give_tickets(dupont["family"], meal, 1)
    rounds = 10
    for _ in range(rounds):
        booking = book_day(dupont["child"], canteen, MONDAY, by=dupont["user"], now=NOW)

        def cancel(pk=booking.pk):
            try:
                cancel_booking(Booking.objects.select_related("child__family", "service").get(pk=pk),
                               by=dupont["user"], now=NOW)
                return "cancelled"
            except BookingRefused as exc:
                return exc.code

        def op(kind):
            if kind == "cancel":
                return cancel()
            return try_book(dupont["child"].pk, canteen.pk, MONDAY, dupont["user"])

        results = run_concurrently(op, [("cancel",)] + [("book",)] * 5)
        assert results[0] == "cancelled"
        assert Booking.objects.filter(status="active").count() <= 1
        wallet.refresh_from_db()
        active = Booking.objects.filter(status="active").count()
        # One ticket in all: it is either in the wallet or in the one active booking.
        assert wallet.balance + active == 1
        leftover = Booking.objects.filter(status="active").first()
        if leftover:
            cancel_booking(leftover, by=dupont["user"], now=NOW)
    assert Wallet.objects.get(pk=wallet.pk).balance == 1
    call_command("check_wallets")


def test_the_agents_debit_holds_the_wallet_row_until_it_commits(dupont, meal, agent):
    """Another connection cannot lock the wallet while an agent's debit is writing it: take away
    select_for_update from lock_wallet and this fails."""
    from unittest import mock

    from django.db import DatabaseError, transaction

    from portal.services import wallet as wallets

    wallet = give_tickets(dupont["family"], meal, 2)
    seen = []

    def other_connection_tries_the_lock():
        try:
            with transaction.atomic():
                Wallet.objects.select_for_update(nowait=True).order_by().get(pk=wallet.pk)
            seen.append("free")
        except DatabaseError:
            seen.append("locked")
        finally:
            connections.close_all()

    real = wallets.apply_entry

    def probe(*args, **kwargs):
        thread = threading.Thread(target=other_connection_tries_the_lock)
        thread.start()
        thread.join()
        return real(*args, **kwargs)

    with mock.patch.object(wallets, "apply_entry", side_effect=probe):
        wallets.debit_tickets(wallet, 1, "Pénalité", by=agent)
    assert seen == ["locked"]
    wallet.refresh_from_db()
    assert wallet.balance == 1


def test_agent_debits_racing_bookings_never_spend_a_ticket_twice(dupont, every_day_service, meal, agent):
    from portal.services.wallet import WalletError, debit_tickets

    wallet = give_tickets(dupont["family"], meal, 10)
    days, day = [], MONDAY
    while len(days) < 20:
        if deadlines.public_holiday_name(day) is None:
            days.append(day)
        day += datetime.timedelta(days=1)

    def debit(_index):
        try:
            debit_tickets(Wallet.objects.get(pk=wallet.pk), 1, "Pénalité", by=agent)
            return "ok"
        except WalletError:
            return "no_ticket"

    tasks = [(try_book, (dupont["child"].pk, every_day_service.pk, d, dupont["user"])) for d in days]
    tasks += [(debit, (i,)) for i in range(20)]
    results = run_concurrently(lambda func, args: func(*args), tasks)
    assert results.count("ok") == 10
    assert results.count("no_ticket") == 30
    wallet.refresh_from_db()
    assert wallet.balance == 0
    assert sum(LedgerEntry.objects.filter(wallet=wallet).values_list("quantity", flat=True)) == 0
    call_command("check_wallets")


def test_the_database_refuses_to_edit_or_delete_a_ledger_entry(dupont, meal):
    from django.db import IntegrityError, transaction

    wallet = give_tickets(dupont["family"], meal, 3)
    table = connection.ops.quote_name(LedgerEntry._meta.db_table)
    for sql in (f"UPDATE {table} SET quantity = 30", f"DELETE FROM {table}"):
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), \
                connection.cursor() as cursor:
            cursor.execute(sql)
    assert list(LedgerEntry.objects.filter(wallet=wallet).values_list("quantity", flat=True)) == [3]
