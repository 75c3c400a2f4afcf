import pathlib
from urllib.parse import quote

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db


def serve_url(document):
    return f"/documents/{document.pk}/{pathlib.PurePosixPath(document.file.name).name}"


def test_anonymous_visitor_is_sent_to_the_family_login_instead_of_the_private_file(
        client, make_document, families_only):
    document = make_document(collection=families_only)
    url = serve_url(document)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/famille/connexion/?next={quote(url)}"
    assert b"%PDF" not in b"".join(getattr(response, "streaming_content", [response.content]))


def test_logged_in_family_downloads_the_private_file_as_a_pdf(
        client, make_document, families_only, family_user, pdf_bytes):
    document = make_document(collection=families_only)
    client.force_login(family_user)

    response = client.get(serve_url(document))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == pdf_bytes


def test_public_document_is_served_to_anyone(client, make_document, pdf_bytes):
    response = client.get(serve_url(make_document(title="Guide")))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"


def test_private_file_has_no_public_url_and_lives_outside_media_root(
        make_document, families_only):
    document = make_document(collection=families_only)

    path = pathlib.Path(document.file.path).resolve()
    assert path.is_relative_to(pathlib.Path(settings.PRIVATE_MEDIA_ROOT).resolve())
    assert not path.is_relative_to(pathlib.Path(settings.MEDIA_ROOT).resolve())
    with pytest.raises(NotImplementedError):
        document.file.url  # noqa: B018
    # The only address Wagtail gives out is its serve view, which checks the collection.
    assert document.url == serve_url(document)
    assert not document.url.startswith(settings.MEDIA_URL)
