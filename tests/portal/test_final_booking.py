"""A booking made after the cancellation deadline (still before the booking deadline) is final
at once: the cell says so before the click, and the click asks for a confirmation."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from portal.models import Booking, Service, Wallet
from portal.services.deadlines import PARIS
from tests.portal.fixtures_planning import *  # noqa: F403
from tests.portal.fixtures_planning import give_tickets

pytestmark = pytest.mark.django_db
# Monday 7 September 2026 at noon: Wednesday 9 can still be booked (1 day before, 10:00) but no
# longer cancelled (2 days before, 10:00); Thursday 10 can be both.
NOON = datetime.datetime(2026, 9, 7, 12, 0, tzinfo=PARIS)
WEDNESDAY, THURSDAY = datetime.date(2026, 9, 9), datetime.date(2026, 9, 10)


@pytest.fixture(autouse=True)
def _noon():
    with time_machine.travel(NOON, tick=False):
        yield


@pytest.fixture
def morning(school, care):
    """The demo garderie's rules: book 1 day before, cancel 2 days before."""
    service = Service.objects.create(
        name="Garderie du matin", weekdays="01234", start=datetime.date(2026, 9, 1),
        end=datetime.date(2027, 7, 3), ticket_type=care, booking_days=1,
        booking_time=datetime.time(10, 0), cancel_days=2, cancel_time=datetime.time(10, 0))
    service.schools.add(school)
    return service


def cell(child, service, day):
    return f"{child.pk}:{service.pk}:{day.isoformat()}"


def post(client, name, value, **headers):
    return client.post(reverse("portal:planning_act"), {name: value, "scope": "family", "mois": "2026-09"},
                       headers=headers)


def test_the_cell_says_non_cancellable_once_booked_before_the_click(logged_dupont, dupont, morning, care):
    give_tickets(dupont["family"], care, 3)
    html = logged_dupont.get(reverse("portal:planning") + "?mois=2026-09").content.decode()
    child = dupont["child"]
    assert f'name="book_final" value="{cell(child, morning, WEDNESDAY)}"' in html
    assert ("Réserver Garderie du matin le mercredi 9 septembre pour Léa (non annulable une fois "
            "réservé)") in html
    assert "Disponible, non annulable une fois réservé" in html
    assert f'name="book" value="{cell(child, morning, THURSDAY)}"' in html


def test_without_javascript_the_click_asks_then_the_confirmation_books(logged_dupont, dupont, morning, care):
    wallet = give_tickets(dupont["family"], care, 3)
    value = cell(dupont["child"], morning, WEDNESDAY)
    page = post(logged_dupont, "book_final", value)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Non annulable une fois réservé" in html
    assert f'name="book_confirmed" value="{value}"' in html
    assert not Booking.objects.exists()
    # A plain "book" for that day (an old page, a forged form) asks too: the server decides.
    assert "Non annulable une fois réservé" in post(logged_dupont, "book", value).content.decode()
    assert not Booking.objects.exists()

    response = post(logged_dupont, "book_confirmed", value)
    assert response.status_code == 302
    assert Booking.objects.get().date == WEDNESDAY
    wallet.refresh_from_db()
    assert wallet.balance == 2
    html = logged_dupont.get(response["Location"]).content.decode()
    assert "Réservé, non annulable" in html


def test_with_htmx_the_cell_turns_into_a_confirm_button_then_books(logged_dupont, dupont, morning, care):
    give_tickets(dupont["family"], care, 3)
    value = cell(dupont["child"], morning, WEDNESDAY)
    response = post(logged_dupont, "book_final", value, **{"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200 and response["HX-Reswap"] == "none"
    assert f'name="book_confirmed" value="{value}"' in html and 'hx-swap-oob="outerHTML"' in html
    assert "Non annulable une fois réservé" in html
    assert not Booking.objects.exists()

    response = post(logged_dupont, "book_confirmed", value, **{"HX-Request": "true"})
    assert response.status_code == 200
    assert Booking.objects.filter(date=WEDNESDAY, status="active").count() == 1
    assert Wallet.objects.get(family=dupont["family"]).balance == 2
    assert "Réservé, non annulable" in response.content.decode()


def test_a_day_still_cancellable_books_at_the_first_click(logged_dupont, dupont, morning, care):
    give_tickets(dupont["family"], care, 3)
    response = post(logged_dupont, "book", cell(dupont["child"], morning, THURSDAY))
    assert response.status_code == 302 and Booking.objects.get().date == THURSDAY
