"""The family's private calendar feed: parsed back with icalendar."""

import datetime

import pytest
import time_machine
from django.urls import reverse
from icalendar import Calendar

from portal.models import AuditLog, Booking, Family, Service
from portal.services import ical
from portal.services.deadlines import PARIS
from tests.portal.fixtures_planning import *  # noqa: F403

NOW = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def _base_url(settings):
    settings.WAGTAILADMIN_BASE_URL = "https://famille.example.org"


@pytest.fixture
def weekly_canteen(school, meal):
    service = Service.objects.create(
        name="Cantine", weekdays="0134", start=datetime.date(2026, 9, 1), end=datetime.date(2027, 7, 3),
        ticket_type=meal, booking_rule="weekly", booking_weekday=3, booking_time=datetime.time(23, 59))
    service.schools.add(school)
    return service


def events(body):
    cal = Calendar.from_ical(body)
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def subscribe(client):
    client.post(reverse("portal:calendar_token"), {"action": "renew"})


def feed_path(family):
    family.refresh_from_db()
    return reverse("portal:calendar_feed", args=[family.calendar_token])


def test_a_family_subscribes_and_its_calendar_lists_bookings_and_deadlines(
        weekly_canteen, dupont, martin, logged_dupont, client):
    lea = dupont["child"]
    lea.allergies = "Arachides"
    lea.save()
    Booking.objects.create(child=lea, service=weekly_canteen, date=datetime.date(2026, 11, 30))
    Booking.objects.create(child=lea, service=weekly_canteen, date=datetime.date(2026, 12, 3))
    Booking.objects.create(child=martin["child"], service=weekly_canteen, date=datetime.date(2026, 12, 3))
    subscribe(logged_dupont)
    page = logged_dupont.get(reverse("portal:notifications")).content.decode()
    path = feed_path(dupont["family"])
    assert f'value="https://famille.example.org{path}"' in page
    assert "Copier l’adresse" in page and "Google Agenda" in page and "iPhone" in page

    client.logout()  # calendar apps have no session: the token is the access
    with time_machine.travel(NOW, tick=False):
        response = client.get(path)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    body = response.content
    found = events(body)
    booked = sorted((e["DTSTART"].dt, str(e["SUMMARY"])) for uid, e in found.items()
                    if uid.startswith("booking-"))
    assert booked == [(datetime.date(2026, 11, 30), "Cantine — Léa"),
                      (datetime.date(2026, 12, 3), "Cantine — Léa")]
    deadline = next(e for e in found.values()
                    if str(e["SUMMARY"]) == "Date limite de réservation : semaine du 7 décembre (Cantine)")
    assert deadline["DTSTART"].dt == datetime.datetime(2026, 12, 3, 23, 59, tzinfo=PARIS)
    assert b"Tom" not in body and b"Arachides" not in body


def test_uids_are_stable_across_two_generations(weekly_canteen, dupont):
    family = dupont["family"]
    Booking.objects.create(child=dupont["child"], service=weekly_canteen, date=datetime.date(2026, 12, 3))
    first = events(ical.family_calendar(family, NOW))
    Booking.objects.create(child=dupont["child"], service=weekly_canteen, date=datetime.date(2026, 12, 10))
    second = events(ical.family_calendar(family, NOW + datetime.timedelta(hours=3)))

    assert set(first) < set(second)
    for uid, event in first.items():
        assert (event["DTSTART"].dt, str(event["SUMMARY"])) == (
            second[uid]["DTSTART"].dt, str(second[uid]["SUMMARY"]))


def test_a_changed_or_deleted_address_answers_404(weekly_canteen, dupont, logged_dupont, client):
    subscribe(logged_dupont)
    old = feed_path(dupont["family"])
    subscribe(logged_dupont)
    new = feed_path(dupont["family"])

    assert old != new
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    logged_dupont.post(reverse("portal:calendar_token"), {"action": "revoke"})
    assert client.get(new).status_code == 404
    assert Family.objects.get(pk=dupont["family"].pk).calendar_token is None
    assert AuditLog.objects.filter(action="calendar.revoke", family=dupont["family"]).exists()


def test_an_unknown_address_answers_404(db, client):
    assert client.get(reverse("portal:calendar_feed", args=["x" * 43])).status_code == 404


def test_a_family_changes_only_its_own_address(dupont, martin, logged_dupont):
    logged_dupont.post(reverse("portal:calendar_token"), {"action": "renew"})

    assert Family.objects.get(pk=martin["family"].pk).calendar_token is None
    assert Family.objects.get(pk=dupont["family"].pk).calendar_token


def test_the_feed_is_read_in_constant_queries(weekly_canteen, dupont, django_assert_max_num_queries):
    for day in (datetime.date(2026, 11, 30), datetime.date(2026, 12, 3), datetime.date(2026, 12, 7)):
        Booking.objects.create(child=dupont["child"], service=weekly_canteen, date=day)
    with django_assert_max_num_queries(6):
        ical.family_calendar(dupont["family"], NOW)
