import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from tests.factories import PASSWORD


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True


def fail(client, email, times):
    for _ in range(times):
        client.post(reverse("portal:login"), {"username": email, "password": "mauvais essai"})


def test_five_failures_lock_the_account_with_a_clear_message(client, parent_a, axes_on):
    fail(client, parent_a.email, 5)
    response = client.post(reverse("portal:login"), {"username": parent_a.email,
                                                    "password": PASSWORD})
    assert response.status_code == 429
    assert "bloquée pendant 15 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_four_failures_still_let_the_right_password_in(client, parent_a, axes_on):
    fail(client, parent_a.email, 4)
    response = client.post(reverse("portal:login"), {"username": parent_a.email,
                                                    "password": PASSWORD})
    assert response.status_code == 302


def test_the_lock_counts_the_address_whatever_its_case(client, parent_a, axes_on):
    fail(client, parent_a.email.upper(), 5)
    response = client.post(reverse("portal:login"), {"username": parent_a.email,
                                                    "password": PASSWORD})
    assert response.status_code == 429


def test_the_lock_is_lifted_after_15_minutes(client, parent_a, axes_on):
    fail(client, parent_a.email, 5)
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=15, seconds=5)):
        response = client.post(reverse("portal:login"), {"username": parent_a.email,
                                                        "password": PASSWORD})
    assert response.status_code == 302


def test_locking_one_account_does_not_lock_another(client, parent_a, parent_b, axes_on):
    fail(client, parent_a.email, 5)
    response = client.post(reverse("portal:login"), {"username": parent_b.email,
                                                    "password": PASSWORD})
    assert response.status_code == 302
