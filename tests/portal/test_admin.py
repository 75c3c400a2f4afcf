import re

import pytest
from django.core import mail
from django.urls import reverse

from portal.models import AuditLog, Family, FileItem, User
from portal.services import dossier
from tests.portal.conftest import pdf_upload


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


def test_a_family_user_gets_no_admin(client, parent_a):
    client.force_login(parent_a)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_an_agent_gets_the_admin_and_the_family_listing(agent_client, family_a, family_b):
    assert agent_client.get("/admin/").status_code == 200
    response = agent_client.get(reverse("portal_families:index"))
    assert response.status_code == 200
    assert "Famille Alpha" in response.content.decode()


def test_the_family_listing_filters_by_status_and_school(agent_client, family_a, family_b):
    family_b.status = Family.Status.VALIDATED
    family_b.save()
    page = agent_client.get(reverse("portal_families:index"), {"status": "validated"}).content.decode()
    assert "Famille Bravo" in page and "Famille Alpha" not in page
    school = family_a.children.get().school
    page = agent_client.get(reverse("portal_families:index"), {"school": school.pk}).content.decode()
    assert "Famille Alpha" in page and "Famille Bravo" not in page


def test_the_family_listing_searches_guardian_e_mails(agent_client, family_a, family_b):
    # Names no fuzzy search for "parent.b" could match (Faker's surnames include « Parent »).
    family_a.guardians.update(first_name="Anne", last_name="Alpha")
    family_b.guardians.update(first_name="Bruno", last_name="Bravo")
    page = agent_client.get(reverse("portal_families:index"), {"q": "parent.b"}).content.decode()
    assert "Famille Bravo" in page and "Famille Alpha" not in page


