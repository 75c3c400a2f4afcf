"""Redis down degrades, it does not break (website/cache.py): pages are computed instead of
read from the cache, sessions and lockouts come from the database, and once Redis answers again
Préau uses it without a restart and never serves a page a change made during the outage staled.

"Down" is a closed port, or a proxy in front of the test Redis that the test closes and opens:
the real Redis server is never stopped.
"""

import logging
import socket
import threading

import pytest
import time_machine
from django.core.cache import cache, caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.cache import display_cache, page_cache
from portal.models import Booking
from tests.portal.fixtures_planning import *  # noqa: F403
from tests.portal.fixtures_planning import MONDAY, NOW, give_tickets
from tests.website.test_redis_cache import REDIS_URL, _redis_up
from website import cache as redis_cache_module

PASSWORD = "x" * 12  # fixtures_planning.make_family
CLOSED = "redis://127.0.0.1:6390/0"  # nothing listens there
BOOK = 'aria-label="Cantine Disponible — Réserver Cantine le lundi 14 septembre pour Léa"'
CANCEL = 'aria-label="Cantine Réservé annuler — Annuler Cantine le lundi 14 septembre pour Léa"'
needs_redis = pytest.mark.skipif(not _redis_up(), reason=f"no Redis at {REDIS_URL}")


class RedisProxy:
    """A TCP relay to the test Redis that can be closed (Redis down) and opened again on the
    same port (Redis back), without touching the Redis server others use."""

    def __init__(self):
        host, port = REDIS_URL.split("//", 1)[1].split("/", 1)[0].split(":")
        self.upstream = (host, int(port))
        self.db = REDIS_URL.rsplit("/", 1)[1]
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.sockets = []
        self.listener = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/{self.db}"

    def open(self):
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(16)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def close(self):
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() of its thread
        except OSError:
            pass
        self.listener.close()
        for s in self.sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        self.sockets = []

    def _accept(self, listener):
        while True:
            try:
                client, _addr = listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source, target):
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, target):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


@pytest.fixture(autouse=True)
def _fresh_health(monkeypatch):
    """Each test meets Redis with no memory of another test's outage, and retries at once
    (a test does not wait the seconds production waits between tries)."""
    monkeypatch.setattr(redis_cache_module, "_health", {})
    monkeypatch.setattr(redis_cache_module, "RETRY_SECONDS", 0)
    # The recovery thread is started by hand where a test wants it.
    monkeypatch.setattr(redis_cache_module.RedisCache, "_recover_soon", lambda self: None)


def settings_for(url, prefix="preau-test-down"):
    import os

    return {"default": {"BACKEND": "website.cache.RedisCache", "LOCATION": url,
                        "KEY_PREFIX": f"{prefix}-{os.getpid()}"}}


@pytest.fixture
def proxy():
    if not _redis_up():
        pytest.skip(f"no Redis at {REDIS_URL}")
    relay = RedisProxy()
    relay.open()
    yield relay
    relay.close()


def delete_own_keys(backend):
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = client.keys(f"{backend.key_prefix}:*")
    if keys:
        client.delete(*keys)


def test_reads_are_misses_and_writes_are_skipped_when_redis_does_not_answer(settings):
    settings.CACHES = settings_for(CLOSED)
    backend = caches["default"]
    backend.set("a", 1)
    backend.set_many({"b": 2})
    assert backend.get("a") is None
    assert backend.get("a", "défaut") == "défaut"
    assert backend.get_many(["a", "b"]) == {}
    assert backend.add("c", 3) is False
    assert backend.has_key("a") is False
    assert backend.delete("a") is False
    backend.delete_many(["a", "b"])
    with pytest.raises(ValueError):
        backend.incr("a")
    assert backend.available() is False


def test_the_outage_is_logged_once_a_minute_not_per_call(settings, caplog):
    settings.CACHES = settings_for(CLOSED)
    backend = caches["default"]
    with caplog.at_level(logging.ERROR, logger="website.cache"):
        for _ in range(50):
            backend.get("a")
        assert len(caplog.records) == 1
        assert "Redis unreachable" in caplog.records[0].getMessage()
        backend._health.logged_at -= 61  # a minute later
        backend.get("a")
    assert len(caplog.records) == 2
    assert "50 cache call(s) missed" in caplog.records[1].getMessage()


def test_a_redis_that_does_not_answer_is_not_asked_again_before_the_retry_delay(settings, monkeypatch):
    """A Redis that hangs would cost every request its timeout: calls skip it for a while."""
    monkeypatch.setattr(redis_cache_module, "RETRY_SECONDS", 3600)
    settings.CACHES = settings_for(CLOSED)
    backend = caches["default"]
    backend.get("a")  # fails and starts the delay
    tries = []
    real = backend._cache.get_client
    monkeypatch.setattr(backend._cache, "get_client", lambda *a, **kw: tries.append(1) or real(*a, **kw))
    for _ in range(20):
        assert backend.get("a") is None
    backend.set("a", 1)
    assert tries == []


