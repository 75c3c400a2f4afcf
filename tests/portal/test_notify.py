"""Who is told what, and when: deadline reminders and low-balance alerts (portal/services/notify.py)."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from portal.models import Booking, Closure, SentNotification, Service
from portal.services import notify
from portal.services.deadlines import PARIS
from tests.portal.fixtures_mail import *  # noqa: F403
from tests.portal.fixtures_planning import *  # noqa: F403
from tests.portal.fixtures_planning import give_tickets, make_family

BASE = "https://famille.example.org"
# Tuesday 1 December 2026, the town's default reminder time (Tuesday 18:00) just passed.
REMINDER_TIME = datetime.datetime(2026, 12, 1, 18, 5, tzinfo=PARIS)
NEXT_MONDAY = datetime.date(2026, 12, 7)


@pytest.fixture(autouse=True)
def _base_url(settings):
    settings.WAGTAILADMIN_BASE_URL = BASE


@pytest.fixture
def weekly_canteen(school, meal):
    """Canteen booked by Thursday 23:59 for the following week."""
    service = Service.objects.create(
        name="Cantine", weekdays="0134", start=datetime.date(2026, 9, 1), end=datetime.date(2027, 7, 3),
        ticket_type=meal, order=1, booking_rule="weekly", booking_weekday=3,
        booking_time=datetime.time(23, 59), cancel_rule="weekly", cancel_weekday=3,
        cancel_time=datetime.time(23, 59))
    service.schools.add(school)
    return service


def used(child, service, day=datetime.date(2026, 11, 23)):
    return Booking.objects.create(child=child, service=service, date=day)


def run_reminders(capture, now=REMINDER_TIME):
    with capture(execute=True):
        return notify.send_deadline_reminders(now)


def test_a_child_who_usually_eats_at_the_canteen_is_reminded_of_the_coming_week(
        weekly_canteen, dupont, django_capture_on_commit_callbacks):
    used(dupont["child"], weekly_canteen)
    dupont["child"].allergies = "Arachides"
    dupont["child"].save()

    assert run_reminders(django_capture_on_commit_callbacks) == 1

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["dupont@example.org"]
    assert message.subject == "Rappel : rien n’est réservé pour la semaine du 7 décembre"
    body = message.body
    assert ("Rien n’est réservé pour Léa la semaine du 7 décembre (Cantine) ; "
            "date limite : jeudi 3 décembre à 23 h 59.") in body
    child, service = dupont["child"], weekly_canteen
    assert (f"{BASE}/famille/planning/enfant/{child.pk}/?semaine=2026-12-07"
            f"#c-{child.pk}-{service.pk}-20261207") in body
    assert "Ville de Saint-Exemple" in body
    assert f"{BASE}{reverse('portal:notifications')}" in body
    assert "Arachides" not in body
    assert not message.alternatives  # plain text
    record = SentNotification.objects.get()
    assert (record.family, record.kind, record.subject) == (
        dupont["family"], SentNotification.Kind.REMINDER, message.subject)


def test_the_town_contacts_sign_every_notification(weekly_canteen, dupont, demo_site,
                                                   django_capture_on_commit_callbacks):
    from home.models import TownSettings

    town = TownSettings.for_site(demo_site)
    town.town_name, town.town_hall_phone, town.town_hall_email = (
        "Mairie de Préville", "01 23 45 67 89", "periscolaire@preville.fr")
    town.save()
    used(dupont["child"], weekly_canteen)

    run_reminders(django_capture_on_commit_callbacks)

    body = mail.outbox[0].body
    assert "Mairie de Préville" in body and "01 23 45 67 89" in body
    assert "periscolaire@preville.fr" in body


def test_nothing_is_sent_before_the_towns_reminder_time(weekly_canteen, dupont,
                                                        django_capture_on_commit_callbacks):
    used(dupont["child"], weekly_canteen)

    assert run_reminders(django_capture_on_commit_callbacks,
                         now=datetime.datetime(2026, 12, 1, 17, 55, tzinfo=PARIS)) == 0
    assert mail.outbox == []


def test_the_reminder_weekday_and_hour_are_the_towns(weekly_canteen, dupont, demo_site,
                                                     django_capture_on_commit_callbacks):
    from home.models import TownSettings

    town = TownSettings.for_site(demo_site)
    town.reminder_weekday, town.reminder_hour = 2, 9  # Wednesday 09:00
    town.save()
    used(dupont["child"], weekly_canteen)

    assert run_reminders(django_capture_on_commit_callbacks) == 0  # Tuesday evening
    run_reminders(django_capture_on_commit_callbacks,
                  now=datetime.datetime(2026, 12, 2, 9, 0, tzinfo=PARIS))
    assert "dupont@example.org" in [m.to[0] for m in mail.outbox]


def test_a_child_with_a_booking_in_the_coming_week_is_not_reminded(
        weekly_canteen, dupont, django_capture_on_commit_callbacks):
    used(dupont["child"], weekly_canteen)
    Booking.objects.create(child=dupont["child"], service=weekly_canteen,
                           date=NEXT_MONDAY + datetime.timedelta(days=3))

    assert run_reminders(django_capture_on_commit_callbacks) == 0


def test_a_cancelled_booking_does_not_count_as_booked(weekly_canteen, dupont,
                                                      django_capture_on_commit_callbacks):
    used(dupont["child"], weekly_canteen)
    Booking.objects.create(child=dupont["child"], service=weekly_canteen, date=NEXT_MONDAY,
                           status=Booking.Status.CANCELLED)

    assert run_reminders(django_capture_on_commit_callbacks) == 1


def test_a_service_the_child_never_uses_is_never_reminded(weekly_canteen, dupont, martin,
                                                          django_capture_on_commit_callbacks):
    used(dupont["child"], weekly_canteen, day=datetime.date(2026, 10, 26))  # five weeks ago

    assert run_reminders(django_capture_on_commit_callbacks) == 0  # nor Martin: never booked
    assert mail.outbox == []


@pytest.mark.parametrize("closure", [
    {"kind": Closure.Kind.SCHOOL_HOLIDAY, "reason": "Vacances de Noël"},
    {"kind": Closure.Kind.ONE_OFF, "reason": "Travaux"},
])
def test_no_reminder_for_a_holiday_or_a_closed_week(closure, weekly_canteen, school, dupont,
                                                    django_capture_on_commit_callbacks):
    used(dupont["child"], weekly_canteen)
    Closure.objects.create(start=NEXT_MONDAY, end=NEXT_MONDAY + datetime.timedelta(days=6),
                           school=school if closure["kind"] == Closure.Kind.ONE_OFF else None,
                           **closure)

    assert run_reminders(django_capture_on_commit_callbacks) == 0


def test_a_closure_of_another_school_or_of_two_days_still_reminds(
        weekly_canteen, school, other_school, dupont, django_capture_on_commit_callbacks):
    used(dupont["child"], weekly_canteen)
    Closure.objects.create(start=NEXT_MONDAY, end=NEXT_MONDAY + datetime.timedelta(days=6),
                           school=other_school, reason="Travaux")
    Closure.objects.create(start=NEXT_MONDAY, end=NEXT_MONDAY + datetime.timedelta(days=1),
                           school=school, reason="Grève")

    assert run_reminders(django_capture_on_commit_callbacks) == 1
    # The link goes to the first day that can still be booked: Thursday.
    assert "-20261210" in mail.outbox[0].body


def test_a_family_that_switched_reminders_off_gets_none(weekly_canteen, dupont,
                                                        django_capture_on_commit_callbacks):
    used(dupont["child"], weekly_canteen)
    dupont["family"].email_reminders = False
    dupont["family"].save()

    assert run_reminders(django_capture_on_commit_callbacks) == 0
    assert SentNotification.objects.count() == 0


def test_a_family_whose_file_is_not_validated_gets_none(weekly_canteen, school,
                                                        django_capture_on_commit_callbacks):
    _user, family, kids = make_family("Petit", "petit@example.org", school, status="submitted")
    used(kids[0], weekly_canteen)

    assert run_reminders(django_capture_on_commit_callbacks) == 0


def test_one_email_per_family_whatever_the_number_of_children_and_runs(
        weekly_canteen, evening, school, django_capture_on_commit_callbacks):
    _user, family, (lea, jade) = make_family("Roux", "roux@example.org", school,
                                             children=("Léa", "Jade"))
    used(lea, weekly_canteen)
    used(jade, weekly_canteen)
    used(jade, evening)

    assert run_reminders(django_capture_on_commit_callbacks) == 1
    assert run_reminders(django_capture_on_commit_callbacks) == 0
    assert run_reminders(django_capture_on_commit_callbacks,
                         now=REMINDER_TIME + datetime.timedelta(days=1)) == 0

    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert "pour Léa la semaine du 7 décembre (Cantine) ; date limite : jeudi 3 décembre à 23 h 59" in body
    assert "pour Jade la semaine du 7 décembre (Cantine) ; date limite : jeudi 3 décembre à 23 h 59" in body
    # The evening care closes a day before each day at 10:00: Sunday 6 December for Monday.
    assert ("pour Jade la semaine du 7 décembre (Garderie du soir) ; "
            "date limite : dimanche 6 décembre à 10 h 00") in body
    # The next week is a new period: a new reminder.
    assert run_reminders(django_capture_on_commit_callbacks,
                         now=REMINDER_TIME + datetime.timedelta(days=7)) == 1


def test_once_the_deadline_has_passed_no_reminder_is_sent(weekly_canteen, dupont,
                                                          django_capture_on_commit_callbacks):
    used(dupont["child"], weekly_canteen)

    assert run_reminders(django_capture_on_commit_callbacks,
                         now=datetime.datetime(2026, 12, 4, 0, 1, tzinfo=PARIS)) == 0


# DST: the reminder hour and the deadlines are Paris time on both sides of the change.

def _command(capture):
    with capture(execute=True):
        call_command("send_notifications", stdout=open("/dev/null", "w"))


def test_in_the_week_after_the_autumn_change_the_reminder_waits_for_18_00_paris_time(
        weekly_canteen, dupont, django_capture_on_commit_callbacks):
    used(dupont["child"], weekly_canteen, day=datetime.date(2026, 10, 19))
    # Sunday 25 October 2026: CEST → CET. Tuesday 27 at 17:30 in Paris is 16:30 UTC.
    with time_machine.travel(datetime.datetime(2026, 10, 27, 16, 30, tzinfo=datetime.UTC), tick=False):
        _command(django_capture_on_commit_callbacks)
    assert mail.outbox == []
    with time_machine.travel(datetime.datetime(2026, 10, 27, 17, 0, tzinfo=datetime.UTC), tick=False):
        _command(django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    assert "semaine du 2 novembre (Cantine) ; date limite : jeudi 29 octobre à 23 h 59" in mail.outbox[0].body


def test_in_the_week_after_the_spring_change_the_reminder_leaves_at_18_00_paris_time(
        weekly_canteen, dupont, django_capture_on_commit_callbacks):
    used(dupont["child"], weekly_canteen, day=datetime.date(2027, 3, 22))
    # Sunday 28 March 2027: CET → CEST. Tuesday 30 at 18:00 in Paris is 16:00 UTC.
    with time_machine.travel(datetime.datetime(2027, 3, 30, 15, 59, tzinfo=datetime.UTC), tick=False):
        _command(django_capture_on_commit_callbacks)
    assert mail.outbox == []
    with time_machine.travel(datetime.datetime(2027, 3, 30, 16, 0, tzinfo=datetime.UTC), tick=False):
        _command(django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    assert "semaine du 5 avril (Cantine) ; date limite : jeudi 1er avril à 23 h 59" in mail.outbox[0].body


def test_a_deadline_across_the_change_is_given_in_paris_time(evening, dupont,
                                                             django_capture_on_commit_callbacks):
    """The evening care of Monday 26 October closes the day before, Sunday 25, at 10:00 —
    the day the clocks go back."""
    used(dupont["child"], evening, day=datetime.date(2026, 10, 12))
    run_reminders(django_capture_on_commit_callbacks,
                  now=datetime.datetime(2026, 10, 20, 18, 0, tzinfo=PARIS))

    assert "date limite : dimanche 25 octobre à 10 h 00" in mail.outbox[0].body


# Low balance -------------------------------------------------------------------------------

def run_alerts(capture, now):
    with capture(execute=True):
        return notify.send_low_balance_alerts(now)


@pytest.fixture
def low_dupont(canteen, meal, dupont):
    used(dupont["child"], canteen)
    return give_tickets(dupont["family"], meal, 2)


def test_a_family_under_the_threshold_is_alerted_at_most_every_two_days(
        low_dupont, django_capture_on_commit_callbacks):
    assert run_alerts(django_capture_on_commit_callbacks, REMINDER_TIME) == 1
    message = mail.outbox[0]
    assert message.subject == "Plus que 2 tickets « Repas » dans votre porte-monnaie"
    assert f"{BASE}{reverse('portal:payment_buy')}" in message.body

    assert run_alerts(django_capture_on_commit_callbacks, REMINDER_TIME) == 0
    assert run_alerts(django_capture_on_commit_callbacks,
                      REMINDER_TIME + datetime.timedelta(days=1, hours=23)) == 0
    assert run_alerts(django_capture_on_commit_callbacks,
                      REMINDER_TIME + datetime.timedelta(days=2, minutes=1)) == 1
    assert len(mail.outbox) == 2


def test_each_ticket_type_has_its_own_alert_and_its_own_two_days(
        canteen, evening, meal, care, dupont, django_capture_on_commit_callbacks):
    used(dupont["child"], canteen)
    used(dupont["child"], evening)
    give_tickets(dupont["family"], meal, 1)
    give_tickets(dupont["family"], care, 0)

    assert run_alerts(django_capture_on_commit_callbacks, REMINDER_TIME) == 2
    assert sorted(m.subject for m in mail.outbox) == [
        "Plus aucun ticket « Garderie » dans votre porte-monnaie",
        "Plus qu’un ticket « Repas » dans votre porte-monnaie"]
    assert run_alerts(django_capture_on_commit_callbacks, REMINDER_TIME + datetime.timedelta(days=1)) == 0
    give_tickets(dupont["family"], meal, 5)  # Repas back above: only Garderie is alerted again
    assert run_alerts(django_capture_on_commit_callbacks, REMINDER_TIME + datetime.timedelta(days=3)) == 1
    assert mail.outbox[-1].subject == "Plus aucun ticket « Garderie » dans votre porte-monnaie"


def test_no_alert_while_the_balance_is_back_above(low_dupont, meal, dupont,
                                                  django_capture_on_commit_callbacks):
    give_tickets(dupont["family"], meal, 1)  # 3: not under 3

    assert run_alerts(django_capture_on_commit_callbacks, REMINDER_TIME) == 0


def test_the_threshold_is_set_per_ticket_type(low_dupont, meal, django_capture_on_commit_callbacks):
    meal.low_balance_threshold = 0
    meal.save()
    assert run_alerts(django_capture_on_commit_callbacks, REMINDER_TIME) == 0
    meal.low_balance_threshold = 10
    meal.save()
    assert run_alerts(django_capture_on_commit_callbacks, REMINDER_TIME) == 1


def test_no_alert_for_a_ticket_the_family_does_not_use(care, dupont,
                                                       django_capture_on_commit_callbacks):
    give_tickets(dupont["family"], care, 1)

    assert run_alerts(django_capture_on_commit_callbacks, REMINDER_TIME) == 0


def test_no_alert_for_a_family_that_switched_it_off(low_dupont, dupont,
                                                    django_capture_on_commit_callbacks):
    dupont["family"].email_low_balance = False
    dupont["family"].save()

    assert run_alerts(django_capture_on_commit_callbacks, REMINDER_TIME) == 0


def test_the_scheduled_command_runs_both_and_sends_nothing_twice(
        weekly_canteen, low_dupont, dupont, django_capture_on_commit_callbacks):
    used(dupont["child"], weekly_canteen)
    with time_machine.travel(REMINDER_TIME, tick=False):
        _command(django_capture_on_commit_callbacks)
        _command(django_capture_on_commit_callbacks)

    kinds = sorted(SentNotification.objects.values_list("kind", flat=True))
    assert kinds == ["low_balance", "reminder"]
    assert len(mail.outbox) == 2


def test_the_queries_of_a_reminder_run_do_not_grow_with_the_families(weekly_canteen, school):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count():
        with CaptureQueriesContext(connection) as ctx:
            due = notify.due_reminders(REMINDER_TIME)
        return len(ctx.captured_queries), len(due.families)

    _user, _family, kids = make_family("F", "f@example.org", school)
    used(kids[0], weekly_canteen)
    notify.due_reminders(REMINDER_TIME)  # the town settings, read once and cached
    one = count()
    for i in range(6):
        _user, _family, kids = make_family(f"F{i}", f"f{i}@example.org", school)
        used(kids[0], weekly_canteen)
    assert count() == (one[0], 7)


def test_the_reminder_link_opens_the_planning_at_that_week_and_day(
        weekly_canteen, dupont, logged_dupont, django_capture_on_commit_callbacks):
    import re

    used(dupont["child"], weekly_canteen)
    run_reminders(django_capture_on_commit_callbacks)
    url = re.search(rf"{BASE}(/famille/planning/\S+)", mail.outbox[0].body).group(1)
    path, anchor = url.split("#")

    page = logged_dupont.get(path).content.decode()

    assert f'id="{anchor}"' in page
    assert "7 décembre" in page
