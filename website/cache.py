"""Django's Redis cache backend, keeping one client per connection pool and degrading when
Redis does not answer.

Django's backend builds a new `redis.Redis` client on every cache call (~0.15 ms: it fills a
table of response callbacks each time); a portal page makes two or three calls. A client is
thread-safe and only borrows connections from its pool, so one per pool is enough.

Redis only makes pages faster (sessions are `cached_db`, lockouts are in the database), so an
unreachable Redis must not turn pages into errors: a read is a miss, a write is skipped, and
the outage is logged at most once a minute. Redis is then left alone for RETRY_SECONDS (a
Redis that hangs would otherwise cost every request its timeout) and tried again, so Préau
uses it again, without a restart, once it answers.

A write skipped during the outage may leave an older value in Redis (a session since logged
out, a version counter that missed a bump). So the keys of skipped writes are remembered and
deleted when Redis answers again, before anything else is read (the whole database is flushed
if there were too many to remember), and `available()` is False until that is done: the
display caches and the planning page cache compute pages instead of trusting counters then.
"""

import logging
import threading
import time

from django.core.cache.backends import redis as django_redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError, OutOfMemoryError, ReadOnlyError, TimeoutError
from redis.retry import Retry

logger = logging.getLogger(__name__)

# What "Redis is not answering" raises: refused or reset connections, timeouts, a server still
# loading its data (BusyLoadingError is a ConnectionError), a full one with `noeviction`, a
# replica. Anything else (a bug in a call) still raises.
UNAVAILABLE = (ConnectionError, TimeoutError, OutOfMemoryError, ReadOnlyError)
RETRY_SECONDS = 2.0
LOG_EVERY_SECONDS = 60.0
MAX_REMEMBERED_KEYS = 10_000

# Defaults for the connection pool (OPTIONS override them): a Redis that hangs costs a request
# a quarter of a second at most, and a pooled connection dropped by a Redis restart is retried
# once at once, not three times with back-off.
POOL_DEFAULTS = {"socket_connect_timeout": 0.25, "socket_timeout": 0.25}


class _Health:
    """Per process and per server: cache backends are per thread, an outage is not."""

    def __init__(self):
        self.lock = threading.Lock()
        self.retry_at = 0.0  # monotonic; Redis is not tried before this
        self.logged_at = None
        self.skipped = 0  # calls skipped since the last log line
        self.stale_keys = set()  # written or deleted while unreachable
        self.overflow = False  # too many to remember: flush the database on recovery
        self.down = False
        self.recovering = False  # a thread is waiting for Redis to delete the stale keys

    def usable(self):
        return not self.down and not self.stale_keys and not self.overflow

    def failed(self, exc, keys):
        now = time.monotonic()
        with self.lock:
            self.retry_at = now + RETRY_SECONDS
            self.down = True
            self._remember(keys)
            self.skipped += 1
            if self.logged_at is None or now - self.logged_at >= LOG_EVERY_SECONDS:
                logger.error("Redis unreachable (%s): cache reads are misses, writes skipped "
                             "(%d cache call(s) missed since the last message).", exc, self.skipped)
                self.logged_at, self.skipped = now, 0

    def skip(self, keys):
        with self.lock:
            self._remember(keys)
            self.skipped += 1

    def _remember(self, keys):
        if keys is None or self.overflow:
            return
        if keys is ALL:
            self.overflow = True
            return
        self.stale_keys.update(keys)
        if len(self.stale_keys) > MAX_REMEMBERED_KEYS:
            self.stale_keys.clear()
            self.overflow = True


ALL = object()  # a write to every key (clear())
_health = {}
_health_lock = threading.Lock()


def _health_for(servers):
    key = tuple(servers)
    with _health_lock:
        return _health.setdefault(key, _Health())


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, servers, **options):
        options.setdefault("retry", Retry(NoBackoff(), 1))
        for name, value in POOL_DEFAULTS.items():
            options.setdefault(name, value)
        super().__init__(servers, **options)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


