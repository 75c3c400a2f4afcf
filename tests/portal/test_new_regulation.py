"""A new regulation version: families are told why bookings stop (planning, dossier, dashboard,
e-mail) with a link to accept it; the editor is warned; a grace period keeps bookings open."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import translation

from documents.demo import add_document
from documents.models import PreauDocument
from portal.services import dossier
from portal.services.planning_states import family_bookings_open
from tests.factories import make_editor
from tests.portal.conftest import PDF_BYTES, pdf_upload
from tests.portal.fixtures_planning import *  # noqa: F403
from tests.portal.fixtures_planning import NOW, give_tickets

pytestmark = pytest.mark.django_db
REGULATION_URL = reverse("portal:regulation")


@pytest.fixture(autouse=True)
def _frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def up_to_date(dupont, requirements, agent, canteen, meal, django_capture_on_commit_callbacks):
    """The Duponts' file is complete with the 2026 regulation accepted: they book."""
    family, parent = dupont["family"], dupont["user"]
    with django_capture_on_commit_callbacks(execute=True):
        item = dossier.submit_file(family, requirements["insurance"], pdf_upload(), by=parent)
        dossier.accept_item(item, by=agent)
        dossier.accept_regulation(family, by=parent)
    give_tickets(family, meal, 3)
    assert dossier.bookings_open(family)
    mail.outbox.clear()
    return dupont


def publish_new_regulation(capture, **fields):
    with capture(execute=True):
        return add_document("Règlement 2027", "reglement-2027.pdf", PDF_BYTES,
                            kind=PreauDocument.Kind.REGULATION, version="2027-1",
                            publication_date=NOW.date(), **fields)


def test_the_planning_dossier_and_dashboard_say_accept_the_new_regulation_with_a_link(
        client, up_to_date, django_capture_on_commit_callbacks):
    publish_new_regulation(django_capture_on_commit_callbacks)
    client.force_login(up_to_date["user"])
    planning = client.get(reverse("portal:planning") + "?mois=2026-09").content.decode()
    assert "acceptez le nouveau règlement" in planning
    assert f'<a href="{REGULATION_URL}">Acceptez le nouveau règlement' in planning
    for page in ("portal:dossier", "portal:dashboard"):
        html = client.get(reverse(page)).content.decode()
        assert f'<a href="{REGULATION_URL}">Acceptez le nouveau règlement' in html, page

    client.post(REGULATION_URL, {"accept": "on"})
    assert dossier.bookings_open(up_to_date["family"])
    planning = client.get(reverse("portal:planning") + "?mois=2026-09").content.decode()
    assert "acceptez le nouveau règlement" not in planning and "Disponible" in planning


def test_the_families_are_told_by_e_mail_once(up_to_date, django_capture_on_commit_callbacks):
    regulation = publish_new_regulation(django_capture_on_commit_callbacks)
    assert [m.to for m in mail.outbox] == [[up_to_date["user"].email]]
    assert "nouveau règlement" in mail.outbox[0].subject
    assert f"http://testserver{REGULATION_URL}" in mail.outbox[0].body
    with django_capture_on_commit_callbacks(execute=True):
        regulation.description = "Corrigé"
        regulation.save()
    assert len(mail.outbox) == 1


def test_a_grace_period_keeps_bookings_open_until_its_date(client, up_to_date, canteen,
                                                          django_capture_on_commit_callbacks):
    until = NOW.date() + datetime.timedelta(days=10)
    publish_new_regulation(django_capture_on_commit_callbacks, acceptance_grace_until=until)
    family = up_to_date["family"]
    assert "jusqu’au" in mail.outbox[0].body
    assert dossier.bookings_open(family) and not dossier.missing_for_bookings(family)
    assert family_bookings_open(family)
    client.force_login(up_to_date["user"])
    dashboard = client.get(reverse("portal:dashboard")).content.decode()
    assert "acceptez-le avant le 17 septembre 2026" in dashboard
    assert client.post(reverse("portal:planning_act"), {
        "book": f"{up_to_date['child'].pk}:{canteen.pk}:2026-09-14",
        "scope": "family", "mois": "2026-09"}).status_code == 302
    assert family.children.get().bookings.count() == 1

    with time_machine.travel(NOW + datetime.timedelta(days=11), tick=False):
        assert not dossier.bookings_open(family)
        assert [r.url for r in dossier.missing_for_bookings(family)] == [REGULATION_URL]


def test_the_editor_is_warned_before_publishing_that_families_must_accept_again(client, db):
    client.force_login(make_editor())
    form = client.get(reverse("wagtaildocs:add")).content.decode()
    assert "demande à chaque famille de l’accepter à nouveau" in form
    assert 'name="acceptance_grace_until"' in form


def test_the_e_mail_is_in_french_even_when_an_english_admin_publishes(up_to_date,
                                                                      django_capture_on_commit_callbacks):
    with translation.override("en"):
        publish_new_regulation(django_capture_on_commit_callbacks)
    assert "nouveau règlement" in mail.outbox[0].subject
