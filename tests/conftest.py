import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import translation


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate limits and cached pages must not leak from one test into the next."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the default language and leaves none behind: a test client
    request activates its page's language (LocaleMiddleware) in this thread and keeps it, so
    the next test's reverse() would otherwise give /ar/ URLs."""
    with translation.override(settings.LANGUAGE_CODE):
        yield


def uses_postgresql():
    from django.db import connection

    return connection.vendor == "postgresql"
