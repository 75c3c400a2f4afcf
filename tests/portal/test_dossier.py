import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from documents.demo import add_document
from documents.models import PreauDocument
from portal.models import AuditLog, Family, FileItem, Service
from portal.services import dossier, files
from portal.services.booking import _facts_under_lock
from tests.portal.conftest import PDF_BYTES, PNG_BYTES, pdf_upload


def complete_file(family, parent, requirements):
    item = dossier.submit_file(family, requirements["insurance"], pdf_upload(), by=parent)
    dossier.accept_regulation(family, by=parent)
    return item


def test_a_new_family_file_lists_every_requirement_as_missing(family_a, requirements):
    lines = dossier.dossier_lines(family_a)
    assert [(line.requirement.name, line.state) for line in lines] == [
        ("Attestation d’assurance", "missing"), ("Règlement", "missing")]


def test_sending_everything_moves_the_family_to_submitted(family_a, parent_a, requirements):
    item = dossier.submit_file(family_a, requirements["insurance"], pdf_upload(), by=parent_a)
    assert item.state == FileItem.State.SENT
    family_a.refresh_from_db()
    assert family_a.status == Family.Status.INCOMPLETE
    dossier.accept_regulation(family_a, by=parent_a)
    family_a.refresh_from_db()
    assert family_a.status == Family.Status.SUBMITTED


def test_an_agent_accepts_then_validates_and_the_family_is_told(
        family_a, parent_a, agent, requirements, django_capture_on_commit_callbacks):
    item = complete_file(family_a, parent_a, requirements)
    with pytest.raises(dossier.DossierError, match="pas encore acceptées"):
        dossier.validate_family(family_a, by=agent)
    with django_capture_on_commit_callbacks(execute=True):
        dossier.accept_item(item, by=agent)
        dossier.validate_family(family_a, by=agent)
    family_a.refresh_from_db()
    assert family_a.status == Family.Status.VALIDATED
    assert dossier.bookings_open(family_a)
    assert [m.to for m in mail.outbox] == [[parent_a.email], [parent_a.email]]
    assert "réservations sont ouvertes" in mail.outbox[1].subject


def test_a_refusal_needs_a_reason_and_reopens_the_file(
        family_a, parent_a, agent, requirements, django_capture_on_commit_callbacks):
    item = complete_file(family_a, parent_a, requirements)
    with pytest.raises(dossier.DossierError):
        dossier.refuse_item(item, "  ", by=agent)
    item.refresh_from_db()
    assert item.state == FileItem.State.SENT
    with django_capture_on_commit_callbacks(execute=True):
        dossier.refuse_item(item, "Attestation de l’an dernier", by=agent)
    item.refresh_from_db()
    family_a.refresh_from_db()
    assert item.state == FileItem.State.REFUSED
    assert family_a.status == Family.Status.INCOMPLETE
    assert "Attestation de l’an dernier" in mail.outbox[0].body
    assert any("refusé" in reason for reason in dossier.missing_for_bookings(family_a))
    # Sending a new file puts it back in the queue and clears the reason.
    item = dossier.submit_file(family_a, requirements["insurance"], pdf_upload(), by=parent_a)
    assert (item.state, item.refusal_reason) == (FileItem.State.SENT, "")


def test_an_accepted_piece_cannot_be_replaced_by_the_family(family_a, parent_a, agent,
                                                            requirements):
    item = complete_file(family_a, parent_a, requirements)
    dossier.accept_item(item, by=agent)
    with pytest.raises(dossier.DossierError):
        dossier.submit_file(family_a, requirements["insurance"], pdf_upload(), by=parent_a)


def test_only_a_sent_piece_can_be_accepted(family_a, parent_a, agent, requirements):
    item = complete_file(family_a, parent_a, requirements)
    dossier.refuse_item(item, "Illisible", by=agent)
    with pytest.raises(dossier.DossierError):
        dossier.accept_item(item, by=agent)


def test_a_suspended_family_cannot_book_or_change_its_file(family_a, parent_a, agent,
                                                          requirements):
    family_a = dossier.suspend_family(family_a, "Impayés", by=agent)
    assert dossier.missing_for_bookings(family_a) == [
        "Votre compte est suspendu : contactez la mairie."]
    with pytest.raises(dossier.DossierError):
        dossier.submit_file(family_a, requirements["insurance"], pdf_upload(), by=parent_a)
    dossier.reactivate_family(family_a, by=agent)
    family_a.refresh_from_db()
    assert family_a.status == Family.Status.INCOMPLETE


