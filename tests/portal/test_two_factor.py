from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice


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


def test_with_2fa_on_an_agent_enrols_a_totp_device_before_the_admin(client, settings, agent):
    settings.PREAU_ADMIN_REQUIRE_2FA = True
    client.force_login(agent)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:otp_verify"))
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
