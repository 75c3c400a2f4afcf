"""With PREAU_ADMIN_REQUIRE_2FA, a staff password alone opens no other family's data: every
portal or staff-page URL that shows staff another family's objects sends a password-only session to the
TOTP step first (the attack: an agent's password, then /famille/dossier/fichiers/2/)."""

import datetime

import pytest
from django.test import Client
from django.urls import URLPattern, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.models import AppToken, Service
from portal.staff_urls import urlpatterns as staff_urls
from portal.urls import urlpatterns as portal_urls
from tests.factories import PASSWORD
from tests.portal.test_two_factor import current_code

# The staff-visible URLs the walk must find (it finds them itself; this keeps it honest).
KNOWN_STAFF_VISIBLE = {"portal:file_download", "portal:receipt", "portal:child_pai",
                       "staff:home", "staff:day_list", "staff:caterer", "staff:roll_call",
                       "staff:absences", "portal:absence_certificate"}


def walk_arguments(objects, requirements):
    """Arguments for every portal URL, naming family A's objects where a URL names one."""
    child = objects["child"]
    service = Service.objects.create(
        name="Cantine", weekdays="01234", start=datetime.date(2026, 9, 1),
        end=datetime.date(2027, 7, 3), ticket_type=objects["purchase"].ticket_type,
        booking_days=1, cancel_days=1)
    service.schools.add(child.school)
    app_token = AppToken.objects.create(user=child.family.guardians.first(), token_hash="a" * 64)
    return {
        "day": timezone.localdate().isoformat(), "school_id": child.school_id,
        "service_id": service.pk,
        "child_id": objects["child"].pk, "item_id": objects["item"].pk,
        "acceptance_id": objects["acceptance"].pk, "purchase_id": objects["purchase"].pk,
        "requirement_id": requirements["insurance"].pk, "report_id": objects["report"].pk,
        "token": "inconnu", "uidb64": "MQ", "session_id": "inconnu",
        "token_id": app_token.public_id, "year": timezone.localdate().year - 1,
    }


def every_portal_url(arguments):
    urls = []
    for namespace, patterns in (("portal", portal_urls), ("staff", staff_urls)):
        for pattern in patterns:
            assert isinstance(pattern, URLPattern)
            names = list(pattern.pattern.converters)
            missing = set(names) - set(arguments)
            assert not missing, f"walk_arguments needs a value for {missing} ({pattern.name})"
            name = f"{namespace}:{pattern.name}"
            urls.append((name, reverse(name, kwargs={n: arguments[n] for n in names})))
    return urls


def password_only_login(client, user):
    """What the attacker had: the password, typed into the admin's login form."""
    response = client.post("/admin/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert "_auth_user_id" in client.session


def verified_login(client, user):
    device = TOTPDevice.objects.create(user=user, name="Préau", confirmed=True)
    client.force_login(user)
    client.post(reverse("portal:otp_verify"), {"token": current_code(device)})
    assert client.session.get("otp_device_id")


@pytest.fixture
def two_factor_on(settings):
    settings.PREAU_ADMIN_REQUIRE_2FA = True


def test_every_staff_visible_portal_url_asks_a_password_only_agent_for_the_totp_step(
        client, agent, parent_b, family_a_objects, requirements, two_factor_on):
    urls = every_portal_url(walk_arguments(family_a_objects, requirements))

    # Staff-visible: another family gets a 404, a fully verified agent gets the content.
    family_client = Client()
    family_client.force_login(parent_b)
    verified = Client()
    verified_login(verified, agent)
    staff_visible = [(name, url) for name, url in urls
                     if family_client.get(url).status_code == 404
                     and verified.get(url).status_code == 200]
    assert {name for name, _url in staff_visible} == KNOWN_STAFF_VISIBLE

    password_only_login(client, agent)
    for name, url in staff_visible:
        response = client.get(url)
        assert response.status_code == 302, name
        assert response["Location"] == f"{reverse('portal:otp_verify')}?{urlencode({'next': url})}"


def test_staff_allowed_health_data_also_need_the_second_factor_for_a_pai(
        client, staff, family_a_objects, two_factor_on):
    client.force_login(staff)
    url = reverse("portal:child_pai", args=[family_a_objects["child"].pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:otp_verify"))


def test_after_the_totp_step_the_agent_gets_the_file(client, agent, family_a_objects,
                                                      two_factor_on):
    verified_login(client, agent)
    response = client.get(reverse("portal:file_download", args=[family_a_objects["item"].pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")


def test_with_2fa_off_the_password_is_enough_as_before(client, agent, family_a_objects, settings):
    settings.PREAU_ADMIN_REQUIRE_2FA = False
    client.force_login(agent)
    assert client.get(reverse("portal:receipt",
                              args=[family_a_objects["acceptance"].pk])).status_code == 200


def test_an_agent_who_is_also_a_parent_opens_their_own_family_file_without_the_totp_step(
        client, agent, family_a, family_a_objects, two_factor_on):
    family_a.guardians.add(agent)
    client.force_login(agent)
    response = client.get(reverse("portal:file_download", args=[family_a_objects["item"].pk]))
    assert response.status_code == 200
