# ruff: noqa: F811
"""An agent anonymises a family on request (back office), with the same service as the
retention schedule: a confirmation page saying what goes and what stays, a refusal while the
family has tickets, a debt or future bookings unless the agent confirms, audit-logged."""

import datetime
import socket

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.urls import reverse

from portal.models import AuditLog, Booking, Family, OutgoingEmail, User, WaitlistEntry
from portal.services import files as files_service
from portal.services import privacy
from portal.services.booking import book_day, join_waitlist
from tests.factories import UserFactory

# The planning's shared fixtures (school, meal, canteen, dupont) by name rather than `import *`:
# its `agent`, a superuser, would replace tests/portal/conftest.py's, an agent of the Agents
# group, whose permissions these tests are about. Fixtures arrive as test arguments: F811 is off.
from tests.portal.fixtures_planning import (  # noqa: F401
    MONDAY,
    NOW,
    canteen,
    dupont,
    give_tickets,
    meal,
    school,
)
from tests.portal.fixtures_planning import make_family as make_planning_family

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


def url(family):
    return reverse("portal_families:anonymise", args=[family.pk])


def test_the_confirmation_page_says_what_goes_what_stays_and_the_consequences(
        agent_client, family_a, family_a_objects):
    page = agent_client.get(url(family_a)).content.decode()
    assert "Ce qui est effacé" in page and "Ce qui est gardé" in page
    assert "Fichiers envoyés (pièces du dossier, PAI, certificats, justificatif) : 3" in page
    assert "Paiements : 1 ; reçus : 1" in page
    assert "Le foyer a encore 2 tickets non utilisés (Repas : 2)" in page
    assert 'name="confirm"' in page
    review = agent_client.get(reverse("portal_families:review", args=[family_a.pk])).content.decode()
    assert url(family_a) in review


def test_without_confirmation_a_family_with_tickets_is_not_anonymised(agent_client, family_a,
                                                                      family_a_objects):
    response = agent_client.post(url(family_a), follow=True)
    page = response.content.decode()
    assert "Le foyer a encore 2 tickets non utilisés" in page
    family_a.refresh_from_db()
    assert family_a.name == "Famille Alpha" and family_a.anonymised_at is None


def test_the_agent_confirms_and_the_family_is_anonymised_and_logged(
        agent_client, agent, family_a, parent_a, family_a_objects, django_capture_on_commit_callbacks):
    files = [family_a_objects["item"].file, family_a_objects["child"].pai_document,
             family_a_objects["report"].certificate]
    assert all(f.storage.exists(f.name) for f in files)
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(url(family_a), {"confirm": "1"}, follow=True)
    page = response.content.decode()
    assert "Le foyer est anonymisé" in page and "Foyer anonymisé le" in page
    family_a.refresh_from_db()
    assert family_a.name == f"Foyer anonymisé n° {family_a.pk}"
    assert not any(f.storage.exists(f.name) for f in files)
    parent_a.refresh_from_db()
    assert not parent_a.is_active and "parent.a" not in parent_a.email
    entry = AuditLog.objects.get(action="family.anonymise")
    assert (entry.actor, entry.family, entry.target) == (agent, family_a, f"foyer n° {family_a.pk}")
    assert entry.after["reason"] == "request" and entry.after["files"] == 3
    assert "Alpha" not in str(entry.after) and "Zéphyrine" not in str(entry.after)
    call_command("check_wallets")
    # A second post says so and changes nothing.
    page = agent_client.post(url(family_a), {"confirm": "1"}, follow=True).content.decode()
    assert "Ce foyer est déjà anonymisé." in page
    assert AuditLog.objects.filter(action="family.anonymise").count() == 1


