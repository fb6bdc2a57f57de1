"""Django's Redis cache backend, reusing one redis-py client per connection pool.

Django builds a new redis.Redis object for every cache call, and its constructor fills a
table of some 200 response callbacks each time: a registration POST (rate limit, seat-count
bump) paid that four times, about 5 % of its CPU. The client is a thin, thread-safe wrapper
around the pool, and Django keeps one cache object per thread anyway, so one client per pool
serves every call. Its incr() takes one round trip instead of two.
"""

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

# Django's incr() is EXISTS then INCRBY: two round trips, and a key that expires between
# them comes back from INCRBY without a timeout. This script does both in one, atomically.
INCR_EXISTING = """
if redis.call('EXISTS', KEYS[1]) == 1 then
    return redis.call('INCRBY', KEYS[1], ARGV[1])
end
return false
"""


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}
        self._incr_scripts = {}

    def incr(self, key, delta):
        """As Django's: the new value, ValueError when the key does not exist."""
        client = self.get_client(key, write=True)
        script = self._incr_scripts.get(id(client))
        if script is None:
            script = self._incr_scripts[id(client)] = client.register_script(INCR_EXISTING)
        value = script(keys=[key], args=[delta])
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return value

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class ReusingRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
