"""Django's Redis cache backend, with a counter that keeps its expiry, answering like an
empty cache while Redis is unreachable.

The counter: Django's incr() is EXISTS then INCRBY, two round trips, and a key that expires
between them comes back from INCRBY without a timeout: a rate limit that never ends. Our
client does both in one atomic script. This is the one place that leans on Django's private
cache internals (RedisCache._class, RedisCacheClient.get_client); tests/test_cache.py fails
loudly if Django changes them.
"""

import logging
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

INCR_EXISTING = """
if redis.call('EXISTS', KEYS[1]) == 1 then
    return redis.call('INCRBY', KEYS[1], ARGV[1])
end
return false
"""


class AtomicIncrCacheClient(RedisCacheClient):
    """Django's client with incr() in one atomic round trip, and one redis.Redis object per
    connection pool: Django builds a new one for every cache call, and redis-py 8 spends
    about 85 µs building its table of reply callbacks each time (four calls in a
    registration POST: 5% of its CPU). A Redis object is safe to share between threads: it
    takes a connection from the pool per command."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}  # id(connection pool) -> redis.Redis

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client

    def incr(self, key, delta):
        """As Django's: the new value, ValueError when the key does not exist."""
        value = self.get_client(key, write=True).eval(INCR_EXISTING, 1, key, delta)
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return value


class AtomicIncrRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = AtomicIncrCacheClient


# The cache only saves work: every page and every answer can be computed without it. So
# while Redis cannot be reached, each call answers as an empty cache that keeps nothing
# would (a miss; counters start again; writes are dropped): pages are rendered uncached and
# rate limits let requests through, instead of every request failing.
UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
# After a failed call, calls skip Redis this long: a Redis that does not answer would
# otherwise cost every request its socket timeout, several times over.
RETRY_AFTER_SECONDS = 5
# One log line per this many seconds of outage, however many requests it affects.
LOG_EVERY_SECONDS = 60


class _Outage:
    """Per process (shared by its threads): when to try Redis again, and the log throttle."""

    def __init__(self):
        self.retry_at = 0.0
        self.logged_at = None
        self.unanswered = 0
        self.lock = threading.Lock()

    def active(self):
        if self.retry_at and time.monotonic() < self.retry_at:
            self.unanswered += 1
            return True
        return False

    def begin(self, error):
        now = time.monotonic()
        with self.lock:
            self.retry_at = now + RETRY_AFTER_SECONDS
            self.unanswered += 1
            if self.logged_at is not None and now - self.logged_at < LOG_EVERY_SECONDS:
                return
            self.logged_at = now
            count, self.unanswered = self.unanswered, 0
        log.error(
            "Cache unavailable, serving without it (%d cache calls unanswered since the last "
            "report): %s",
            count,
            error,
        )

    def end(self):
        self.retry_at = 0.0


outage = _Outage()


class ResilientRedisCache(AtomicIncrRedisCache):
    """AtomicIncrRedisCache that answers as an empty cache while Redis is unreachable."""

    def _call(self, method, fallback, *args):
        if outage.retry_at:
            if outage.active():
                return fallback
            outage.end()
        try:
            return method(*args)
        except UNREACHABLE as error:
            outage.begin(error)
            return fallback

    def get(self, key, default=None, version=None):
        return self._call(super().get, default, key, default, version)

    def get_many(self, keys, version=None):
        return self._call(super().get_many, {}, keys, version)

    def has_key(self, key, version=None):
        return self._call(super().has_key, False, key, version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        # An empty cache accepts the key (and then forgets it): a throttle fails open.
        return self._call(super().add, True, key, value, timeout, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(super().set, None, key, value, timeout, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(super().set_many, [], data, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(super().touch, False, key, timeout, version)

    def delete(self, key, version=None):
        return self._call(super().delete, False, key, version)

    def delete_many(self, keys, version=None):
        return self._call(super().delete_many, None, keys, version)

    def clear(self):
        return self._call(super().clear, False)

    def incr(self, key, delta=1, version=None):
        missing = object()
        value = self._call(super().incr, missing, key, delta, version)
        if value is missing:
            raise ValueError(f"Key '{key}' not found.")  # as for a key an empty cache lacks
        return value
