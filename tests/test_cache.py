"""The Redis cache backend (config/cache.py): counters as the registration rate limit uses
them. Needs Redis; on the laptop default (local memory) it skips."""

import pytest
from django.core.cache import cache

pytestmark = pytest.mark.services


@pytest.fixture(autouse=True)
def _redis_only():
    if not type(cache._cache).__module__.startswith("config.cache"):
        pytest.skip("the Redis cache backend is not configured (REDIS_URL)")


def test_counter_counts_up_and_keeps_its_expiry_so_a_rate_limit_ends():
    cache.add("test:counter", 1, 60)
    assert cache.incr("test:counter") == 2
    assert cache.incr("test:counter", 5) == 7
    client = cache._cache.get_client(write=True)
    assert 0 < client.ttl(cache.make_and_validate_key("test:counter")) <= 60


def test_counter_that_does_not_exist_is_refused_and_not_created():
    with pytest.raises(ValueError):
        cache.incr("test:missing")
    assert cache.get("test:missing") is None


@pytest.fixture
def unreachable_cache(monkeypatch):
    """A ResilientRedisCache pointed at a port nothing listens on, with a fresh outage state."""
    from config import cache as cache_module
    from tests.notifications.smtp_server import free_port

    monkeypatch.setattr(cache_module, "outage", cache_module._Outage())
    return cache_module.ResilientRedisCache(f"redis://127.0.0.1:{free_port()}/0", {})


def test_unreachable_redis_answers_as_an_empty_cache(unreachable_cache):
    assert unreachable_cache.get("page", "miss") == "miss"
    assert unreachable_cache.get_many(["page", "snapshot"]) == {}
    unreachable_cache.set("page", "html", 60)
    assert unreachable_cache.add("rate", 1, 60) is True  # a rate limit fails open
    with pytest.raises(ValueError):
        unreachable_cache.incr("rate")
    assert unreachable_cache.delete("page") is False


def test_unreachable_redis_is_logged_once_not_per_call(unreachable_cache, caplog, monkeypatch):
    from config import cache as cache_module

    for _ in range(50):
        unreachable_cache.get("page")
    # Past the retry pause each call tries Redis again, and fails again: still one line.
    monkeypatch.setattr(cache_module, "RETRY_AFTER_SECONDS", 0)
    for _ in range(50):
        unreachable_cache.get("page")
    assert caplog.text.count("Cache unavailable") == 1
