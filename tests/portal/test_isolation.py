"""Every family-facing URL that names an object answers 404 to another family."""

import pytest
from django.urls import reverse

from tests.portal.conftest import pdf_upload

# (url name, how to get the argument from family A's objects)
OBJECT_URLS = [
    ("portal:child_edit", lambda objs: objs["child"].pk),
    ("portal:child_pai", lambda objs: objs["child"].pk),
    ("portal:file_download", lambda objs: objs["item"].pk),
    ("portal:receipt", lambda objs: objs["acceptance"].pk),
    ("portal:planning_child", lambda objs: objs["child"].pk),
    ("portal:payment_receipt", lambda objs: objs["purchase"].pk),
    ("portal:payment_receipt_pdf", lambda objs: objs["purchase"].pk),
    ("portal:absence_certificate", lambda objs: objs["report"].pk),
]


@pytest.mark.parametrize("name,arg", OBJECT_URLS, ids=[u[0] for u in OBJECT_URLS])
def test_the_owning_family_can_open_its_own_objects(client, parent_a, family_a_objects, name, arg):
    client.force_login(parent_a)
    assert client.get(reverse(name, args=[arg(family_a_objects)])).status_code == 200


@pytest.mark.parametrize("name,arg", OBJECT_URLS, ids=[u[0] for u in OBJECT_URLS])
@pytest.mark.parametrize("method", ["get", "post"])
def test_another_family_gets_404_and_changes_nothing(client, parent_b, family_a_objects, name, arg,
                                                     method):
    child = family_a_objects["child"]
    client.force_login(parent_b)
    response = getattr(client, method)(reverse(name, args=[arg(family_a_objects)]),
                                       {"first_name": "Pirate", "last_name": "X"})
    assert response.status_code in (404, 405)
    child.refresh_from_db()
    assert child.first_name != "Pirate"


def test_every_portal_url_with_an_object_id_is_in_the_isolation_list():
    from portal.urls import urlpatterns

    with_ids = {f"portal:{p.name}" for p in urlpatterns if "<int:" in str(p.pattern)}
    # Requirement ids are the town's, not a family's: the upload is always for the caller's family.
    # A tax attestation's year names no object: it is always the caller's family's.
    ignored = {"portal:file_upload", "portal:tax_attestation_pdf"}
    assert with_ids - ignored == {name for name, _ in OBJECT_URLS}


def test_an_upload_for_a_requirement_lands_in_the_callers_own_family(client, parent_b, family_a,
                                                                   family_b, requirements):
    client.force_login(parent_b)
    url = reverse("portal:file_upload", args=[requirements["insurance"].pk])
    client.post(url, {"file": pdf_upload()})
    assert not family_a.file_items.exists()
    assert family_b.file_items.get().state == "sent"


@pytest.mark.parametrize("name", ["portal:dashboard", "portal:family", "portal:dossier",
                                  "portal:regulation", "portal:child_add", "portal:account",
                                  "portal:tax_attestations"])
def test_family_pages_show_only_the_callers_family(client, parent_b, family_a_objects, name):
    client.force_login(parent_b)
    response = client.get(reverse(name))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Famille Alpha" not in page
    assert family_a_objects["child"].first_name not in page


@pytest.mark.parametrize("name", ["portal:dashboard", "portal:family", "portal:dossier",
                                  "portal:child_add", "portal:regulation", "portal:tax_attestations"])
def test_family_pages_need_a_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith("/famille/connexion/")


def test_an_agent_with_review_permission_can_download_a_family_file(client, agent,
                                                                   family_a_objects):
    client.force_login(agent)
    url = reverse("portal:file_download", args=[family_a_objects["item"].pk])
    assert client.get(url).status_code == 200


def test_the_pai_document_is_refused_to_an_editor_without_health_permission(client, editor,
                                                                          family_a_objects):
    client.force_login(editor)
    url = reverse("portal:child_pai", args=[family_a_objects["child"].pk])
    assert client.get(url).status_code == 404


def test_staff_with_health_permission_can_open_the_pai_document(client, staff, family_a_objects):
    client.force_login(staff)
    url = reverse("portal:child_pai", args=[family_a_objects["child"].pk])
    assert client.get(url).status_code == 200


# Separated parents: the shared child's second household reaches the child's planning and its
# shared health file (PAI), nothing else of the first household's (file pieces, regulation
# receipt, payments, absence reports), and cannot edit the sheet the first household keeps.
SHARED_CHILD_OPEN = {"portal:planning_child", "portal:child_pai"}


@pytest.fixture
def shared_with_b(family_a_objects, family_b):
    child = family_a_objects["child"]
    child.other_family = family_b
    child.save()
    return family_a_objects


@pytest.mark.parametrize("name,arg", OBJECT_URLS, ids=[u[0] for u in OBJECT_URLS])
def test_the_second_household_reaches_only_the_shared_childs_planning_and_health_file(
        client, parent_b, shared_with_b, name, arg):
    client.force_login(parent_b)
    response = client.get(reverse(name, args=[arg(shared_with_b)]))
    assert response.status_code == (200 if name in SHARED_CHILD_OPEN else 404)


def test_the_second_household_cannot_change_the_shared_childs_sheet(client, parent_b, shared_with_b):
    child = shared_with_b["child"]
    client.force_login(parent_b)
    response = client.post(reverse("portal:child_edit", args=[child.pk]),
                           {"first_name": "Pirate", "last_name": "X"})
    assert response.status_code == 404
    child.refresh_from_db()
    assert child.first_name == "Zéphyrine"


@pytest.mark.parametrize("name", ["portal:dashboard", "portal:family", "portal:dossier", "portal:wallet",
                                  "portal:payment_list", "portal:absences", "portal:planning",
                                  "portal:notifications", "portal:planning_pattern"])
def test_the_second_households_pages_show_the_shared_child_but_nothing_of_the_first_household(
        client, parent_b, shared_with_b, name):
    client.force_login(parent_b)
    response = client.get(reverse(name))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Famille Alpha" not in page and "parent.a@example.org" not in page
    assert "Fièvre" not in page  # the first household's absence report
    assert "6,00" not in page  # its purchase
    if name in ("portal:dashboard", "portal:family", "portal:planning", "portal:planning_pattern"):
        assert "Zéphyrine" in page


def test_each_household_cancels_only_its_own_bookings_of_the_shared_child(
        client, parent_a, parent_b, family_a, family_b, shared_with_b):
    import datetime

    from portal.models import Booking, Service

    child = shared_with_b["child"]
    service = Service.objects.get(name="Cantine")
    theirs = Booking.objects.create(child=child, family=family_a, service=service,
                                    date=datetime.date(2026, 9, 15))
    mine = Booking.objects.create(child=child, family=family_b, service=service,
                                  date=datetime.date(2026, 9, 17))
    client.force_login(parent_b)
    assert client.post(reverse("portal:planning_act"), {"cancel": theirs.pk}).status_code == 404
    client.force_login(parent_a)
    assert client.post(reverse("portal:planning_act"), {"cancel": mine.pk}).status_code == 404
    assert Booking.objects.filter(status="active").count() == 2