@needs_redis
def test_redis_is_used_again_once_it_answers_without_a_restart(settings, proxy):
    settings.CACHES = settings_for(proxy.url)
    backend = caches["default"]
    backend.set("a", "avant")
    assert backend.get("a") == "avant" and backend.available()
    proxy.close()
    assert backend.get("a") is None
    assert not backend.available()
    proxy.open()
    assert backend.get("a") == "avant"
    backend.set("b", "après")
    assert backend.get("b") == "après" and backend.available()
    delete_own_keys(backend)


@needs_redis
def test_a_value_deleted_or_replaced_during_the_outage_is_not_read_back_from_redis(settings, proxy):
    """A session ended during the outage (deleted in the database; its cached copy could not be
    deleted) must not come back when Redis does."""
    settings.CACHES = settings_for(proxy.url)
    backend = caches["default"]
    backend.set("session", "connecté")
    backend.set("counter", 1)
    proxy.close()
    backend.delete("session")
    backend.set("counter", 2)
    proxy.open()
    assert backend.get("session") is None
    assert backend.get("counter") is None  # older than the truth: gone, computed again
    assert backend.available()
    delete_own_keys(backend)


@needs_redis
def test_a_clear_missed_during_the_outage_flushes_on_recovery(settings, proxy, monkeypatch):
    """Too much to remember, or a clear() missed: the whole database goes, not stale values."""
    settings.CACHES = settings_for(proxy.url)
    backend = caches["default"]
    backend.set("a", 1)
    client = backend._cache.get_client(write=True)
    flushed = []
    # This test's keys only: other tests share the database.
    monkeypatch.setattr(client, "flushdb", lambda: flushed.append(1) or delete_own_keys(backend))
    proxy.close()
    backend.clear()
    proxy.open()
    assert backend.get("a") is None
    assert flushed == [1] and backend.available()


@needs_redis
def test_without_any_request_a_thread_deletes_what_the_outage_left_stale(settings, proxy, monkeypatch):
    """Another process, which saw no outage, reads Redis as soon as it is back: the stale keys
    must not wait for this process's next request."""
    monkeypatch.undo()  # the real _recover_soon; health and delay as the autouse fixture set them
    monkeypatch.setattr(redis_cache_module, "_health", {})
    monkeypatch.setattr(redis_cache_module, "RETRY_SECONDS", 0.01)
    settings.CACHES = settings_for(proxy.url)
    backend = caches["default"]
    backend.set("session", "connecté")
    proxy.close()
    backend.delete("session")  # fails: remembered, and the thread starts waiting for Redis
    proxy.open()
    thread = next(t for t in threading.enumerate() if t.name == "preau-redis-recovery")
    thread.join(timeout=10)
    assert not thread.is_alive()
    import redis

    other_process = redis.Redis.from_url(REDIS_URL)
    assert other_process.get(backend.make_and_validate_key("session")) is None
    delete_own_keys(backend)


# ---------------------------------------------------------------------------------------------
# The portal with Redis down


@pytest.fixture
def production_cache(settings):
    """Production's shape (website/settings/production.py) with Redis at a closed port."""
    settings.CACHES = settings_for(CLOSED)
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    settings.PREAU_SHARED_CACHE = None  # decided by the backend, as in production
    page_cache._pages.clear()
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.mark.django_db
def test_with_redis_down_a_family_logs_in_opens_the_planning_and_books_a_day(client, dupont, canteen, meal,
                                                                           production_cache):
    give_tickets(dupont["family"], meal, 2)
    assert client.get(reverse("portal:login")).status_code == 200
    response = client.post(reverse("portal:login"), {"username": dupont["user"].email,
                                                     "password": PASSWORD})
    assert response.status_code == 302
    url = reverse("portal:planning") + "?mois=2026-09"
    assert BOOK in client.get(url).content.decode()
    response = client.post(reverse("portal:planning_act"), {
        "book": f"{dupont['child'].pk}:{canteen.pk}:2026-09-14", "scope": "family", "mois": "2026-09"})
    assert response.status_code == 302
    assert Booking.objects.filter(child=dupont["child"], date=MONDAY, status="active").count() == 1
    html = client.get(url).content.decode()
    assert CANCEL in html and "Repas : <strong>1</strong>" in html
    assert page_cache._pages == {}  # nothing kept on counters that cannot be read
    assert client.get(reverse("portal:dashboard")).status_code == 200