def test_a_new_regulation_version_asks_for_a_new_acceptance(family_a, parent_a, agent,
                                                            requirements):
    item = complete_file(family_a, parent_a, requirements)
    dossier.accept_item(item, by=agent)
    family_a = dossier.validate_family(family_a, by=agent)
    assert dossier.bookings_open(family_a)
    add_document("Règlement 2026 modifié", "reglement-2.pdf", PDF_BYTES,
                 kind=PreauDocument.Kind.REGULATION, version="2026-2")
    assert not dossier.bookings_open(family_a)
    # A family that accepted the previous version is told it is a new one.
    assert "Acceptez le nouveau règlement : vos réservations reprendront aussitôt." in \
        dossier.missing_for_bookings(family_a)
    acceptance = dossier.accept_regulation(family_a, by=parent_a)
    assert acceptance.version == "2026-2"
    assert family_a.regulation_acceptances.count() == 2
    assert dossier.bookings_open(family_a)


def test_accepting_the_same_version_twice_records_it_once(family_a, parent_a, requirements):
    first = dossier.accept_regulation(family_a, by=parent_a)
    second = dossier.accept_regulation(family_a, by=parent_a)
    assert first.pk == second.pk


def test_the_regulation_page_records_who_when_and_which_version(client, family_a, parent_a,
                                                                requirements):
    client.force_login(parent_a)
    response = client.post(reverse("portal:regulation"), {})
    assert "Cochez la case" in response.content.decode()
    assert not family_a.regulation_acceptances.exists()
    client.post(reverse("portal:regulation"), {"accept": "on"})
    acceptance = family_a.regulation_acceptances.get()
    assert (acceptance.accepted_by, acceptance.version) == (parent_a, "2026-1")
    receipt = client.get(reverse("portal:receipt", args=[acceptance.pk]))
    assert receipt["Content-Type"] == "application/pdf"
    assert receipt.getvalue().startswith(b"%PDF-")


def test_the_dashboard_banner_says_what_is_missing_until_validation(client, family_a, parent_a,
                                                                   agent, requirements):
    client.force_login(parent_a)
    page = client.get(reverse("portal:dashboard")).content.decode()
    assert "ne sont pas encore ouvertes" in page
    assert "Envoyez : Attestation d’assurance." in page
    assert "réservations sont ouvertes" not in page
    item = complete_file(family_a, parent_a, requirements)
    dossier.accept_item(item, by=agent)
    dossier.validate_family(family_a, by=agent)
    page = client.get(reverse("portal:dashboard")).content.decode()
    assert "les réservations sont ouvertes" in page


