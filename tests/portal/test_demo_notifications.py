"""`make run`: after `load_demo`, `manage.py send_notifications` shows a deadline reminder and a
low-balance alert in the console (the demo's Benali family)."""

import datetime
import io

import pytest
import time_machine
from django.core import mail
from django.core.management import CommandError, call_command

from portal.models import Booking, LedgerEntry, SentNotification
from portal.services.deadlines import PARIS
from portal.services.wallet import find_inconsistencies
from tests.portal.fixtures_mail import *  # noqa: F403

# Monday 30 November 2026, 10:00: this week's reminders leave on Tuesday at 18:00.
MONDAY = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=PARIS)


@pytest.fixture
def demo(db):
    with time_machine.travel(MONDAY, tick=False):
        call_command("load_demo", stdout=io.StringIO())
        yield


def command(*args):
    out = io.StringIO()
    call_command("send_notifications", *args, stdout=out)
    return out.getvalue()


def test_the_demo_shows_a_reminder_and_a_low_balance_alert(demo, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        before = command()  # Monday morning: not the reminder time yet
    assert [m.subject for m in mail.outbox] == ["Plus qu’un ticket « Repas » dans votre porte-monnaie"]
    assert "send_deadline_reminders mise en file" in before

    with django_capture_on_commit_callbacks(execute=True):
        out = command("--now", "rappel")

    assert "Comme le 01/12/2026 à 18:00 (heure de Paris)." in out
    assert [m.to for m in mail.outbox] == [["famille.rappel.demo@example.org"]] * 2
    reminder = mail.outbox[1]
    assert reminder.subject == "Rappel : rien n’est réservé pour la semaine du 7 décembre"
    assert ("Rien n’est réservé pour Jade la semaine du 7 décembre (Cantine) ; date limite : "
            "jeudi 3 décembre à 10 h 00.") in reminder.body
    assert "Ville de Saint-Exemple" in reminder.body
    # Once sent, never again, whatever the runs.
    with django_capture_on_commit_callbacks(execute=True):
        command("--now", "rappel")
        command("--now", "2026-12-01T19:00")
    assert len(mail.outbox) == 2
    benali = SentNotification.objects.filter(family__name="Famille Benali")
    assert sorted(benali.values_list("kind", flat=True)) == ["low_balance", "reminder"], list(
        SentNotification.objects.values_list("family__name", "kind", "subject", "key"))


def test_loading_the_demo_again_adds_nothing(demo):
    counts = (Booking.objects.count(), LedgerEntry.objects.count())
    with time_machine.travel(MONDAY + datetime.timedelta(hours=2), tick=False):
        call_command("load_demo", stdout=io.StringIO())
    assert (Booking.objects.count(), LedgerEntry.objects.count()) == counts
    assert find_inconsistencies() == []


def test_a_wrong_moment_is_refused_with_a_clear_message(db):
    with pytest.raises(CommandError, match="ni une date-heure ISO"):
        command("--now", "mardi soir")
