"""Overlapping scheduled runs send each reminder and alert once (PostgreSQL, real threads)."""

import datetime

import pytest
from django.core import mail
from django.db import connection

from portal.models import Booking, SentNotification, Service
from portal.services import notify
from portal.services.deadlines import PARIS
from tests.portal.fixtures_planning import *  # noqa: F403
from tests.portal.fixtures_planning import give_tickets, make_family
from tests.portal.test_concurrency import run_concurrently

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="real concurrency needs PostgreSQL (set DATABASE_URL)"),
]

NOW = datetime.datetime(2026, 12, 1, 18, 5, tzinfo=PARIS)


def run(name):
    return getattr(notify, name)(NOW)


def test_ten_overlapping_runs_send_one_reminder_and_one_alert_per_family(school, meal):
    canteen = Service.objects.create(name="Cantine", weekdays="0134", start=datetime.date(2026, 9, 1),
                                     end=datetime.date(2027, 7, 3), ticket_type=meal,
                                     booking_rule="weekly", booking_weekday=3,
                                     booking_time=datetime.time(23, 59))
    canteen.schools.add(school)
    for i in range(5):
        _user, family, kids = make_family(f"F{i}", f"f{i}@example.org", school)
        Booking.objects.create(child=kids[0], service=canteen, date=datetime.date(2026, 11, 23))
        give_tickets(family, meal, 1)

    results = run_concurrently(run, [("send_deadline_reminders",)] * 10
                               + [("send_low_balance_alerts",)] * 10)

    assert sum(results) == 10
    assert SentNotification.objects.filter(kind="reminder").count() == 5
    assert SentNotification.objects.filter(kind="low_balance").count() == 5
    assert sorted(m.to[0] for m in mail.outbox) == sorted([f"f{i}@example.org" for i in range(5)] * 2)
