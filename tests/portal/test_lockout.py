import datetime
import re

import pytest
import time_machine
from django.test import Client
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


# Behind the documented reverse proxy: every request reaches gunicorn from the proxy's address,
# the proxy appends the address it saw to X-Forwarded-For.
PROXY = "10.0.0.2"


@pytest.fixture
def behind_proxy(settings, axes_on):
    settings.PREAU_TRUSTED_PROXIES = 1


def via_proxy(client_address, spoofed=""):
    forwarded = f"{spoofed}, {client_address}" if spoofed else client_address
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": forwarded}


def login(client, email, password, address, spoofed="", url=None):
    return client.post(url or reverse("portal:login"), {"username": email, "password": password},
                       **via_proxy(address, spoofed))


def test_a_stranger_cannot_lock_the_owner_out_from_another_address(client, parent_a, behind_proxy):
    for _ in range(6):
        login(client, parent_a.email, "mauvais essai", "198.51.100.7")
    assert login(client, parent_a.email, "mauvais essai", "198.51.100.7").status_code == 429
    owner = Client()
    assert login(owner, parent_a.email, PASSWORD, "203.0.113.9").status_code == 302


def test_the_admin_login_cannot_be_locked_by_a_stranger_either(client, agent, behind_proxy):
    for _ in range(6):
        login(client, agent.email, "mauvais essai", "198.51.100.7", url="/admin/login/")
    owner = Client()
    response = login(owner, agent.email, PASSWORD, "203.0.113.9", url="/admin/login/")
    assert response.status_code == 302
    assert "_auth_user_id" in owner.session


def test_an_address_written_by_the_client_is_not_believed(client, parent_a, behind_proxy):
    # Each try claims another address; the proxy's own entry (the real one) still counts them.
    for n in range(5):
        login(client, parent_a.email, "mauvais essai", "198.51.100.7", spoofed=f"192.0.2.{n}")
    assert login(client, parent_a.email, PASSWORD, "198.51.100.7",
                 spoofed="192.0.2.99").status_code == 429


def test_password_spraying_from_one_address_is_stopped(client, parent_a, behind_proxy, settings):
    limit = settings.PREAU_ADDRESS_FAILURE_LIMIT
    for n in range(limit):
        login(client, f"victime{n}@example.org", "Azerty123456", "198.51.100.7")
    # The address is blocked, whatever account it tries next, even with a right password.
    assert login(client, parent_a.email, PASSWORD, "198.51.100.7").status_code == 429
    assert login(client, "victime99@example.org", "Azerty123456", "198.51.100.7").status_code == 429
    # Other visitors behind the same proxy are not.
    assert login(Client(), parent_a.email, PASSWORD, "203.0.113.9").status_code == 302


def test_a_sprayer_cannot_clear_its_count_by_logging_into_its_own_account(
        client, parent_a, parent_b, behind_proxy, settings):
    limit = settings.PREAU_ADDRESS_FAILURE_LIMIT
    for n in range(limit - 1):
        login(client, f"victime{n}@example.org", "Azerty123456", "198.51.100.7")
    assert login(Client(), parent_b.email, PASSWORD, "198.51.100.7").status_code == 302
    login(client, "victime98@example.org", "Azerty123456", "198.51.100.7")
    assert login(client, parent_a.email, PASSWORD, "198.51.100.7").status_code == 429


def test_the_owner_gets_in_at_once_through_the_reset_link(client, parent_a, behind_proxy,
                                                         mailoutbox, django_capture_on_commit_callbacks):
    # Locked from the owner's own address (a shared school or town-hall connection).
    for _ in range(5):
        login(client, parent_a.email, "mauvais essai", "203.0.113.9")
    assert login(client, parent_a.email, PASSWORD, "203.0.113.9").status_code == 429
    owner = Client()
    with django_capture_on_commit_callbacks(execute=True):  # the e-mail is queued, sent on commit
        owner.post(reverse("portal:password_reset"), {"email": parent_a.email},
                   **via_proxy("203.0.113.9"))
    link = re.search(r"https?://[^/\s]+(/famille/mot-de-passe/nouveau/\S+)", mailoutbox[-1].body)
    form_url = owner.get(link.group(1), **via_proxy("203.0.113.9"))["Location"]
    new_password = "Un nouveau départ 2026"
    response = owner.post(form_url, {"new_password1": new_password,
                                     "new_password2": new_password}, **via_proxy("203.0.113.9"))
    assert response.status_code == 302
    assert login(owner, parent_a.email, new_password, "203.0.113.9").status_code == 302
