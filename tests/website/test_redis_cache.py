"""The production cache backend (website/cache.py) and the version counters on a real Redis."""

import os
import socket
import threading

import pytest
from django.core.cache import caches
from django.test import override_settings

from portal.cache import display_cache

REDIS_URL = os.environ.get("PREAU_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_up():
    host, port = REDIS_URL.split("//", 1)[1].split("/", 1)[0].split(":")
    try:
        socket.create_connection((host, int(port)), timeout=0.5).close()
        return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not _redis_up(), reason=f"no Redis at {REDIS_URL}")


def redis_settings(name):
    """A cache on the test Redis whose keys carry this process's own prefix."""
    return {"default": {"BACKEND": "website.cache.RedisCache", "LOCATION": REDIS_URL,
                        "KEY_PREFIX": f"preau-test-{name}-{os.getpid()}"}}


def clear(cache):
    """Delete this cache's keys only: clear() would flush the whole database under the feet of
    a test running in parallel."""
    client = cache._cache.get_client(write=True)
    keys = client.keys(f"{cache.key_prefix}:*")
    if keys:
        client.delete(*keys)


@pytest.fixture
def redis_cache():
    with override_settings(CACHES=redis_settings("backend")):
        cache = caches["default"]
        clear(cache)
        yield cache
        clear(cache)


def test_values_round_trip_and_one_client_serves_every_call(redis_cache):
    redis_cache.set("a", {"x": 1})
    redis_cache.set_many({"b": 2, "c": "trois"})
    assert redis_cache.get("a") == {"x": 1}
    assert redis_cache.get_many(["a", "b", "c", "missing"]) == {"a": {"x": 1}, "b": 2, "c": "trois"}
    assert redis_cache.incr("b") == 3
    client = redis_cache._cache.get_client()
    assert redis_cache._cache.get_client() is client
    assert redis_cache._cache.get_client(write=True) is client  # one server: one pool


def test_the_shared_client_is_safe_across_threads(redis_cache):
    errors = []

    def work(n):
        try:
            for i in range(50):
                redis_cache.set(f"t{n}-{i}", i)
                assert redis_cache.get(f"t{n}-{i}") == i
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_a_version_counter_starts_from_the_clock_and_each_bump_moves_it(redis_cache):
    namespace = "test-counter"
    display_cache._bump_now(namespace)  # no counter yet: created from the clock, then incremented
    (first,) = display_cache.versions(namespace)
    assert first > 1_000_000_000_000_000_000  # nanoseconds since 1970, not 1
    display_cache._bump_now(namespace)
    display_cache._bump_now(namespace)
    assert display_cache.versions(namespace) == [first + 2]
    redis_cache.delete(display_cache._version_key(namespace))  # evicted
    (again,) = display_cache.versions(namespace)
    assert again not in (first, first + 1, first + 2)


def test_a_bump_is_one_round_trip_on_redis(redis_cache, monkeypatch):
    calls = []
    client = redis_cache._cache.get_client(write=True)
    monkeypatch.setattr(type(client), "execute_command",
                        lambda self, *args, **kw: calls.append(args[0]))  # single commands only
    display_cache._bump_now("one-trip")
    assert calls == []  # SET NX and INCR went together in one pipeline
