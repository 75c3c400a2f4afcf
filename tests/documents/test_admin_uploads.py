"""Uploads through the Wagtail admin: only real PDFs, and a refused file leaves no trace."""

import io
import zipfile

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from wagtail.models import Collection, UploadedFile

from documents.models import PreauDocument

pytestmark = pytest.mark.django_db


def png_bytes():
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, format="PNG")
    return buffer.getvalue()


def docx_bytes():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


BAD_FILES = [
    pytest.param("reglement.pdf", png_bytes, "Ce fichier n’est pas un PDF valide", id="png-renamed"),
    pytest.param("reglement.docx", docx_bytes, "Seuls les fichiers PDF sont acceptés", id="docx"),
]


def stored_files():
    folders = [settings.PRIVATE_MEDIA_ROOT, settings.MEDIA_ROOT]
    return [path for folder in folders if folder.exists() for path in folder.rglob("*")
            if path.is_file()]


def add_form_data(upload, **fields):
    return {"title": "Règlement", "file": upload, "collection": Collection.get_first_root_node().pk,
            "kind": "reglement", "version": "2026-1", "publication_date": "2026-07-01",
            "description": "", "tags": "", **fields}


@pytest.mark.parametrize(("name", "content", "message"), BAD_FILES)
def test_add_view_refuses_a_file_that_is_not_a_pdf(admin_client, name, content, message):
    upload = SimpleUploadedFile(name, content(), content_type="application/pdf")

    response = admin_client.post("/admin/documents/add/", add_form_data(upload))

    assert response.status_code == 200  # the form again, with the error
    assert message in response.content.decode()
    assert PreauDocument.objects.count() == 0
    assert stored_files() == []


def test_add_view_accepts_a_real_pdf_into_private_storage(admin_client, pdf_bytes):
    upload = SimpleUploadedFile("reglement.pdf", pdf_bytes, content_type="application/pdf")

    response = admin_client.post("/admin/documents/add/", add_form_data(upload))

    assert response.status_code == 302
    document = PreauDocument.objects.get()
    assert (document.kind, document.version, document.file_size) == (
        "reglement", "2026-1", len(pdf_bytes))
    assert document.file.path.startswith(str(settings.PRIVATE_MEDIA_ROOT))


@pytest.mark.parametrize(("name", "content", "message"), BAD_FILES)
def test_multiple_upload_refuses_a_file_that_is_not_a_pdf(admin_client, name, content, message):
    upload = SimpleUploadedFile(name, content(), content_type="application/pdf")

    response = admin_client.post("/admin/documents/multiple/add/", {"files[]": upload})

    data = response.json()
    assert data["success"] is False
    assert message in data["error_message"]
    assert PreauDocument.objects.count() == 0
    assert UploadedFile.objects.count() == 0
    assert stored_files() == []


def test_multiple_upload_stores_a_real_pdf_privately_at_once(admin_client, pdf_bytes):
    upload = SimpleUploadedFile("guide.pdf", pdf_bytes, content_type="application/pdf")

    response = admin_client.post("/admin/documents/multiple/add/", {
        "files[]": upload, "collection": Collection.get_first_root_node().pk})

    assert response.json()["success"] is True
    document = PreauDocument.objects.get()
    # Never parked as a Wagtail UploadedFile, which lives in the public media folder.
    assert UploadedFile.objects.count() == 0
    assert document.kind == PreauDocument.Kind.OTHER
    assert all(path.is_relative_to(settings.PRIVATE_MEDIA_ROOT) for path in stored_files())


def test_admin_listing_and_edit_pages_work_for_a_private_document(admin_client, make_document,
                                                                   families_only):
    document = make_document(collection=families_only)

    assert admin_client.get("/admin/documents/").status_code == 200
    assert admin_client.get(f"/admin/documents/edit/{document.pk}/").status_code == 200
    assert admin_client.get("/admin/documents/multiple/add/").status_code == 200
