"""The private APIs Convene leans on (Django's, the standard library's), each behind one
module: when they change, these fail loudly, rather than the module silently misbehaving."""

import email.policy
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
    # Its get_client() keeps one client per pool from _get_connection_pool(write) and _client.
    pool = inspect.signature(RedisCacheClient._get_connection_pool).parameters
    assert list(pool) == ["self", "write"]
    client = AtomicIncrCacheClient(["redis://127.0.0.1:1/0"])
    assert client._client is not None
    assert client.get_client(write=True) is client.get_client(write=False)


def test_the_email_policy_fold_we_override_keeps_its_signature():
    # notifications.fast.mime.Compat32 overrides _fold(name, value, sanitize).
    from notifications.fast.mime import Compat32

    fold = inspect.signature(email.policy.Compat32._fold).parameters
    assert list(fold) == ["self", "name", "value", "sanitize"]
    policy = Compat32(linesep="\r\n")
    assert policy.fold_binary("Subject", "Short") == b"Subject: Short\r\n"
    assert policy.fold_binary("Subject", "Short") == email.policy.compat32.clone(
        linesep="\r\n"
    ).fold_binary("Subject", "Short")
