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
