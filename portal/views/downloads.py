"""Files sent to be saved (PDFs, exports, uploads, the personal-data file): one way to name them
and to keep them out of every cache, for the family pages, the staff pages and the back office."""

import re
import unicodedata
from urllib.parse import quote

from django.utils.http import content_disposition_header

# What a quoted `filename="…"` may hold as it is (RFC 9110 quoted-string, ASCII only).
_QUOTABLE = re.compile(r"^[\t \x21-\x7e]*$")


def as_download(response, filename):
    """`response` (an HttpResponse, or a streamed one: it stays streamed) sent as the file
    `filename`, stored by no cache (they hold a family's data). Returns the response."""
    response["Content-Disposition"] = attachment_header(filename)
    response["Cache-Control"] = "private, no-store"
    return response


def attachment_header(filename):
    """Content-Disposition for a download named `filename` (RFC 6266). A name beyond ASCII
    (« attestation-2026-Léa.pdf ») is given twice: `filename*`, UTF-8 and percent-encoded, which
    browsers read first, and an ASCII `filename` (accents dropped, other letters as "_") for
    clients that read only that one. Django's header alone gives `filename*` only."""
    if _QUOTABLE.match(filename):
        return content_disposition_header(True, filename)  # attachment; filename="…"
    plain = unicodedata.normalize("NFKD", filename)
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    plain = "".join(c if _QUOTABLE.match(c) else "_" for c in plain)
    plain = plain.replace("\\", "_").replace('"', "_")
    return f"attachment; filename=\"{plain}\"; filename*=utf-8''{quote(filename, safe='')}"
