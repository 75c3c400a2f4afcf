import datetime
import re

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from portal.models import Family, Invitation, User
from portal.services import accounts

NEW_PASSWORD = "une phrase assez longue 2026"


def invitation_path(message):
    return re.search(r"https?://[^/\s]+(/famille/invitation/[^\s]+/)", message.body).group(1)


@pytest.fixture
def invited(db, agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        family = accounts.create_family(
            name="Famille Nouvelle", by=agent,
            guardians=[{"email": "Nouveau.Parent@Example.org", "first_name": "Nina",
                        "last_name": "Nouvelle"}])
    return family


def test_creating_a_family_e_mails_an_invitation_and_sets_no_password(invited):
    user = invited.guardians.get()
    assert user.email == "nouveau.parent@example.org"
    assert not user.has_usable_password()
    assert invited.status == Family.Status.INVITED
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["nouveau.parent@example.org"]
    assert "/famille/invitation/" in mail.outbox[0].body
    # Only the hash is stored: the link's token appears nowhere in the database.
    token = invitation_path(mail.outbox[0]).split("/")[-2]
    assert not Invitation.objects.filter(token_hash=token).exists()


def test_a_parent_sets_a_password_from_the_invitation_and_is_logged_in(client, invited):
    path = invitation_path(mail.outbox[0])
    assert client.get(path).status_code == 200
    response = client.post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    user = User.objects.get(email="nouveau.parent@example.org")
    assert user.check_password(NEW_PASSWORD)
    invited.refresh_from_db()
    assert invited.status == Family.Status.INCOMPLETE
    assert client.get(reverse("portal:dashboard")).status_code == 200


def test_an_invitation_link_works_only_once(client, invited):
    path = invitation_path(mail.outbox[0])
    client.post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    client.logout()
    response = client.post(path, {"new_password1": "autre phrase tres longue",
                                  "new_password2": "autre phrase tres longue"})
    assert response.status_code == 410
    assert "déjà été utilisé" in response.content.decode()
    assert User.objects.get(email="nouveau.parent@example.org").check_password(NEW_PASSWORD)


def test_an_invitation_expires_after_72_hours(client, invited):
    path = invitation_path(mail.outbox[0])
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=72, seconds=1)):
        response = client.post(path, {"new_password1": NEW_PASSWORD,
                                      "new_password2": NEW_PASSWORD})
    assert response.status_code == 410
    assert "expiré" in response.content.decode()
    assert not User.objects.get(email="nouveau.parent@example.org").has_usable_password()


def test_an_invitation_still_works_just_before_72_hours(client, invited):
    path = invitation_path(mail.outbox[0])
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=71, minutes=59)):
        assert client.get(path).status_code == 200


def test_resending_replaces_the_old_link(client, invited, agent, django_capture_on_commit_callbacks):
    old_path = invitation_path(mail.outbox[0])
    with django_capture_on_commit_callbacks(execute=True):
        accounts.resend_invitations(invited, by=agent)
    new_path = invitation_path(mail.outbox[1])
    assert new_path != old_path
    response = client.get(old_path)
    assert response.status_code == 410
    assert "remplacé" in response.content.decode()
    assert client.get(new_path).status_code == 200


def test_resending_is_refused_once_every_guardian_has_a_password(invited, agent):
    user = invited.guardians.get()
    user.set_password(NEW_PASSWORD)
    user.save()
    with pytest.raises(accounts.AccountError):
        accounts.resend_invitations(invited, by=agent)


def test_an_unknown_invitation_token_gives_a_clear_message(client, db):
    response = client.get(reverse("portal:invitation", args=["nimporte-quoi"]))
    assert response.status_code == 410
    assert "pas valide" in response.content.decode()


@pytest.mark.parametrize("password,error", [
    ("court2026", "trop court"),
    ("password1234", "trop courant"),
    ("x" * 129, "128 caractères"),
])
def test_weak_passwords_are_refused_with_a_reason(client, invited, password, error):
    path = invitation_path(mail.outbox[0])
    response = client.post(path, {"new_password1": password, "new_password2": password})
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not User.objects.get(email="nouveau.parent@example.org").has_usable_password()


def test_forgot_password_says_the_same_thing_whether_the_address_exists_or_not(
        client, parent_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # queued, sent after the commit
        known = client.post(reverse("portal:password_reset"), {"email": parent_a.email}, follow=True)
        unknown = client.post(reverse("portal:password_reset"), {"email": "personne@example.org"},
                              follow=True)
    assert known.status_code == unknown.status_code == 200
    assert known.redirect_chain == unknown.redirect_chain
    for response in (known, unknown):
        assert "Si un compte existe pour cette adresse" in response.content.decode()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [parent_a.email]
    assert "/famille/mot-de-passe/nouveau/" in mail.outbox[0].body


def test_the_login_page_says_wrong_credentials_without_saying_which(client, parent_a):
    response = client.post(reverse("portal:login"), {"username": parent_a.email,
                                                    "password": "mauvais mot de passe"})
    assert "Adresse e-mail ou mot de passe incorrect" in response.content.decode()


def test_login_rotates_the_session_id(client, parent_a):
    from tests.factories import PASSWORD

    client.get(reverse("portal:login"))
    client.session["marker"] = 1
    before = client.session.session_key
    response = client.post(reverse("portal:login"), {"username": parent_a.email,
                                                    "password": PASSWORD})
    assert response.status_code == 302
    assert client.session.session_key != before


def test_a_family_session_ends_after_30_minutes_idle(client, parent_a):
    client.force_login(parent_a)
    assert client.get(reverse("portal:dashboard")).status_code == 200
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=31)):
        response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))