@pytest.mark.parametrize("name,content,error", [
    ("faux.pdf", b"MZ\x90\x00 not a pdf", "Seuls les fichiers PDF, JPEG ou PNG"),
    ("photo.png", PDF_BYTES, "Seuls les fichiers PDF, JPEG ou PNG"),
    ("script.html", b"<script>alert(1)</script>", "Seuls les fichiers PDF, JPEG ou PNG"),
    ("vide.pdf", b"", "vide"),
])
def test_uploads_are_checked_by_content_not_name(client, family_a, parent_a, requirements, name,
                                                 content, error):
    client.force_login(parent_a)
    url = reverse("portal:file_upload", args=[requirements["insurance"].pk])
    response = client.post(url, {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not family_a.file_items.exists()


def test_an_oversized_upload_is_refused(client, settings, family_a, parent_a, requirements):
    settings.PREAU_UPLOAD_MAX_BYTES = 1024
    client.force_login(parent_a)
    url = reverse("portal:file_upload", args=[requirements["insurance"].pk])
    response = client.post(url, {"file": pdf_upload(content=PDF_BYTES + b"0" * 2000)})
    assert "trop lourd" in response.content.decode()
    assert not family_a.file_items.exists()


def test_a_png_upload_is_accepted_and_served_back_as_an_attachment(client, family_a, parent_a,
                                                                   requirements):
    client.force_login(parent_a)
    url = reverse("portal:file_upload", args=[requirements["insurance"].pk])
    client.post(url, {"file": SimpleUploadedFile("photo.PNG", PNG_BYTES)})
    item = family_a.file_items.get()
    assert (item.state, item.content_type) == ("sent", "image/png")
    response = client.get(reverse("portal:file_download", args=[item.pk]))
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content) == PNG_BYTES


def test_uploaded_files_are_on_the_private_storage(family_a, parent_a, requirements, settings):
    item = dossier.submit_file(family_a, requirements["insurance"], pdf_upload(), by=parent_a)
    assert (settings.PRIVATE_MEDIA_ROOT / item.file.name).exists()
    assert not (settings.MEDIA_ROOT / item.file.name).exists()


def test_validate_upload_refuses_a_jpeg_named_pdf():
    jpeg = SimpleUploadedFile("scan.pdf", b"\xff\xd8\xff\xe0" + b"\x00" * 20)
    with pytest.raises(ValidationError):
        dossier.validate_upload(jpeg)


def test_a_family_adds_a_child_with_pick_up_people(client, family_a, parent_a, requirements):
    from tests.factories import SchoolFactory

    school = SchoolFactory(name="École Jules-Ferry")
    client.force_login(parent_a)
    response = client.post(reverse("portal:child_add"), {
        "first_name": "Léa", "last_name": "Alpha", "birth_date": "2019-03-02",
        "school": school.pk, "school_class": "CP", "allergies": "Gluten", "photo_consent": "on",
        "personnes-TOTAL_FORMS": "1", "personnes-INITIAL_FORMS": "0",
        "personnes-0-name": "Papi Alpha", "personnes-0-relationship": "grand-père",
        "personnes-0-phone": "0612345678",
    })
    assert response.status_code == 302
    child = family_a.children.get(first_name="Léa")
    assert child.authorised_people.get().name == "Papi Alpha"
    entry = AuditLog.objects.get(action="child.create")
    assert entry.after["allergies"] == "‹donnée de santé›"
    assert "Gluten" not in str(entry.after)


def test_a_family_edits_its_address_and_e_mail_preferences(client, family_a, parent_a):
    client.force_login(parent_a)
    response = client.post(reverse("portal:family"), {
        "address": "5 place du Marché", "postcode": "99999", "city": "Saint-Exemple",
        "phone": "0102030405", "phone_secondary": "", "email_reminders": "on"})
    assert response.status_code == 302
    family_a.refresh_from_db()
    assert (family_a.address, family_a.email_reminders, family_a.email_news) == (
        "5 place du Marché", True, False)


def test_a_wrong_type_pai_document_is_refused_and_nothing_is_saved(client, family_a, parent_a):
    child = family_a.children.get()
    client.force_login(parent_a)
    response = client.post(reverse("portal:child_edit", args=[child.pk]), {
        "first_name": "Changé", "last_name": child.last_name, "birth_date": "2018-05-04",
        "school": child.school.pk, "school_class": "CE1", "has_pai": "on",
        "pai_upload": SimpleUploadedFile("pai.pdf", b"GIF89a not a pdf"),
        "personnes-TOTAL_FORMS": "0", "personnes-INITIAL_FORMS": "0"})
    assert response.status_code == 200
    assert "Seuls les fichiers PDF, JPEG ou PNG" in response.content.decode()
    child.refresh_from_db()
    assert child.first_name != "Changé"
    assert not child.pai_document


def test_a_suspended_family_cannot_edit_its_children(client, family_a, parent_a, agent):
    dossier.suspend_family(family_a, "Impayés", by=agent)
    child = family_a.children.get()
    client.force_login(parent_a)
    response = client.post(reverse("portal:child_edit", args=[child.pk]), {
        "first_name": "Changé", "last_name": child.last_name, "birth_date": "2018-05-04",
        "school": child.school.pk, "personnes-TOTAL_FORMS": "0", "personnes-INITIAL_FORMS": "0"},
        follow=True)
    assert "suspendu" in response.content.decode()
    child.refresh_from_db()
    assert child.first_name != "Changé"


def _validated(family):
    # Straight to the row: a family validated earlier can later miss a piece (a new
    # requirement, a new regulation), which is exactly what bookings_open must catch.
    Family.objects.filter(pk=family.pk).update(status=Family.Status.VALIDATED)


def _complete(family, parent, agent, requirements):
    dossier.accept_item(complete_file(family, parent, requirements), by=agent)


def _school_year(name, first_day, last_day):
    """A school year placed around the real date: SchoolYear.current() reads today."""
    import datetime

    from django.utils import timezone

    from tests.factories import SchoolYearFactory

    today = timezone.localdate()
    return SchoolYearFactory(name=name, start=today + datetime.timedelta(days=first_day),
                             end=today + datetime.timedelta(days=last_day))


def _situation(name, family, parent, agent, request):
    """Build one state of a family's file; what bookings_open says of it is the expectation."""
    from portal.models import FileRequirement, RegulationAcceptance
    from tests.factories import FileRequirementFactory

    if name == "no school year, validated":
        _validated(family)
    elif name == "no school year, no child":
        _validated(family)
        family.children.all().delete()
    elif name in ("validated complete", "submitted complete", "suspended complete",
                  "validated complete, no child", "validated, new regulation accepted"):
        requirements = request.getfixturevalue("requirements")
        _complete(family, parent, agent, requirements)
        if name == "suspended complete":
            Family.objects.filter(pk=family.pk).update(status=Family.Status.SUSPENDED)
        elif name != "submitted complete":
            _validated(family)
        if name == "validated complete, no child":
            family.children.all().delete()
        if name == "validated, new regulation accepted":
            add_document("Règlement v2", "r2.pdf", PDF_BYTES, kind=PreauDocument.Kind.REGULATION,
                         version="2026-2")
            dossier.accept_regulation(family, by=parent)
    elif name == "validated, piece missing":
        requirements = request.getfixturevalue("requirements")
        dossier.accept_regulation(family, by=parent)
        _validated(family)
    elif name == "validated, piece refused":
        requirements = request.getfixturevalue("requirements")
        dossier.refuse_item(complete_file(family, parent, requirements), "Illisible", by=agent)
        _validated(family)
    elif name == "validated, piece sent not yet accepted":
        complete_file(family, parent, request.getfixturevalue("requirements"))
        _validated(family)
    elif name == "validated, regulation not accepted":
        requirements = request.getfixturevalue("requirements")
        dossier.submit_file(family, requirements["insurance"], pdf_upload(), by=parent)
        _validated(family)
    elif name == "validated, new regulation version not accepted":
        _complete(family, parent, agent, request.getfixturevalue("requirements"))
        _validated(family)
        add_document("Règlement v2", "r2.pdf", PDF_BYTES, kind=PreauDocument.Kind.REGULATION,
                     version="2026-2")
    elif name == "validated, an older regulation published later":
        import datetime

        _complete(family, parent, agent, request.getfixturevalue("requirements"))
        _validated(family)
        add_document("Règlement ancien", "r0.pdf", PDF_BYTES, kind=PreauDocument.Kind.REGULATION,
                     version="2025-1", publication_date=datetime.date(2020, 1, 1))
    elif name == "validated, regulation asked but none published":
        year = request.getfixturevalue("school_year")
        FileRequirementFactory(school_year=year, name="Règlement", kind=FileRequirement.Kind.REGULATION)
        _validated(family)
    elif name == "validated, only another family sent the piece":
        requirements = request.getfixturevalue("requirements")
        other, other_parent = request.getfixturevalue("family_b"), request.getfixturevalue("parent_b")
        dossier.accept_item(complete_file(other, other_parent, requirements), by=agent)
        RegulationAcceptance.objects.create(family=family, accepted_by=parent,
                                            document=dossier.current_regulation())
        _validated(family)
    elif name == "validated, only a past year, its piece missing":
        # No running or next year: SchoolYear.current() falls back on the latest one.
        FileRequirementFactory(school_year=_school_year("ancienne", -800, -500), name="Assurance")
        _validated(family)
    elif name == "validated, past year incomplete, running year complete":
        FileRequirementFactory(school_year=_school_year("ancienne", -800, -500), name="Assurance")
        health = FileRequirementFactory(school_year=_school_year("en cours", -100, 200),
                                        name="Fiche santé")
        FileItem.objects.create(family=family, requirement=health, state=FileItem.State.ACCEPTED)
        _validated(family)
    elif name == "validated, running year has a piece missing, next year none":
        FileRequirementFactory(school_year=_school_year("en cours", -100, 200), name="Fiche santé")
        _school_year("prochaine", 300, 600)
        _validated(family)
    else:  # pragma: no cover
        raise AssertionError(name)


@pytest.mark.parametrize(("name", "expected"), [
    ("no school year, validated", True),
    ("no school year, no child", False),
    ("validated complete", True),
    ("submitted complete", False),
    ("suspended complete", False),
    ("validated complete, no child", False),
    ("validated, piece missing", False),
    ("validated, piece refused", False),
    ("validated, piece sent not yet accepted", True),
    ("validated, regulation not accepted", False),
    ("validated, new regulation version not accepted", False),
    ("validated, new regulation accepted", True),
    ("validated, an older regulation published later", True),
    ("validated, regulation asked but none published", False),
    ("validated, only another family sent the piece", False),
    ("validated, only a past year, its piece missing", False),
    ("validated, past year incomplete, running year complete", True),
    ("validated, running year has a piece missing, next year none", False),
])
def test_bookings_open_in_one_query_and_the_reasons_shown_agree_in_every_file_situation(
        name, expected, family_a, parent_a, agent, request, django_assert_num_queries):
    """The rule (dossier.bookings_open_q, one query, also read by book_day under its locks) and
    its explanation (file_check's sentences on the banners) never contradict each other."""
    _situation(name, family_a, parent_a, agent, request)
    family_a.refresh_from_db()
    with django_assert_num_queries(1):
        assert dossier.bookings_open(family_a) is expected
    explained_open = family_a.status == Family.Status.VALIDATED and not dossier.missing_for_bookings(family_a)
    assert explained_open is expected
    if (child := family_a.children.first()) is not None:
        # book_day reads the same rule under its locks, in a query compiled once per process.
        facts = _facts_under_lock(child, Service(pk=0), datetime.date(2026, 9, 14), family_a.pk)
        assert facts["is_open"] is expected


def test_the_family_page_links_to_the_email_choices(client, family_a, parent_a):
    client.force_login(parent_a)
    page = client.get(reverse("portal:family")).content.decode()
    assert "recevoir les informations de la mairie par e-mail" in page.lower()
    assert reverse("portal:notifications") in page


def test_an_empty_household_form_keeps_the_address_and_says_what_is_missing(client, family_a,
                                                                             parent_a):
    family_a.address, family_a.postcode, family_a.city, family_a.phone = (
        "5 place du Marché", "99999", "Saint-Exemple", "01 02 03 04 05")
    family_a.save()
    client.force_login(parent_a)
    response = client.post(reverse("portal:family"), {"address": "", "postcode": "", "city": "",
                                                      "phone": "", "phone_secondary": ""})
    assert response.status_code == 200
    assert "la mairie en a besoin pour vous joindre" in response.content.decode()
    family_a.refresh_from_db()
    assert (family_a.address, family_a.postcode, family_a.city, family_a.phone) == (
        "5 place du Marché", "99999", "Saint-Exemple", "01 02 03 04 05")


@pytest.mark.parametrize("field, value, message", [
    ("postcode", "7500", "Le code postal compte 5 chiffres"),
    ("phone", "06 12", "Indiquez un numéro de téléphone complet"),
])
def test_a_bad_postcode_or_phone_is_refused_with_an_example(client, family_a, parent_a, field,
                                                            value, message):
    client.force_login(parent_a)
    data = {"address": "1 rue", "postcode": "75001", "city": "Paris", "phone": "0612345678"}
    data[field] = value
    response = client.post(reverse("portal:family"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    family_a.refresh_from_db()
    assert family_a.address != "1 rue"


def test_a_piece_sent_again_is_saved_and_said_while_the_storage_cannot_delete_the_old_file(
        client, family_a, parent_a, requirements, monkeypatch, django_capture_on_commit_callbacks,
        caplog):
    # The old file was deleted in the request after the commit: an object store's error (not an
    # OSError) answered 500 for a piece already saved. The worker deletes it now.
    from botocore.exceptions import EndpointConnectionError
    from django.core.files.storage import FileSystemStorage

    from documents.models import private_storage

    first = dossier.submit_file(family_a, requirements["insurance"], pdf_upload(), by=parent_a)
    old = first.file.name

    def unreachable(storage, name):
        raise EndpointConnectionError(endpoint_url=f"https://s3.example.org/prive/{name}")

    monkeypatch.setattr(FileSystemStorage, "delete", unreachable)  # the tests' private storage
    client.force_login(parent_a)
    url = reverse("portal:file_upload", args=[requirements["insurance"].pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"file": SimpleUploadedFile("photo.png", PNG_BYTES)}, follow=True)
    assert response.status_code == 200
    item = family_a.file_items.get()
    assert item.content_type == "image/png" and item.file.name != old
    assert private_storage().exists(old)
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and old in errors[0] and "Delete them by hand" in errors[0]
    monkeypatch.undo()
    assert files.delete_private_files.call([old]) == {"deleted": 1, "left": 0}
    assert not private_storage().exists(old)
