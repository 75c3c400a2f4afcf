"""Downloads (portal/views/downloads.py): one header for every file Préau sends to be saved."""

from django.http import HttpResponse

from portal.views.downloads import as_download


def test_a_file_name_with_an_accent_is_sent_in_utf8_with_an_ascii_name_for_older_clients():
    response = as_download(HttpResponse(b"%PDF-1.4"), "attestation-2026-Léa.pdf")
    # RFC 6266: browsers take filename* (UTF-8, percent-encoded); the rest the plain name.
    assert response["Content-Disposition"] == (
        "attachment; filename=\"attestation-2026-Lea.pdf\"; filename*=utf-8''attestation-2026-L%C3%A9a.pdf")
    assert response["Cache-Control"] == "private, no-store"
    # A plain name stays as the views wrote it before.
    assert as_download(HttpResponse(), "recu-2026-0001.pdf")["Content-Disposition"] == (
        'attachment; filename="recu-2026-0001.pdf"')
