"""The roll-call under real concurrent posts (threads, one connection each, PostgreSQL)."""

import pytest
from django.db import connection

from portal.models import AttendanceMark, Child, RollCall, School, Service, User
from portal.services import attendance
from tests.portal.fixtures_attendance import *  # noqa: F403
from tests.portal.fixtures_attendance import MONDAY_MORNING, book
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