def test_families_export_to_a_spreadsheet(agent_client, family_a):
    response = agent_client.get(reverse("portal_families:index"), {"export": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    response = agent_client.get(reverse("portal_children:index"), {"export": "csv"})
    assert "Alpha" in response.getvalue().decode()


def test_an_agent_creates_a_family_and_the_guardian_is_invited(
        agent_client, agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(reverse("portal_families:add"), {
            "name": "Famille Créée", "address": "", "postcode": "", "city": "", "phone": "",
            "guardian1_email": "cree@example.org", "guardian1_first_name": "Cé",
            "guardian1_last_name": "Créée"})
    family = Family.objects.get(name="Famille Créée")
    assert response.status_code == 302
    assert response["Location"] == reverse("portal_families:review", args=[family.pk])
    assert family.guardians.get().email == "cree@example.org"
    assert mail.outbox[0].to == ["cree@example.org"]
    assert AuditLog.objects.get(action="family.create").actor == agent
    assert not User.objects.get(email="cree@example.org").has_usable_password()


def test_the_review_screen_accepts_and_refuses_items_and_validates(
        agent_client, agent, family_a, parent_a, requirements, django_capture_on_commit_callbacks):
    item = dossier.submit_file(family_a, requirements["insurance"], pdf_upload(), by=parent_a)
    dossier.accept_regulation(family_a, by=parent_a)
    url = reverse("portal_families:review", args=[family_a.pk])
    page = agent_client.get(url).content.decode()
    assert "Attestation d’assurance" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(url, {"action": "refuse", "item": item.pk, "reason": ""},
                                     follow=True)
    assert "Indiquez le motif du refus" in response.content.decode()
    item.refresh_from_db()
    assert item.state == FileItem.State.SENT
    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post(url, {"action": "accept", "item": item.pk})
        agent_client.post(url, {"action": "validate"})
    family_a.refresh_from_db()
    assert family_a.status == Family.Status.VALIDATED
    assert [m.subject for m in mail.outbox][-1].startswith("Votre dossier est validé")


def test_the_review_screen_cannot_touch_another_familys_item(agent_client, family_a, family_b,
                                                            parent_a, requirements):
    item = dossier.submit_file(family_a, requirements["insurance"], pdf_upload(), by=parent_a)
    url = reverse("portal_families:review", args=[family_b.pk])
    assert agent_client.post(url, {"action": "accept", "item": item.pk}).status_code == 404
    item.refresh_from_db()
    assert item.state == FileItem.State.SENT


def test_an_agent_triggers_a_password_reset_without_seeing_the_password(
        agent_client, family_a, parent_a, django_capture_on_commit_callbacks):
    url = reverse("portal_families:review", args=[family_a.pk])
    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post(url, {"action": "reset", "user": parent_a.pk})
    assert mail.outbox[0].to == [parent_a.email]
    assert re.search(r"/famille/mot-de-passe/nouveau/[^/]+/[^/]+/", mail.outbox[0].body)
    assert AuditLog.objects.filter(action="account.password_reset", family=family_a).exists()


def test_suspending_needs_a_reason(agent_client, family_a):
    url = reverse("portal_families:review", args=[family_a.pk])
    agent_client.post(url, {"action": "suspend", "reason": ""})
    family_a.refresh_from_db()
    assert family_a.status != Family.Status.SUSPENDED
    agent_client.post(url, {"action": "suspend", "reason": "Déménagement"})
    family_a.refresh_from_db()
    assert family_a.status == Family.Status.SUSPENDED


def test_an_editor_cannot_open_families(client, editor, family_a):
    client.force_login(editor)
    assert client.get(reverse("portal_families:index")).status_code in (302, 403)
    response = client.get(reverse("portal_families:review", args=[family_a.pk]))
    assert response.status_code in (302, 403)
    assert "Famille Alpha" not in response.content.decode()


def test_health_fields_are_in_the_child_form_only_with_the_permission(client, agent, family_a):
    from django.contrib.auth.models import Permission

    child = family_a.children.get()
    client.force_login(agent)
    page = client.get(reverse("portal_children:edit", args=[child.pk])).content.decode()
    assert 'name="allergies"' in page
    agent.groups.get().permissions.remove(Permission.objects.get(codename="view_health_data"))
    agent = User.objects.get(pk=agent.pk)
    client.force_login(agent)
    page = client.get(reverse("portal_children:edit", args=[child.pk])).content.decode()
    assert 'name="allergies"' not in page
    assert "Arachide" not in page


def test_agents_read_the_audit_log_but_cannot_add_or_edit_entries(agent_client, agent, family_a):
    entry = AuditLog.objects.create(actor=agent, action="family.validate", family=family_a)
    assert "family.validate" in agent_client.get(reverse("portal_audit:index")).content.decode()
    assert agent_client.get(reverse("portal_audit:add")).status_code in (302, 403)
    assert agent_client.get(reverse("portal_audit:edit", args=[entry.pk])).status_code in (302, 403)
    assert agent_client.get(reverse("portal_audit:delete", args=[entry.pk])).status_code in (302, 403)


def test_even_a_superuser_cannot_edit_the_audit_log(client, family_a):
    admin = User.objects.create_superuser("root@example.org", "x" * 16)
    entry = AuditLog.objects.create(actor=admin, action="family.validate", family=family_a)
    client.force_login(admin)
    assert client.get(reverse("portal_audit:edit", args=[entry.pk])).status_code in (302, 403)


def test_an_address_already_guardian_elsewhere_is_refused_with_a_message(agent_client, family_a,
                                                                         parent_a):
    response = agent_client.post(reverse("portal_families:add"), {
        "name": "Famille Doublon", "guardian1_email": parent_a.email.upper()})
    assert response.status_code == 200
    assert "déjà responsable de la famille « Famille Alpha »" in response.content.decode()
    assert not Family.objects.filter(name="Famille Doublon").exists()


def test_an_agent_adds_a_second_guardian_who_is_invited(
        agent_client, family_a, django_capture_on_commit_callbacks):
    url = reverse("portal_families:review", args=[family_a.pk])
    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post(url, {"action": "add_guardian", "email": "second@example.org",
                                "first_name": "Sam"})
    assert family_a.guardians.count() == 2
    assert mail.outbox[0].to == ["second@example.org"]
    response = agent_client.post(url, {"action": "add_guardian", "email": "troisieme@example.org"},
                                 follow=True)
    assert "au plus deux responsables" in response.content.decode()
    assert family_a.guardians.count() == 2


def test_the_family_edit_in_the_admin_is_audited(agent_client, agent, family_a):
    url = reverse("portal_families:edit", args=[family_a.pk])
    agent_client.post(url, {"name": family_a.name, "address": "2 rue Neuve", "postcode": "99999",
                            "city": "Saint-Exemple", "phone": "", "phone_secondary": "",
                            "email_reminders": "on", "email_low_balance": "on",
                            "email_bookings": "on", "email_file": "on"})
    entry = AuditLog.objects.get(action="family.edit")
    assert entry.actor == agent
    assert entry.before == {"address": "1 rue des Écoles", "email_news": True}
    assert entry.after == {"address": "2 rue Neuve", "email_news": False}


def test_an_agent_edit_of_a_child_is_audited_without_health_values(agent_client, agent, family_a):
    child = family_a.children.get()
    agent_client.post(reverse("portal_children:edit", args=[child.pk]), {
        "family": family_a.pk, "first_name": child.first_name, "last_name": child.last_name,
        "birth_date": "2018-05-04", "school": child.school.pk, "school_class": "CE2",
        "allergies": "Arachide, lait"})
    child.refresh_from_db()
    assert (child.school_class, child.allergies) == ("CE2", "Arachide, lait")
    entry = AuditLog.objects.get(action="child.edit")
    assert entry.actor == agent
    assert entry.after["school_class"] == "CE2"
    assert "lait" not in str(entry.after)


def test_the_family_listing_links_each_family_to_its_review_screen(agent_client, family_a):
    page = agent_client.get(reverse("portal_families:index")).content.decode()
    assert reverse("portal_families:review", args=[family_a.pk]) in page


def test_the_admin_family_form_shows_the_familys_email_choices(agent_client, family_a):
    page = agent_client.get(reverse("portal_families:edit", args=[family_a.pk])).content.decode()
    for name in ("email_reminders", "email_low_balance", "email_bookings", "email_file", "email_news"):
        assert f'name="{name}"' in page


def test_an_agent_working_in_english_reads_the_file_screens_messages_in_english(
        agent_client, agent, family_a, requirements):
    from wagtail.users.models import UserProfile

    profile = UserProfile.get_for_user(agent)
    profile.preferred_language = "en"
    profile.save()
    url = reverse("portal_families:review", args=[family_a.pk])

    response = agent_client.post(url, {"action": "suspend", "reason": "Impayés"}, follow=True)

    assert "Family suspended." in response.content.decode()
    assert "Famille suspendue." not in response.content.decode()