_MISS = object()


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
        self._health = _health_for(self._servers)

    def available(self):
        """Whether Redis answered last time and holds nothing older than the database: what a
        cached page may be trusted on."""
        return self._health.usable()

    def _call(self, operation, *, default=None, writes=None):
        """Run operation() on Redis, or return `default` when it cannot be reached. `writes`:
        the keys it changes (None: none), deleted from Redis on recovery if it is skipped."""
        health = self._health
        if time.monotonic() < health.retry_at:
            health.skip(writes)
            self._recover_soon()
            return default
        try:
            if health.stale_keys or health.overflow:
                self._recover()
            result = operation()
        except UNAVAILABLE as exc:
            health.failed(exc, writes)
            self._recover_soon()
            return default
        if health.down:
            health.down = False
            logger.warning("Redis answers again.")
        return result

    def _recover_soon(self):
        """Delete the stale keys as soon as Redis answers, even if this process gets no request
        then: another process, which never saw the outage, would read them meanwhile."""
        health = self._health
        with health.lock:
            if health.recovering or not (health.stale_keys or health.overflow):
                return
            health.recovering = True

        def run():
            while True:
                with health.lock:
                    if not (health.stale_keys or health.overflow):
                        health.recovering = False
                        return
                time.sleep(RETRY_SECONDS)
                try:
                    self._recover()
                except UNAVAILABLE:
                    pass

        threading.Thread(target=run, name="preau-redis-recovery", daemon=True).start()

    def _recover(self):
        health = self._health
        with health.lock:
            keys, overflow = list(health.stale_keys), health.overflow
        client = self._cache.get_client(write=True)
        if overflow:
            client.flushdb()
        elif keys:
            client.delete(*keys)
        with health.lock:
            health.stale_keys.difference_update(keys)
            health.overflow = health.overflow and not overflow
        logger.warning("Redis answers again: %s.", "its database flushed" if overflow
                       else f"{len(keys)} key(s) written during the outage deleted")

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        full = self.make_and_validate_key(key, version=version)
        return self._call(lambda: self._cache.add(full, value, self.get_backend_timeout(timeout)),
                          default=False, writes=[full])

    def get(self, key, default=None, version=None):
        full = self.make_and_validate_key(key, version=version)
        return self._call(lambda: self._cache.get(full, default), default=default)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        full = self.make_and_validate_key(key, version=version)
        self._call(lambda: self._cache.set(full, value, self.get_backend_timeout(timeout)),
                   writes=[full])

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        full = self.make_and_validate_key(key, version=version)
        return self._call(lambda: self._cache.touch(full, self.get_backend_timeout(timeout)),
                          default=False)

    def delete(self, key, version=None):
        full = self.make_and_validate_key(key, version=version)
        return self._call(lambda: self._cache.delete(full), default=False, writes=[full])

    def get_many(self, keys, version=None):
        return self._call(lambda: super(RedisCache, self).get_many(keys, version=version), default={})

    def has_key(self, key, version=None):
        return self._call(lambda: super(RedisCache, self).has_key(key, version=version), default=False)

    def incr(self, key, delta=1, version=None):
        full = self.make_and_validate_key(key, version=version)
        result = self._call(lambda: self._cache.incr(full, delta), default=_MISS, writes=[full])
        if result is _MISS:
            raise ValueError(f"Key '{key}' not reachable.")  # what incr() raises for a missing key
        return result

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        keys = [self.make_and_validate_key(k, version=version) for k in data]
        self._call(lambda: super(RedisCache, self).set_many(data, timeout, version=version),
                   writes=keys)
        return []

    def delete_many(self, keys, version=None):
        full = [self.make_and_validate_key(k, version=version) for k in keys]
        self._call(lambda: super(RedisCache, self).delete_many(keys, version=version), writes=full)

    def clear(self):
        return self._call(lambda: super(RedisCache, self).clear(), default=False, writes=ALL)

    def bump_counter(self, key):
        """Increment a version counter in one round trip (Django's incr() asks EXISTS first),
        starting a missing one from the clock."""
        full = self.make_and_validate_key(key)

        def bump():
            pipe = self._cache.get_client(full, write=True).pipeline(transaction=False)
            pipe.set(full, time.time_ns(), nx=True)
            pipe.incr(full)
            pipe.execute()

        self._call(bump, writes=[full])