def test_a_family_session_survives_29_minutes_idle(client, parent_a):
    client.force_login(parent_a)
    client.get(reverse("portal:dashboard"))
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=29)):
        assert client.get(reverse("portal:dashboard")).status_code == 200


def test_changing_e_mail_needs_the_link_sent_to_the_new_address(
        client, parent_a, django_capture_on_commit_callbacks):
    client.force_login(parent_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("portal:email_change"), {"email": "nouvelle@example.org"})
    parent_a.refresh_from_db()
    assert parent_a.email == "parent.a@example.org"
    assert mail.outbox[0].to == ["nouvelle@example.org"]
    path = re.search(r"(/famille/compte/e-mail/[^\s]+/)", mail.outbox[0].body).group(1)
    with django_capture_on_commit_callbacks(execute=True):
        client.get(path)
    parent_a.refresh_from_db()
    assert parent_a.email == "nouvelle@example.org"
    assert mail.outbox[1].to == ["parent.a@example.org"]


def test_an_e_mail_change_link_cannot_be_used_by_another_account(
        client, parent_a, parent_b, django_capture_on_commit_callbacks):
    client.force_login(parent_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("portal:email_change"), {"email": "vol@example.org"})
    path = re.search(r"(/famille/compte/e-mail/[^\s]+/)", mail.outbox[0].body).group(1)
    client.force_login(parent_b)
    client.get(path)
    parent_b.refresh_from_db()
    assert parent_b.email == "parent.b@example.org"


def test_self_sign_up_is_off_by_default(client, db):
    assert client.get(reverse("portal:signup")).status_code == 404


def test_self_sign_up_with_the_town_code_creates_a_pending_family(
        client, settings, db, django_capture_on_commit_callbacks):
    settings.PREAU_SIGNUP_TOWN_CODE = "EXEMPLE-2026"
    data = {"town_code": "mauvais", "family_name": "Famille Libre", "first_name": "Lou",
            "last_name": "Libre", "email": "lou@example.org"}
    response = client.post(reverse("portal:signup"), data)
    assert "code commune est incorrect" in response.content.decode()
    assert not Family.objects.filter(name="Famille Libre").exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("portal:signup"), data | {"town_code": "exemple-2026"})
    family = Family.objects.get(name="Famille Libre")
    assert family.self_registered
    assert family.status == Family.Status.INVITED
    assert "/famille/invitation/" in mail.outbox[0].body


def test_self_sign_up_with_a_known_address_reveals_nothing(
        client, settings, parent_a, django_capture_on_commit_callbacks):
    settings.PREAU_SIGNUP_TOWN_CODE = "EXEMPLE-2026"
    data = {"town_code": "EXEMPLE-2026", "family_name": "Famille Copie", "first_name": "A",
            "last_name": "B", "email": parent_a.email}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal:signup"), data)
    assert "Vérifiez vos e-mails" in response.content.decode()
    assert not Family.objects.filter(name="Famille Copie").exists()
    assert "déjà un compte" in mail.outbox[0].subject
    assert mail.outbox[0].to == [parent_a.email]


def test_a_parent_who_logs_in_lands_on_their_space(client, parent_a):
    from tests.factories import PASSWORD

    response = client.post(reverse("portal:login"), {"username": parent_a.email, "password": PASSWORD})
    assert response["Location"] == reverse("portal:dashboard")


def test_login_goes_to_the_page_asked_for_but_never_to_another_site(client, parent_a):
    from tests.factories import PASSWORD

    credentials = {"username": parent_a.email, "password": PASSWORD}
    asked = client.post(f"{reverse('portal:login')}?next=/famille/planning/", credentials)
    assert asked["Location"] == "/famille/planning/"
    client.logout()
    elsewhere = client.post(f"{reverse('portal:login')}?next=https://evil.example/", credentials)
    assert elsewhere["Location"] == reverse("portal:dashboard")


def test_an_agent_who_logs_in_on_the_family_page_lands_in_the_back_office(client, agent):
    from tests.factories import PASSWORD

    response = client.post(reverse("portal:login"), {"username": agent.email, "password": PASSWORD})
    assert response["Location"] == reverse("wagtailadmin_home")
