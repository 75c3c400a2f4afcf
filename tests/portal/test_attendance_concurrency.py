"""The roll-call under real concurrent posts (threads, one connection each, PostgreSQL)."""

import pytest
from django.core.management import call_command
from django.db import connection

from portal.models import AttendanceMark, Child, LedgerEntry, RollCall, School, Service, TicketDebt, User
from portal.services import attendance
from tests.portal.fixtures_attendance import *  # noqa: F403
from tests.portal.fixtures_attendance import MONDAY_MORNING, book, give_tickets
from tests.portal.test_concurrency import run_concurrently

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="row locks and real concurrency need PostgreSQL (set DATABASE_URL)"),
]


def post_mark(school_pk, service_pk, child_pk, user_pk, present):
    school, service = School.objects.get(pk=school_pk), Service.objects.get(pk=service_pk)
    child = Child.objects.select_related("family").get(pk=child_pk)
    attendance.mark_child(school, service, MONDAY_MORNING.date(), child, present=present,
                          by=User.objects.get(pk=user_pk), now=MONDAY_MORNING)
    return "ok"


def test_thirty_identical_concurrent_marks_make_one_record(meals, school, dupont, martin, animateur):
    book(dupont["child"], meals["canteen"])
    args = [(school.pk, meals["canteen"].pk, dupont["child"].pk, animateur.pk, True)] * 30
    # The child without a booking too: the first mark creates the roll-call itself.
    args += [(school.pk, meals["canteen"].pk, martin["child"].pk, animateur.pk, True)] * 30

    assert run_concurrently(post_mark, args) == ["ok"] * 60

    assert RollCall.objects.count() == 1
    assert AttendanceMark.objects.filter(child=dupont["child"]).count() == 1
    assert AttendanceMark.objects.filter(child=martin["child"], booking=None).count() == 1


def close(school_pk, service_pk, user_pk):
    try:
        attendance.close_roll_call(School.objects.get(pk=school_pk), Service.objects.get(pk=service_pk),
                                   MONDAY_MORNING.date(), by=User.objects.get(pk=user_pk), now=MONDAY_MORNING)
        return "closed"
    except attendance.RollCallError:
        return "refused"


def test_twenty_concurrent_closings_charge_each_penalty_once(meals, school, dupont, martin, animateur, meal):
    give_tickets(martin["family"], meal, 1)  # Tom pays his penalty; Léa has no ticket
    for kid in (dupont["child"], martin["child"]):
        post_mark(school.pk, meals["canteen"].pk, kid.pk, animateur.pk, True)

    results = run_concurrently(close, [(school.pk, meals["canteen"].pk, animateur.pk)] * 20)

    assert sorted(results) == ["closed"] + ["refused"] * 19
    assert LedgerEntry.objects.filter(kind="penalty").count() == 1
    assert TicketDebt.objects.get().attendance.child == dupont["child"]  # no ticket at all: a debt
    call_command("check_wallets")
