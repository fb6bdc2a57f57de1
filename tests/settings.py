"""Settings for the test suite: config.settings plus what makes tests fast and self-contained.

Celery's eager mode has to be set here, before the Celery app reads its configuration; the
`settings` fixture would be too late. Tests that need a real worker start one themselves
with config.settings (tests/integration).
"""

from config.settings import *  # noqa: F403
from config.settings import DATABASES

CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "test-media"  # noqa: F405
SECURE_SSL_REDIRECT = False
# Each test database gets a fresh cache; Redis (when configured) is shared, so namespace it.
CACHES["default"]["KEY_PREFIX"] = "convene-test"  # noqa: F405
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
if DATABASES["default"]["OPTIONS"].get("pool"):
    # The race tests (tests/registration/test_concurrency.py) run 40 threads at once, and the
    # test client keeps a thread's connection until the thread closes it: one each.
    DATABASES["default"]["OPTIONS"]["pool"]["max_size"] = 45
