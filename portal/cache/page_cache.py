"""A rendered planning page, reused while nothing it shows has changed.

Parents open the same planning again and again (from the dashboard, back from the wallet, on
each visit of the day) far more often than they change it. A page is stored in process memory
with the version counters of everything it shows (display_cache namespaces: configuration,
town, user, family, children and their bookings, balances, other families' bookings for
capacity-limited services) read *before* its data, and until the first instant one of its
cells would change by the clock alone (a deadline, midnight). It is served again only if every
counter is unchanged (one cache round trip) and that instant has not come; the CSRF token is
put back fresh for each request. Only with a shared cache (Redis): with a per-process cache a
bump made by another process would go unseen.
"""

import datetime
import re
import threading
from dataclasses import dataclass

from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone
from django.utils.translation import get_language

from portal.cache import display_cache

# Per process: a family month with 3 children is ~100 kB, a one-child month ~40 kB.
MAX_BYTES = 24 * 1024 * 1024
# Belt and braces: even with no change seen, a page is rendered again after this long.
MAX_AGE = datetime.timedelta(minutes=10)
_TOKEN = re.compile(rb'(name="csrfmiddlewaretoken" value=")[^"]*(")')
_MARK = b"\x00csrf\x00"  # NUL never occurs in rendered HTML


@dataclass(frozen=True)
class Entry:
    versions: dict  # {namespace: version}
    expires: datetime.datetime
    content: bytes
    content_type: str


_pages = {}
_size = 0  # bytes held in _pages
_lock = threading.Lock()


def usable(request):
    """Whether this request's page may be kept and served again."""
    return display_cache.shared() and request.method == "GET" and not request.htmx


def _key(request, variant):
    """`variant`: what else than the URL chose the page (the default view of a phone)."""
    return (request.user.pk, request.get_full_path(), get_language(), variant)


def _has_messages(request):
    storage = get_messages(request)
    return storage.used or len(storage) > 0  # a message shown once must not be shown again


def cached_response(request, variant=""):
    """The stored page for this user, URL, language and variant if it is still exact, else None."""
    if not usable(request):
        return None
    key = _key(request, variant)
    entry = _pages.get(key)
    if entry is None or _has_messages(request):
        return None
    namespaces = list(entry.versions)
    # versions() is None when Redis does not answer: the page is computed again.
    if timezone.now() >= entry.expires or display_cache.versions(*namespaces) != list(
            entry.versions.values()):
        _drop(key)
        return None
    return HttpResponse(entry.content.replace(_MARK, get_token(request).encode()),
                        content_type=entry.content_type)


def store(request, response, versions, planning, variant=""):
    """Keep `response` for this user, URL and language. `versions` were read before the data
    of `planning`, the day states it shows (None: unknown, Redis unreachable)."""
    if (versions is None or not usable(request) or response.status_code != 200
            or _has_messages(request)):
        return
    if not planning.capped:  # no capacity-limited service shown: others' bookings don't matter
        versions = {ns: v for ns, v in versions.items() if ns != display_cache.CAPACITY}
    expires = min(planning.stable_until, timezone.now() + MAX_AGE)
    entry = Entry(versions, expires, _TOKEN.sub(rb"\1" + _MARK + rb"\2", response.content),
                  response["Content-Type"])
    key = _key(request, variant)
    with _lock:  # threaded workers: the size and the eviction walk must stay in step
        global _size
        old = _pages.pop(key, None)
        _size -= len(old.content) if old else 0
        while _pages and _size + len(entry.content) > MAX_BYTES:
            _size -= len(_pages.pop(next(iter(_pages))).content)  # the oldest
        _pages[key] = entry
        _size += len(entry.content)


def _drop(key):
    global _size
    with _lock:
        old = _pages.pop(key, None)
        _size -= len(old.content) if old else 0