@pytest.fixture
def private_storage_down(settings):
    """Production's private storage (website.storage.PrivateS3Storage, docs/deployment.md §6)
    at an S3 endpoint where nothing listens: every call is refused."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    settings.STORAGES = {**settings.STORAGES, "private": {
        "BACKEND": "website.storage.PrivateS3Storage", "OPTIONS": {
            "endpoint_url": f"http://127.0.0.1:{port}", "region_name": "fr-par", "bucket_name": "prive",
            "access_key": "cle", "secret_key": "secret", "file_overwrite": False}}}


def test_the_anonymisation_is_saved_and_said_while_the_private_storage_is_down(
        agent_client, family_a, family_a_objects, private_storage_down, django_capture_on_commit_callbacks,
        caplog):
    # It answered 500 after the anonymisation had committed: the files' deletion ran in the
    # request and the object store's error (not an OSError) escaped.
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(url(family_a), {"confirm": "1"}, follow=True)
    assert response.status_code == 200
    assert "Le foyer est anonymisé" in response.content.decode()
    family_a.refresh_from_db()
    assert family_a.anonymised_at is not None
    # The worker of the tests runs at once and cannot try again later: it names the files left.
    left = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(left) == 1 and "Delete them by hand" in left[0]
    assert family_a_objects["item"].file.name in left[0]


def test_the_files_are_deleted_by_the_worker_not_in_the_agent_s_request(
        agent_client, family_a, family_a_objects, settings, django_capture_on_commit_callbacks):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    files = [family_a_objects["item"].file, family_a_objects["child"].pai_document,
             family_a_objects["report"].certificate]
    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post(url(family_a), {"confirm": "1"})
    assert all(f.storage.exists(f.name) for f in files)  # the request did not touch the storage
    task = files_service.delete_private_files
    [queued] = [r for r in task.get_backend().results if r.task.module_path == task.module_path]
    assert sorted(queued.args[0]) == sorted(f.name for f in files)
    assert task.call(*queued.args) == {"deleted": 3, "left": 0}
    assert not any(f.storage.exists(f.name) for f in files)


def test_an_agent_without_the_permission_is_turned_away_and_has_no_button(client, family_a):
    user = UserFactory(email="sans-droit@example.org", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="access_admin"),
                              Permission.objects.get(codename="review_family"),
                              Permission.objects.get(codename="view_family"))
    client.force_login(user)
    # Wagtail answers a PermissionDenied with a redirect to the admin's home and a message.
    for response in (client.get(url(family_a)), client.post(url(family_a), {"confirm": "1"})):
        assert response.status_code == 302 and response["Location"] == "/admin/"
    review = client.get(reverse("portal_families:review", args=[family_a.pk])).content.decode()
    assert url(family_a) not in review
    assert Family.objects.get(pk=family_a.pk).anonymised_at is None


def test_a_family_without_tickets_debt_or_bookings_needs_no_confirmation(agent_client, family_b):
    agent_client.post(url(family_b))
    family_b.refresh_from_db()
    assert family_b.anonymised_at is not None


def test_a_guardian_of_another_family_is_only_taken_off_the_anonymised_one(agent, family_a, family_b,
                                                                           parent_a):
    family_b.guardians.add(parent_a)
    privacy.anonymise_family(family_b, by=agent)
    parent_a.refresh_from_db()
    assert parent_a.is_active and parent_a.email == "parent.a@example.org"
    assert list(family_b.guardians.all()) != [] and parent_a not in family_b.guardians.all()


def test_future_bookings_are_cancelled_with_their_tickets_and_the_place_goes_to_the_waiting_list(
        db, school, canteen, meal, django_capture_on_commit_callbacks):
    from django.contrib.auth.models import Group

    agent = User.objects.create_user(email="agent2@example.org", password="x" * 12, is_staff=True)
    agent.groups.add(Group.objects.get(name="Agents"))
    canteen.capacity = 1
    canteen.save()
    _user, leaving, (child,) = make_planning_family("Départ", "depart@example.org", school)
    waiting_user, waiting, (other,) = make_planning_family("Attente", "attente@example.org", school)
    give_tickets(leaving, meal, 1)
    give_tickets(waiting, meal, 2)
    tuesday = MONDAY + datetime.timedelta(days=1)
    with time_machine.travel(NOW, tick=False):
        booking = book_day(child, canteen, MONDAY, by=_user, now=NOW)
        join_waitlist(other, canteen, MONDAY, by=waiting_user, now=NOW)
        book_day(other, canteen, tuesday, by=waiting_user, now=NOW)
        join_waitlist(child, canteen, tuesday, by=_user, now=NOW)
        with pytest.raises(privacy.AnonymisationRefused) as refused:
            privacy.anonymise_family(leaving, by=agent)
        assert refused.value.blockers == [
            "1 réservation à venir : elle sera annulée et son ticket rendu au porte-monnaie (la "
            "place libérée va à la liste d’attente)."]
        with django_capture_on_commit_callbacks(execute=True):
            counts = privacy.anonymise_family(leaving, by=agent, confirm=True)
    assert counts["future_bookings_cancelled"] == 1
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED and booking.refunded
    assert Booking.objects.get(child=other, date=MONDAY).status == Booking.Status.ACTIVE
    assert WaitlistEntry.objects.get(child=other).status == WaitlistEntry.Status.BOOKED
    # The leaving family's own place in a list is given up.
    assert WaitlistEntry.objects.get(child=child).status == WaitlistEntry.Status.LEFT
    call_command("check_wallets")


def test_the_command_cannot_cancel_bookings_only_an_agent_can(dupont, canteen, meal):
    give_tickets(dupont["family"], meal, 1)
    with time_machine.travel(NOW, tick=False):
        book_day(dupont["child"], canteen, MONDAY, by=dupont["user"], now=NOW)
        with pytest.raises(privacy.AnonymisationRefused):
            privacy.anonymise_family(dupont["family"], by=None, confirm=True)
    assert Family.objects.get(pk=dupont["family"].pk).anonymised_at is None


def test_a_child_shared_with_another_household_stays_with_it(agent, family_a, family_b, family_a_objects):
    from portal.models import AuthorisedPerson

    child = family_a_objects["child"]
    child.other_family = family_b
    child.save()
    page_counts = privacy.anonymisation_preview(family_a)
    assert (page_counts["removed"]["children"], page_counts["kept"]["shared_children"]) == (0, 1)
    counts = privacy.anonymise_family(family_a, by=agent, confirm=True)
    assert counts["children_left_to_other_household"] == 1
    child.refresh_from_db()
    assert (child.family, child.other_family, child.first_name) == (family_b, None, "Zéphyrine")
    assert child.allergies == "Arachide" and child.pai_document
    assert AuthorisedPerson.objects.filter(child=child).exists()


def test_an_agent_downloads_a_familys_data_file_for_a_request_at_the_town_hall(agent_client, agent, family_a,
                                                                              family_a_objects):
    import json

    review = agent_client.get(reverse("portal_families:review", args=[family_a.pk])).content.decode()
    data_url = reverse("portal_families:personal_data", args=[family_a.pk])
    assert data_url in review
    response = agent_client.get(data_url)
    data = json.loads(b"".join(response.streaming_content))
    assert data["foyer"]["nom"] == "Famille Alpha" and data["enfants"][0]["prenom"] == "Zéphyrine"
    entry = AuditLog.objects.get(action="family.export")
    assert (entry.actor, entry.family, entry.target) == (agent, family_a, "json (agent)")


def test_the_data_file_needs_the_health_permission_too(client, family_a):
    user = UserFactory(email="sans-sante@example.org", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="access_admin"),
                              Permission.objects.get(codename="review_family"))
    client.force_login(user)
    response = client.get(reverse("portal_families:personal_data", args=[family_a.pk]))
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert not AuditLog.objects.filter(action="family.export").exists()


def test_e_mails_still_waiting_for_the_mail_server_are_not_sent_after_the_anonymisation(
        agent, family_a, parent_a, family_b, parent_b):
    waiting = OutgoingEmail.objects.create(template="bookings_changed", recipients=[parent_a.email],
                                           subject="Présence sans réservation", body="Léa…")
    failed = OutgoingEmail.objects.create(template="reminder", recipients=[parent_a.email],
                                          subject="Rappel", status=OutgoingEmail.Status.FAILED)
    sent = OutgoingEmail.objects.create(template="reminder", recipients=[parent_a.email],
                                        subject="Rappel", status=OutgoingEmail.Status.SENT)
    others = OutgoingEmail.objects.create(template="reminder", recipients=[parent_b.email],
                                          subject="Rappel")

    counts = privacy.anonymise_family(family_a, by=agent, confirm=True)

    assert counts["emails_not_sent"] == 2
    remaining = set(OutgoingEmail.objects.values_list("pk", flat=True))
    assert waiting.pk not in remaining and failed.pk not in remaining
    # Sent ones follow the e-mails' retention schedule; another family's are untouched.
    assert {sent.pk, others.pk} <= remaining
