"""Cached reads for what pages show: the planning configuration, whether a family may book,
the town settings (services.town); and the counters that tell when a rendered planning page
(portal/cache/page_cache.py) is out of date: a child's bookings, a family's balances, a user.

Each namespace has a version counter kept in the cache itself (Redis in production), not in
process memory, so a change saved by any process is seen by every process at once: the signal
receivers below bump the counter on save and delete, and entries of an older version are never
read again (they expire). Only display reads these caches: book_day re-reads every rule from
the database under its lock.

When Redis does not answer (website/cache.py), the counters are unknown: versions() says so
(None) and pages are computed from the database, never served from a copy that a change saved
during the outage may have made stale.
"""

import threading
import time
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.base import BaseCache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

PREFIX = "preau:"
PLANNING = "planning"
TOWN = "town"


def shared():
    """Whether every process sees the same counters (Redis). A process-local cache (locmem: no
    REDIS_URL) cannot see another process's bumps, so there entries live a minute at most and
    are not kept in memory beyond that. PREAU_SHARED_CACHE overrides it (single-process tests)."""
    forced = getattr(settings, "PREAU_SHARED_CACHE", None)
    if forced is not None:
        return forced
    return not settings.CACHES.get("default", {}).get("BACKEND", "").endswith("LocMemCache")


# Bumped by any booking of a service with a daily capacity: other families' pages show "full".
CAPACITY = "capacity"


# Part of every cached value's key and of every kept page's versions: `manage.py bump_caches`
# bumps it after a change no signal saw (a SQL fix, a data migration, a queryset update()).
EVERYTHING = "everything"


def bump_everything():
    bump(EVERYTHING)


def family_namespace(family_id):
    return f"family:{family_id}"


def child_namespace(child_id):
    """A child's record and bookings."""
    return f"child:{child_id}"


def wallet_namespace(family_id):
    """A family's ticket balances."""
    return f"wallet:{family_id}"


def user_namespace(user_id):
    """A user's record and which family they are a guardian of."""
    return f"user:{user_id}"


def _version_key(namespace):
    return f"{PREFIX}v:{namespace}"


_snapshot = threading.local()


def _backend():
    return cache if isinstance(cache, BaseCache) else caches["default"]  # `cache` is a proxy


def _available():
    """False while the shared cache cannot be trusted (Redis unreachable, or back but still
    holding values written before a change it missed)."""
    available = getattr(_backend(), "available", None)
    return available is None or available()


@contextmanager
def same_versions(*namespaces):
    """Read these counters in one round trip and use them for the block (one page render):
    a page would otherwise read them one cache call at a time (~0.15 ms each on Redis).
    Yields None when they are unknown (Redis unreachable)."""
    found = versions(*namespaces)
    _snapshot.values = None if found is None else dict(zip(namespaces, found, strict=True))
    try:
        yield None if found is None else dict(_snapshot.values)
    finally:
        _snapshot.values = None


def versions(*namespaces):
    """The counters' current values, or None when the cache cannot say (Redis unreachable)."""
    snapshot = getattr(_snapshot, "values", None)
    if snapshot is not None and all(n in snapshot for n in namespaces):
        return [snapshot[n] for n in namespaces]
    keys = [_version_key(n) for n in namespaces]
    found = cache.get_many(keys)
    if not _available():
        return None
    out = []
    for key in keys:
        version = found.get(key)
        if version is None:
            # A new counter starts from the clock, not from 1: a counter evicted from the cache
            # must never come back to a version whose old entries may still be there.
            version = time.time_ns()
            if not cache.add(key, version, timeout=None):
                version = cache.get(key, version)
        out.append(version)
    return out if _available() else None


def _bump_now(namespace):
    key = _version_key(namespace)
    backend = _backend()
    if hasattr(backend, "bump_counter"):  # website.cache.RedisCache: one round trip
        backend.bump_counter(key)
        return
    try:
        cache.incr(key)
    except ValueError:  # no counter yet (or evicted): any fresh one is newer than the old
        cache.add(key, time.time_ns(), timeout=None)


def bump(namespace):
    """Invalidate a namespace now and again when the transaction commits: a process reading
    between the save and the commit would otherwise cache the old rows under the new version.
    Outside a transaction the change is committed already: once is enough."""
    _forget_request_memo()
    _bump_now(namespace)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _bump_now(namespace))


# An entry never changes under a given version, so each process also keeps the latest ones
# in memory: a request then reads only the version counters from the shared cache.
_local = {}
LOCAL_MAX = 512


def cached(namespaces, key, compute):
    """compute() once per version of the namespaces; `key` says what else the value depends on."""
    found = versions(EVERYTHING, *namespaces)
    if found is None:
        return _computed_in_this_request(namespaces, key, compute)
    full_key = f"{PREFIX}{key}:" + ":".join(str(v) for v in found)
    is_shared = shared()
    if is_shared and full_key in _local:
        return _local[full_key]
    value = cache.get(full_key)
    if value is None:
        value = compute()
        cache.set(full_key, value, 24 * 3600 if is_shared else 60)
    if is_shared:
        if len(_local) >= LOCAL_MAX:
            _local.clear()
        _local[full_key] = value
    return value


# With the counters unknown (Redis down) nothing is kept across requests, but one page asks for
# the same value more than once (the family's file for the grid and for the banner: ~6 queries
# each). Within one request it is computed once, and forgotten when the view returns and at any
# bump (a write in this request). Outside requests (tasks, commands) nothing is kept at all.
_request_memo = threading.local()


