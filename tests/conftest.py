from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.utils import translation

URLENCODED = "application/x-www-form-urlencoded"


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate limits, cached pages, email parts and forms must not leak from one test into the
    next (a test's event may have the pk and updated_at of another's)."""
    from notifications.emails import forget_shared
    from registration.form_html import forget_rendered_forms

    cache.clear()
    forget_shared()
    forget_rendered_forms()
    yield
    cache.clear()
    forget_shared()
    forget_rendered_forms()


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


@pytest.fixture(autouse=True)
def _reset_language():
    """A request under /ru/ leaves Russian active in this thread: the next test must not
    inherit it (reverse() and get_absolute_url() would build /ru/ URLs)."""
    yield
    from django.utils import translation

    translation.deactivate()


def _has_file(data):
    values = data.values() if isinstance(data, dict) else ()
    for value in values:
        items = value if isinstance(value, (list, tuple)) else [value]
        if any(hasattr(item, "read") for item in items):
            return True
    return False


class BrowserClient(Client):
    """Django's test client, posting a dict of plain fields urlencoded as a browser posts our
    forms (none has enctype="multipart/form-data", and public pages refuse multipart: see
    config/limits.py); a dict holding a file goes multipart, as the admin's upload forms do."""

    def post(self, path, data=None, content_type=None, **extra):
        if (
            content_type is None
            and (data is None or isinstance(data, dict))
            and not _has_file(data)
        ):
            return super().post(path, urlencode(data or {}, doseq=True), URLENCODED, **extra)
        if content_type is None:
            return super().post(path, data, **extra)
        return super().post(path, data, content_type, **extra)


@pytest.fixture
def client():
    """pytest-django's `client`, posting as a browser does (BrowserClient)."""
    return BrowserClient()


@pytest.fixture
def admin_client(db, admin_user):
    """pytest-django's `admin_client`, posting as a browser does (BrowserClient)."""
    client = BrowserClient()
    client.force_login(admin_user)
    return client
