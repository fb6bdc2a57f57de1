import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate limits and cached pages must not leak from one test into the next."""
    cache.clear()
    yield
    cache.clear()


def uses_postgresql():
    from django.db import connection

    return connection.vendor == "postgresql"


@pytest.fixture(autouse=True)
def _reset_language():
    """A request under /ru/ leaves Russian active in this thread: the next test must not
    inherit it (reverse() and get_absolute_url() would build /ru/ URLs)."""
    yield
    from django.utils import translation

    translation.deactivate()
