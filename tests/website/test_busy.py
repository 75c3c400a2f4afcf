"""When Préau is too busy: « réessayez dans un instant » (503 with Retry-After), and never a
half-applied booking (website/busy.py)."""

import time

import pytest
import time_machine
from django.db import OperationalError, connection
from django.test import Client
from django.urls import reverse

from portal.models import Booking, Wallet
from portal.services.wallet import find_inconsistencies
from tests.portal.fixtures_planning import *  # noqa: F403
from tests.portal.fixtures_planning import NOW, give_tickets
from tests.portal.test_concurrency import row_locked

BUSY = "Réessayez dans un instant."


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=True):
        yield


def book(client, child, service, **extra):
    return client.post(reverse("portal:planning_act"), {
        "scope": f"child:{child.pk}", "mois": "2026-09",
        "book": f"{child.pk}:{service.pk}:2026-09-14"}, **extra)


def assert_busy(response):
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    html = response.content.decode()
    assert BUSY in html and "<h1>" in html
    return html


@pytest.mark.django_db
def test_a_request_that_queued_too_long_is_answered_at_once_and_books_nothing(
        settings, logged_dupont, dupont, canteen, meal):
    settings.PREAU_MAX_QUEUE_SECONDS = 5
    give_tickets(dupont["family"], meal, 2)
    html = assert_busy(book(logged_dupont, dupont["child"], canteen,
                            HTTP_X_REQUEST_START=f"t={time.time() - 8:.3f}"))
    assert "rien n’a été modifié" in html
    assert not Booking.objects.exists()
    assert Wallet.objects.get(family=dupont["family"]).balance == 2
    # A request that did not wait books as usual.
    response = book(logged_dupont, dupont["child"], canteen, HTTP_X_REQUEST_START=f"t={time.time():.3f}")
    assert response.status_code == 302 and Booking.objects.count() == 1


@pytest.mark.django_db
def test_without_a_queue_limit_the_stamp_is_ignored(settings, logged_dupont, dupont, canteen, meal):
    settings.PREAU_MAX_QUEUE_SECONDS = 0
    give_tickets(dupont["family"], meal, 1)
    response = book(logged_dupont, dupont["child"], canteen, HTTP_X_REQUEST_START=f"t={time.time() - 8:.3f}")
    assert response.status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize("stamp", ["t=1", "t=nonsense", "1700000000"])
def test_a_stamp_from_a_clock_far_off_or_malformed_is_ignored(settings, logged_dupont, dupont, canteen, meal,
                                                             stamp):
    settings.PREAU_MAX_QUEUE_SECONDS = 5
    give_tickets(dupont["family"], meal, 1)
    response = book(logged_dupont, dupont["child"], canteen, HTTP_X_REQUEST_START=stamp)
    assert response.status_code == 302 and Booking.objects.count() == 1


@pytest.mark.django_db
def test_a_database_that_does_not_answer_gives_the_busy_page_not_the_500(dupont, monkeypatch):
    client = Client(raise_request_exception=False)
    client.force_login(dupont["user"])

    def refused(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("portal.views.planning.planning", refused, raising=False)
    monkeypatch.setattr("django.db.backends.utils.CursorWrapper.execute", refused)
    html = assert_busy(client.get(reverse("portal:planning")))
    assert "rien n’a été modifié" in html


@pytest.mark.django_db
def test_any_other_failure_still_gives_the_500_page(settings):
    settings.ROOT_URLCONF = "tests.website.urls"
    response = Client(raise_request_exception=False).get("/test-erreur/")
    assert response.status_code == 500 and "Retry-After" not in response


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL (set DATABASE_URL)")
def test_a_booking_that_waits_too_long_for_its_lock_fails_whole_with_the_busy_page(dupont, canteen, meal):
    wallet = give_tickets(dupont["family"], meal, 3)
    with row_locked(wallet):
        client = Client(raise_request_exception=False)
        client.force_login(dupont["user"])
        with connection.cursor() as cursor:  # the test client's requests use this connection
            cursor.execute("SET lock_timeout = '300ms'")
        html = assert_busy(book(client, dupont["child"], canteen))
        assert "enregistré en entier ou pas du tout" in html
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert not Booking.objects.exists()
    assert Wallet.objects.get(pk=wallet.pk).balance == 3
    assert find_inconsistencies() == []


@pytest.mark.django_db
def test_the_api_answers_busy_as_json_with_its_code(settings, dupont):
    settings.PREAU_MAX_QUEUE_SECONDS = 5
    client = Client()
    client.force_login(dupont["user"])
    response = client.get("/api/v1/me", HTTP_X_REQUEST_START=f"t={time.time() - 8:.3f}")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    body = response.json()
    assert body["code"] == "busy" and "rien n’a été modifié" in body["message"]


@pytest.mark.django_db
def test_a_database_failure_in_the_api_is_a_json_busy_answer(dupont, monkeypatch):
    client = Client(raise_request_exception=False)
    client.force_login(dupont["user"])

    def refused(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("django.db.backends.utils.CursorWrapper.execute", refused)
    response = client.get("/api/v1/me")
    assert response.status_code == 503
    assert response.json()["code"] == "busy"


@pytest.mark.django_db
def test_any_other_api_failure_is_json_that_does_not_claim_nothing_changed(dupont, monkeypatch):
    client = Client(raise_request_exception=False)
    client.force_login(dupont["user"])
    monkeypatch.setattr("portal.api.family.family_of", lambda *a, **k: 1 / 0)
    response = client.get("/api/v1/me")
    assert response.status_code == 500
    body = response.json()
    assert body["code"] == "server_error" and "a pu être enregistrée ou non" in body["message"]