@contextmanager
def request_memo():
    """The memo's lifetime: one request, from portal.middleware.RequestMemoMiddleware. It ends
    in `finally`, not on request_finished: that signal comes only when the response is closed,
    and a streamed response nobody reads to the end (the test client's, for a download whose
    headers alone a test checks) is never closed, which left the memo on in that thread for
    whatever ran next there. A streamed body is sent after the view returns: it computes."""
    previous = getattr(_request_memo, "values", None)
    _request_memo.values = {}
    try:
        yield
    finally:
        _request_memo.values = previous


def _computed_in_this_request(namespaces, key, compute):
    memo_key = (tuple(namespaces), key)
    memo = getattr(_request_memo, "values", None)
    if memo is None:
        return compute()
    if memo_key not in memo:
        memo[memo_key] = compute()
    return memo[memo_key]


def _forget_request_memo():
    if getattr(_request_memo, "values", None):
        _request_memo.values = {}


def _planning_changed(**kwargs):
    bump(PLANNING)


def _town_changed(sender, created=False, **kwargs):
    from home.models import TownSettings

    # A site's settings are created on their first read, when nothing was cached for them yet:
    # bumping then would only make the next page read them again.
    if not (created and sender is TownSettings):
        bump(TOWN)


def _family_changed(sender, instance, **kwargs):
    from portal.models import Family

    bump(family_namespace(instance.pk if isinstance(instance, Family) else instance.family_id))


def _child_changed(sender, instance, **kwargs):
    # A child moved to another family must leave the old family's cached pages too: they
    # depend on the child's own counter as well.
    bump(child_namespace(instance.pk))
    bump(family_namespace(instance.family_id))
    if instance.other_family_id is not None:  # a second household's pages list the child too
        bump(family_namespace(instance.other_family_id))


def _booking_changed(sender, instance, **kwargs):
    bump(child_namespace(instance.child_id))
    # book_day passes the service it loaded; otherwise assume it may have a capacity.
    from portal.models import Booking

    service = Booking.service.field.get_cached_value(instance, None)
    if service is None or service.capacity is not None:
        bump(CAPACITY)


def _waitlist_changed(sender, instance, **kwargs):
    # Other children's places in the list (« n° 2 ») move too: they are in CAPACITY's pages.
    bump(child_namespace(instance.child_id))
    bump(CAPACITY)


def _wallet_changed(sender, instance, **kwargs):
    from portal.models import Wallet

    wallet = instance if isinstance(instance, Wallet) else instance.wallet
    bump(wallet_namespace(wallet.family_id))


def _user_changed(sender, instance, **kwargs):
    bump(user_namespace(instance.pk))


def _guardians_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    """A guardian added to or removed from a family: both sides' pages change."""
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if action == "pre_clear":  # clear() gives no pk_set: read who is about to go
        related = instance.families if reverse else instance.guardians
        pk_set = set(related.values_list("pk", flat=True))
    families, users = (pk_set, {instance.pk}) if reverse else ({instance.pk}, pk_set)
    for family_id in families or ():
        bump(family_namespace(family_id))
    for user_id in users or ():
        bump(user_namespace(user_id))


def connect_signals():
    """Called from PortalConfig.ready() so every process (web, worker, command) invalidates."""
    from wagtail.models import Site

    from documents.models import PreauDocument
    from home.models import TownSettings
    from portal.models import (
        Booking,
        Child,
        Closure,
        Family,
        FileItem,
        FileRequirement,
        LedgerEntry,
        RegulationAcceptance,
        School,
        SchoolYear,
        Service,
        TicketType,
        User,
        WaitlistEntry,
        Wallet,
    )

    # What every family's planning shows: services and their schools, closures, ticket type
    # names; and what decides whether a file is complete: the year's requirements, the
    # current regulation.
    for model in (Service, Closure, School, TicketType, SchoolYear, FileRequirement, PreauDocument):
        for signal in (post_save, post_delete):
            signal.connect(_planning_changed, sender=model, dispatch_uid=f"preau-planning-{model.__name__}")
    m2m_changed.connect(_planning_changed, sender=Service.schools.through,
                        dispatch_uid="preau-planning-service-schools")
    # One family's file: its status, children, pieces and regulation acceptance.
    for model in (Family, FileItem, RegulationAcceptance):
        for signal in (post_save, post_delete):
            signal.connect(_family_changed, sender=model, dispatch_uid=f"preau-family-{model.__name__}")
    # What the cached planning pages (portal/cache/page_cache.py) show besides the above.
    for model, receiver in ((Child, _child_changed), (Booking, _booking_changed),
                            (LedgerEntry, _wallet_changed), (Wallet, _wallet_changed),
                            (User, _user_changed), (WaitlistEntry, _waitlist_changed)):
        for signal in (post_save, post_delete):
            signal.connect(receiver, sender=model, dispatch_uid=f"preau-page-{model.__name__}")
    m2m_changed.connect(_guardians_changed, sender=Family.guardians.through,
                        dispatch_uid="preau-family-guardians")
    for model in (TownSettings, Site):
        for signal in (post_save, post_delete):
            signal.connect(_town_changed, sender=model, dispatch_uid=f"preau-town-{model.__name__}")
