import re

from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import PASSWORD


def current_code(device):
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def test_production_requires_a_second_factor_for_the_admin():
    from tests.website.test_production import PRODUCTION_ENV, run

    code = "from django.conf import settings; print(settings.PREAU_ADMIN_REQUIRE_2FA)"
    result = run(["-c", f"import django; django.setup(); {code}"], PRODUCTION_ENV)
    assert result.stdout.strip() == "True", result.stderr
    result = run(["-c", f"import django; django.setup(); {code}"],
                 PRODUCTION_ENV | {"PREAU_ADMIN_REQUIRE_2FA": "false"})
    assert result.stdout.strip() == "False", result.stderr


def mailed_code(mailbox):
    return re.search(r"^(\d{6})$", mailbox[-1].body, re.M).group(1)


def test_with_2fa_on_an_agent_proves_their_mailbox_then_enrols_a_totp_device(
        client, settings, agent, mailoutbox, django_capture_on_commit_callbacks):
    settings.PREAU_ADMIN_REQUIRE_2FA = True
    client.force_login(agent)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:otp_verify"))
    page = client.get(response["Location"]).content.decode()
    assert "Scannez ce code" not in page and "Ou saisissez cette clé" not in page
    assert "Recevoir un code par e-mail" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("portal:otp_verify"), {"send": "1", "next": "/admin/"})
    assert mailoutbox[-1].to == [agent.email]
    response = client.post(reverse("portal:otp_verify"), {"token": mailed_code(mailoutbox),
                                                          "next": "/admin/"})
    page = client.get(response["Location"]).content.decode()
    assert "Scannez ce code" in page and "<path" in page
    device = TOTPDevice.objects.get(user=agent, confirmed=False)
    response = client.post(reverse("portal:otp_verify"), {"token": "000000", "next": "/admin/"})
    assert "pas valide" in response.content.decode()
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()
    response = client.post(reverse("portal:otp_verify"), {"token": current_code(device),
                                                          "next": "/admin/"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed


def test_a_stolen_password_alone_cannot_enrol_the_thiefs_authenticator(client, settings, agent,
                                                                      mailoutbox):
    """Before: the first visitor with the password was shown the QR code and its secret."""
    settings.PREAU_ADMIN_REQUIRE_2FA = True
    client.post("/admin/login/", {"username": agent.email, "password": PASSWORD})
    page = client.get(reverse("portal:otp_verify")).content.decode()
    assert "Scannez ce code" not in page
    client.post(reverse("portal:otp_verify"), {"send": "1"})
    # Guessing the mailed code: refused, still no QR code, no secret, no device to scan.
    response = client.post(reverse("portal:otp_verify"), {"token": "123456"})
    page = response.content.decode()
    assert "pas valide" in page and "Scannez ce code" not in page
    assert not TOTPDevice.objects.filter(user=agent).exists()
    assert client.get("/admin/").status_code == 302


def test_a_mailed_code_is_not_sent_twice_within_a_minute(client, settings, agent, mailoutbox,
                                                         django_capture_on_commit_callbacks):
    settings.PREAU_ADMIN_REQUIRE_2FA = True
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("portal:otp_verify"), {"send": "1"})
        response = client.post(reverse("portal:otp_verify"), {"send": "1"}, follow=True)
    assert len(mailoutbox) == 1
    assert "attendez une minute" in response.content.decode()


def test_with_2fa_on_a_confirmed_agent_only_types_the_code(client, settings, agent):
    settings.PREAU_ADMIN_REQUIRE_2FA = True
    device = TOTPDevice.objects.create(user=agent, name="Préau", confirmed=True)
    client.force_login(agent)
    page = client.get(reverse("portal:otp_verify")).content.decode()
    assert "Scannez ce code" not in page
    client.post(reverse("portal:otp_verify"), {"token": current_code(device)})
    assert client.get("/admin/").status_code == 200


def test_the_next_parameter_cannot_send_the_agent_elsewhere(client, settings, agent):
    settings.PREAU_ADMIN_REQUIRE_2FA = True
    device = TOTPDevice.objects.create(user=agent, name="Préau", confirmed=True)
    client.force_login(agent)
    response = client.post(reverse("portal:otp_verify"), {"token": current_code(device),
                                                          "next": "https://evil.example/"})
    assert response["Location"] == "/admin/"


def test_with_2fa_off_the_admin_opens_directly(client, settings, agent):
    settings.PREAU_ADMIN_REQUIRE_2FA = False
    client.force_login(agent)
    assert client.get("/admin/").status_code == 200


def test_a_family_user_is_never_asked_to_enrol_a_second_factor(client, settings, parent_a):
    settings.PREAU_ADMIN_REQUIRE_2FA = True
    client.force_login(parent_a)
    response = client.get("/admin/")
    assert "/admin/login/" in response["Location"]
    assert not TOTPDevice.objects.filter(user=parent_a).exists()
