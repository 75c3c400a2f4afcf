"""Public Wagtail pages (home, news, menus, tutorials, documents list) kept for anonymous visitors.

At the rush everyone opens the same few public pages, and each was rendered again for every
visitor (the menus page: 11 queries). A page rendered for a visitor who is not logged in and
sends no cookie that changes it is the same for every such visitor, so it is kept in the shared
cache (Redis) under its host, URL and language, and served to the next ones without a query.

What keeps it exact:
- It is stored and served only for an anonymous GET whose cookies are at most the CSRF and
  language cookies (no session: a logged-in user, a page password, a flash message all live in
  the session or another cookie), only when Wagtail's page view answered 200 in HTML and the
  page did not ask not to be cached. So a logged-in view, a private document's link or a menu
  kept for families is never stored: the anonymous view of those pages does not show them.
- Its key holds the `public` counter (display_cache), bumped on any save or delete of the
  content apps' models (pages, documents, collections and their restrictions, menus, dishes,
  tutorials, images, redirects), Wagtail's publish, unpublish and move signals, schools (the
  menus page lists them), the town settings and `manage.py bump_caches`: a published change is
  served at once, by every app server.
- It lives until the next midnight (the menus page says which week is the current one) and
  10 minutes at most.
- The CSRF token (the language switcher's form) is put back fresh for each visitor, and the
  answer is `Cache-Control: private, no-cache` with `Vary: Cookie, Accept-Language`: it carries
  that token, so no shared cache (a CDN) may keep it, and a browser asks again each time.
- Only with a shared cache (Redis), and only while Redis can be trusted: when it does not
  answer, pages are computed as before.
"""

import datetime
import hashlib

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import get_language

from portal.cache import display_cache
from portal.cache.page_cache import _MARK, _TOKEN

PUBLIC = "public"
MAX_AGE = datetime.timedelta(minutes=10)
# Cookies that do not change a public page for an anonymous visitor.
NEUTRAL_COOKIES = frozenset((settings.CSRF_COOKIE_NAME, settings.LANGUAGE_COOKIE_NAME))
# Headers set by the outer middleware again on each answer, not stored with the page.
NOT_STORED = frozenset(("set-cookie", "vary", "cache-control", "content-length"))
# Each process also keeps the latest entries in memory: a page never changes under a version.
_local = {}
LOCAL_MAX = 256


def enabled():
    return getattr(settings, "PREAU_PUBLIC_PAGE_CACHE", True) and display_cache.shared()


def eligible(request):
    """Whether this request may be answered from, and its answer kept in, the public cache."""
    if request.method != "GET" or "HTTP_HX_REQUEST" in request.META or "HTTP_AUTHORIZATION" in request.META:
        return False
    return set(request.COOKIES) <= NEUTRAL_COOKIES and enabled()


def _key(request, found):
    digest = hashlib.sha256(
        f"{request.get_host()}\n{request.get_full_path()}\n{get_language()}".encode()).hexdigest()
    return f"{display_cache.PREFIX}pub:{digest}:" + ":".join(str(v) for v in found)


def _versions():
    return display_cache.versions(display_cache.EVERYTHING, display_cache.TOWN, PUBLIC)


def _mark(response):
    patch_vary_headers(response, ("Cookie", "Accept-Language"))
    patch_cache_control(response, private=True, no_cache=True)
    return response


def cached_response(request):
    """The kept page for this anonymous request, with a fresh CSRF token, or None."""
    if not eligible(request):
        return None
    found = _versions()
    if found is None:  # Redis does not answer: compute
        return None
    key = _key(request, found)
    entry = _local.get(key)
    if entry is None:
        entry = cache.get(key)
        if entry is None:
            return None
        if len(_local) >= LOCAL_MAX:
            _local.clear()
        _local[key] = entry
    expires, content, headers = entry
    if timezone.now().timestamp() >= expires:
        _local.pop(key, None)
        return None
    response = HttpResponse(content.replace(_MARK, get_token(request).encode()))
    for name, value in headers:
        response[name] = value
    return _mark(response)


def store(request, response):
    """Keep `response` if it is a public page as every anonymous visitor sees it."""
    match = getattr(request, "resolver_match", None)
    if (match is None or match.url_name != "wagtail_serve" or response.status_code != 200
            or response.streaming or not response.get("Content-Type", "").startswith("text/html")):
        return response
    cache_control = response.get("Cache-Control", "")
    if any(word in cache_control for word in ("private", "no-store", "no-cache")):
        return response
    user = getattr(request, "user", None)
    session = getattr(request, "session", None)
    if (user is None or user.is_authenticated or (session is not None and session.modified)
            or _has_messages(request) or not eligible(request)):
        return response
    found = _versions()
    if found is None:
        return response
    now = timezone.localtime()
    midnight = timezone.make_aware(datetime.datetime.combine(
        now.date() + datetime.timedelta(days=1), datetime.time()))
    expires = min(now + MAX_AGE, midnight)
    headers = [(name, value) for name, value in response.items() if name.lower() not in NOT_STORED]
    content = _TOKEN.sub(rb"\1" + _MARK + rb"\2", response.content)
    timeout = max(1, int((expires - now).total_seconds()) + 1)
    cache.set(_key(request, found), (expires.timestamp(), content, headers), timeout)
    return _mark(response)


def _has_messages(request):
    if not hasattr(request, "_messages"):
        return False
    storage = get_messages(request)
    return storage.used or len(storage) > 0


# What a public page shows. Pages of the content apps are their own models (HomePage…), so the
# content apps are named whole; Wagtail's own tables only where a page or document depends on them.
PUBLIC_APPS = frozenset(("home", "documents", "menus", "tutorials", "wagtailimages", "wagtaildocs",
                         "wagtailredirects", "wagtailembeds", "taggit"))
PUBLIC_MODELS = frozenset(("wagtailcore.page", "wagtailcore.site", "wagtailcore.collection",
                           "wagtailcore.collectionviewrestriction",
                           "wagtailcore.pageviewrestriction", "portal.school"))


def _is_public(model):
    meta = model._meta
    return meta.app_label in PUBLIC_APPS or meta.label_lower in PUBLIC_MODELS


def _changed(sender, **kwargs):
    if _is_public(sender):
        display_cache.bump(PUBLIC)


def _published(**kwargs):
    display_cache.bump(PUBLIC)


def bump():
    display_cache.bump(PUBLIC)


def connect_signals():
    """From PortalConfig.ready(): every process that writes (web, worker, commands) purges."""
    from wagtail.signals import page_published, page_unpublished, post_page_move

    for signal in (post_save, post_delete, m2m_changed):
        signal.connect(_changed, dispatch_uid=f"preau-public-{id(signal)}")
    # A move rewrites the tree with queryset updates (no post_save); publishing saves the page
    # too, but a scheduled publication or an unpublish of children may not.
    for signal in (page_published, page_unpublished, post_page_move):
        signal.connect(_published, dispatch_uid=f"preau-public-{id(signal)}")
