"""The private Django APIs Convene leans on, each behind one module: when Django changes
them, these fail loudly, rather than the module silently falling back to Django's way."""

import inspect

from django.core.cache.backends.redis import RedisCacheClient

from config.cache import AtomicIncrCacheClient, ResilientRedisCache


def test_the_redis_cache_builds_its_client_from_our_class():
    # config/cache.py sets RedisCache._class; Django builds RedisCache._cache from it.
    backend = ResilientRedisCache("redis://127.0.0.1:1/0", {})
    assert type(backend._cache) is AtomicIncrCacheClient


def test_the_redis_cache_client_methods_we_use_keep_their_signatures():
    # AtomicIncrCacheClient overrides incr(key, delta) and calls get_client(key, write=True).
    assert list(inspect.signature(RedisCacheClient.incr).parameters) == ["self", "key", "delta"]
    get_client = inspect.signature(RedisCacheClient.get_client).parameters
    assert list(get_client) == ["self", "key", "write"]
    assert get_client["write"].kind is inspect.Parameter.KEYWORD_ONLY