@pytest.mark.django_db
def test_with_redis_down_the_lockout_still_counts_in_the_database(client, dupont, production_cache, settings):
    settings.AXES_ENABLED = True
    for _ in range(5):
        client.post(reverse("portal:login"), {"username": dupont["user"].email, "password": "mauvais essai"})
    response = client.post(reverse("portal:login"), {"username": dupont["user"].email, "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@needs_redis
@pytest.mark.django_db
def test_a_booking_made_while_redis_was_down_shows_once_it_is_back(client, dupont, canteen, meal, settings,
                                                                    proxy):
    """The page was cached before the outage; the booking's counter bump was lost with Redis.
    Redis back (with its old counters, as after a restart from its dump), the page must show
    the booking, not the copy from before."""
    settings.CACHES = settings_for(proxy.url, "preau-test-down-page")
    settings.PREAU_SHARED_CACHE = None
    page_cache._pages.clear()
    backend = caches["default"]
    client.force_login(dupont["user"])
    give_tickets(dupont["family"], meal, 2)
    url = reverse("portal:planning_child", args=[dupont["child"].pk]) + "?mois=2026-09"
    with time_machine.travel(NOW, tick=False):
        assert BOOK in client.get(url).content.decode()
        with CaptureQueriesContext(connection) as queries:
            assert BOOK in client.get(url).content.decode()
        assert len(queries) <= 2  # served from the page cache

        proxy.close()
        response = client.post(reverse("portal:planning_act"), {
            "book": f"{dupont['child'].pk}:{canteen.pk}:2026-09-14",
            "scope": f"child:{dupont['child'].pk}", "mois": "2026-09"})
        assert response.status_code == 302
        assert CANCEL in client.get(url).content.decode()  # computed during the outage

        proxy.open()
        assert CANCEL in client.get(url).content.decode()
        assert backend.available()
    delete_own_keys(backend)


def test_versions_are_unknown_while_redis_does_not_answer(settings):
    settings.CACHES = settings_for(CLOSED)
    settings.PREAU_SHARED_CACHE = None
    assert display_cache.versions(display_cache.PLANNING) is None
    computed = []
    for _ in range(2):
        display_cache.cached((display_cache.PLANNING,), "x", lambda: computed.append(1) or "valeur")
    assert computed == [1, 1]  # computed each time: no counter to keep it under
    assert not any(key.startswith(f"{display_cache.PREFIX}x") for key in display_cache._local)
    assert cache.get("anything") is None


@pytest.mark.django_db
def test_a_download_left_unread_keeps_nothing_for_what_runs_after_its_request(client, dupont, settings):
    """The test client never closes a streamed response nobody reads to the end, so
    request_finished never comes for it: the request's values must still be forgotten when it
    ends, or what runs next in this thread (the next test) reads them."""
    client.force_login(dupont["user"])
    response = client.get(reverse("portal:personal_data_download"))
    assert response.status_code == 200 and response.streaming  # its body is never read
    settings.CACHES = settings_for(CLOSED)
    settings.PREAU_SHARED_CACHE = None
    computed = []
    for _ in range(2):
        display_cache.cached((display_cache.PLANNING,), "x", lambda: computed.append(1) or "valeur")
    assert computed == [1, 1]


@pytest.mark.django_db
def test_with_redis_down_pages_do_not_try_to_reach_it_on_every_request(client, dupont, production_cache,
                                                                       monkeypatch):
    """A closed or hung Redis must not cost each request a connection attempt (and its
    timeout): after a failure, Redis is left alone for RETRY_SECONDS."""
    import redis.connection

    monkeypatch.setattr(redis_cache_module, "RETRY_SECONDS", 60.0)
    attempts = []
    real = redis.connection.Connection._connect
    monkeypatch.setattr(redis.connection.Connection, "_connect",
                        lambda self: attempts.append(1) or real(self))
    client.force_login(dupont["user"])
    url = reverse("portal:planning") + "?mois=2026-09"
    for _ in range(10):
        assert client.get(url).status_code == 200
    assert 1 <= len(attempts) <= 2  # the first failing call (and its one immediate retry)


@pytest.mark.django_db
def test_with_redis_down_a_computed_planning_reads_the_family_file_once(client, dupont, canteen, meal,
                                                                        production_cache,
                                                                        django_assert_num_queries):
    """Nothing is kept across requests while the counters cannot be read, but one page does
    not compute the same thing twice (the family's file for the grid and for the banner):
    session, user, children, services per school (one: Service.for_schools), closures,
    bookings+counts+balances, the family's file (3 here: its row with the rule, its children,
    the school year: none is set up), the town settings (2)."""
    give_tickets(dupont["family"], meal, 2)
    client.force_login(dupont["user"])
    url = reverse("portal:planning") + "?mois=2026-09"
    client.get(url)
    with django_assert_num_queries(11) as captured:
        assert BOOK in client.get(url).content.decode()
    assert sum('FROM "portal_family"' in q["sql"] for q in captured.captured_queries) == 1
