"""Convene settings: one file, every difference between laptop, CI and production an
environment variable (see the table in README.md). Defaults are the laptop's: SQLite, an
embedded Celery broker, email written to var/mail/ and the console.
"""

from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from config.env import (
    env_addr,
    env_bool,
    env_int,
    env_list,
    env_str,
    env_url,
    local_url,
    parse_database_url,
    parse_email_url,
    tracking_webhook_esp,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("CONVENE_VAR_DIR", str(BASE_DIR / "var")))

# --- Core -----------------------------------------------------------------------------------
DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off. Generate one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    SECRET_KEY = "convene-insecure-laptop-key-never-use-in-production-0123456789abcdef"  # noqa: S105

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
# Where `make run` serves (manage.py serve); links in emails follow it unless SITE_URL is set.
CONVENE_ADDR = env_addr("CONVENE_ADDR", "127.0.0.1:8000")
SITE_URL = env_url("SITE_URL", local_url(CONVENE_ADDR), schemes={"http", "https"}).rstrip("/")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [SITE_URL])
SITE_NAME = env_str("SITE_NAME", "Convene")

INSTALLED_APPS = [
    "config.admin.ConveneAdminConfig",  # django.contrib.admin, branded with SITE_NAME
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",  # django-bootstrap-static: Bootstrap 5 CSS/JS (LTR and RTL) as static files
    "anymail",
    "events",
    "registration",
    "notifications",
    "config",  # the project-wide commands: serve, compile_translations, ensure_organiser
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    # gzip, but only for responses that hold no CSRF token or session (config/compression.py).
    "config.compression.PublicGZipMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Cached public event pages, served before sessions and CSRF (events/cache.py).
    "events.middleware.EventPageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Refuses large and multipart bodies from their headers, before CSRF reads the form.
    "config.limits.RequestBodyLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": parse_database_url(
        "DATABASE_URL", env_str("DATABASE_URL", "sqlite:///var/db.sqlite3"), base_dir=BASE_DIR
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
elif DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # Connections are reused, never opened per request (a handshake each time is slow), and
    # checked before each reuse.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASE_POOL_SIZE = env_int("DATABASE_POOL_SIZE", 4, minimum=0)
    if DATABASE_POOL_SIZE:
        # Django's psycopg pool: each process (gunicorn worker, Celery pool process, the
        # threaded dev server) holds at most this many connections however many requests
        # or threads it serves. A request that waits DATABASE_POOL_TIMEOUT seconds for one
        # gets the 503 page (config/outage.py). Pooled connections stay open between
        # requests; Django requires CONN_MAX_AGE=0 for that.
        if env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0):
            raise ImproperlyConfigured(
                "DATABASE_CONN_MAX_AGE applies only without the connection pool "
                "(DATABASE_POOL_SIZE=0); pooled connections are kept by the pool."
            )
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"]["OPTIONS"]["pool"] = {
            "min_size": 1,
            "max_size": DATABASE_POOL_SIZE,
            "timeout": env_int("DATABASE_POOL_TIMEOUT", 10, minimum=1),
        }
    else:
        # One persistent connection per thread, kept this many seconds.
        DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 600, minimum=0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------------
CELERY_BROKER_URL = env_url(
    "CELERY_BROKER_URL",
    "filesystem://",
    schemes={"filesystem", "redis", "rediss", "amqp", "memory"},
)
REDIS_URL = env_str("REDIS_URL") or (
    CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else ""
)
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's RedisCache, reusing one client per pool and answering as an empty
            # cache while Redis is down (see config/cache.py).
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            # A Redis that does not answer costs a request at most this, once (config/cache.py).
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "convene"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_DIR = VAR_DIR / "celery"
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The filesystem transport ignores the host, but kombu warns "No hostname was supplied"
    # on every connection it clones (twice per send batch) when the URL names none.
    if not urlsplit(CELERY_BROKER_URL).hostname:
        CELERY_BROKER_URL = "filesystem://localhost/"
    # kombu's filesystem transport: a broker that needs no server, for the laptop. The
    # folders must exist before a worker starts (config/celery.py creates them).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# Tests set this (tests/conftest.py) so tasks run inline; a real worker never does.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
# A task is acknowledged only after it ran: a killed worker's tasks go back to the queue.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes the database connection before and after every task unless
# this is set: a new PostgreSQL backend (and its catalogue cache) per batch of 100 emails.
# (With the pool, a close only hands the connection back.) config.celery checks connections
# before each task.
CELERY_DB_REUSE_MAX = 1000
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    # Due meeting links, coalesced change notices, and anything left pending or stuck.
    "notifications-scan": {"task": "notifications.tasks.scan", "schedule": 60.0},
    "registration-expire-holds": {
        "task": "registration.tasks.expire_verification_holds",
        "schedule": 60.0,
    },
    # Anonymise registrations past PERSONAL_DATA_RETENTION_DAYS (see the privacy notice).
    "registration-purge-personal-data": {
        "task": "registration.tasks.purge_personal_data",
        "schedule": 24 * 60 * 60.0,
    },
}

# --- Email ----------------------------------------------------------------------------------
EMAIL_URL = env_str("EMAIL_URL", "files:")
MAILERS = {"default": parse_email_url("EMAIL_URL", EMAIL_URL, base_dir=BASE_DIR)}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Convene <convene@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
ANYMAIL = {
    key.removeprefix("ANYMAIL_"): value
    for key, value in __import__("os").environ.items()
    if key.startswith("ANYMAIL_") and value
}
# The one ESP whose tracking webhook (bounces, complaints) is mounted under /anymail/; start-up
# stops when it has no webhook secret or signing key (config/env.py).
EMAIL_TRACKING_ESP = tracking_webhook_esp("EMAIL_URL", EMAIL_URL, anymail=ANYMAIL)

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
# An organiser's invitation link (events.organisers) works this long, once.
PASSWORD_RESET_TIMEOUT = 7 * 24 * 3600
# Where a login lands when its `next` is missing or unsafe: the admin is the only login.
LOGIN_REDIRECT_URL = "admin:index"

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en"
# The six official UN languages: also the choices for emails and interpretation
# (events/languages.py).
LANGUAGES = [
    ("ar", _("Arabic")),
    ("zh-hans", _("Chinese")),
    ("en", _("English")),
    ("fr", _("French")),
    ("ru", _("Russian")),
    ("es", _("Spanish")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

# --- Static and uploaded files --------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns when it is missing
STATICFILES_DIRS = [BASE_DIR / "static"]
# Served at / by whitenoise: /favicon.ico, which browsers and feed readers ask for by name.
WHITENOISE_ROOT = BASE_DIR / "static" / "root"
MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
DOCUMENT_MAX_UPLOAD_MB = env_int("DOCUMENT_MAX_UPLOAD_MB", 20, minimum=1)
# Requests larger than this are refused before the body is read (documents are uploaded
# through the admin as files, which this does not count). Public pages take far less, and
# no files: config/limits.py.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

# --- Security -------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# An expired or cookie-less form: the site's 403 page, not Django's technical one.
CSRF_FAILURE_VIEW = "config.errors.csrf_failure"
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
BEHIND_PROXY = env_bool("DJANGO_BEHIND_PROXY", False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Reverse proxies in front of the app that each append to X-Forwarded-For; the client address
# is the PROXY_HOPS-th from the right (config/http.py). Read only with DJANGO_BEHIND_PROXY.
PROXY_HOPS = env_int("DJANGO_PROXY_HOPS", 1, minimum=1)
# No page uses these browser features: deny them to the page and to anything it might embed.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in [
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    ]
}
# /healthz answers over plain HTTP so load balancers can probe it.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

# --- Crispy forms ---------------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Convene --------------------------------------------------------------------------------
# Default hours before an event starts at which the meeting link goes out.
MEETING_LINK_LEAD_HOURS = env_int("MEETING_LINK_LEAD_HOURS", 24, minimum=1)
# Registrations are anonymised this many days after their event ended.
PERSONAL_DATA_RETENTION_DAYS = env_int("PERSONAL_DATA_RETENTION_DAYS", 90, minimum=1)
# Minutes after an organiser's last change to the time or meeting link before registrants are
# told, so a burst of edits gives one message.
EVENT_CHANGE_NOTICE_DELAY_MINUTES = env_int("EVENT_CHANGE_NOTICE_DELAY_MINUTES", 5, minimum=0)
# Email retries: exponential backoff from this many seconds (with jitter), capped at an hour;
# after NOTIFICATIONS_MAX_ATTEMPTS attempts a message is marked failed.
NOTIFICATIONS_RETRY_BASE_SECONDS = env_int("NOTIFICATIONS_RETRY_BASE_SECONDS", 30, minimum=1)
NOTIFICATIONS_MAX_ATTEMPTS = env_int("NOTIFICATIONS_MAX_ATTEMPTS", 12, minimum=1)
# A worker owns the messages it claimed this long; past it (a killed worker) they are sent again.
NOTIFICATIONS_LEASE_SECONDS = env_int("NOTIFICATIONS_LEASE_SECONDS", 300, minimum=5)
# Emails per send task: one connection to the mail provider serves the batch; a killed worker
# leaves at most this many per process in doubt.
NOTIFICATIONS_BATCH_SIZE = env_int("NOTIFICATIONS_BATCH_SIZE", 100, minimum=1)
# Sign-up emails (confirmation, verification) committed within this many seconds of each
# other share one send task, sent this long after the first (0: one task each, at once).
NOTIFICATIONS_SIGN_UP_WINDOW_SECONDS = env_int("NOTIFICATIONS_SIGN_UP_WINDOW_SECONDS", 1, minimum=0)
# Seconds a rendered public event page is cached for anonymous visitors (0: no cache). Seats
# left and registration status are re-read separately, every few seconds (events/cache.py).
EVENT_PAGE_CACHE_SECONDS = env_int("EVENT_PAGE_CACHE_SECONDS", 300, minimum=0)
# Registration form submissions allowed per IP address per 10 minutes.
REGISTRATION_RATE_LIMIT = env_int("REGISTRATION_RATE_LIMIT", 20, minimum=1)
# Minutes a seat is held for an unverified address (events in "verify_email" mode may differ).
REGISTRATION_HOLD_MINUTES = env_int("REGISTRATION_HOLD_MINUTES", 30, minimum=1)
# Wrong access codes allowed per IP address per 10 minutes (events in "code" mode).
REGISTRATION_CODE_ATTEMPTS = env_int("REGISTRATION_CODE_ATTEMPTS", 5, minimum=1)
# Proof of work (ALTCHA, self-hosted) on every registration form; off by default. A site
# administrator can also turn it on for one event (Event.proof_of_work, in the admin).
REGISTRATION_PROOF_OF_WORK = env_bool("REGISTRATION_PROOF_OF_WORK", False)
# The largest number the browser may have to try (half of it on average, one SHA-256 each,
# spread over its cores). 50000: about 1 s in Chromium on a busy 2-core server (0.7-1.6 s,
# challenge fetch included; tests/e2e/test_proof_of_work.py prints the figure).
REGISTRATION_PROOF_OF_WORK_MAXNUMBER = env_int(
    "REGISTRATION_PROOF_OF_WORK_MAXNUMBER", 50_000, minimum=1_000
)
# Signs the challenges. Blank: derived from DJANGO_SECRET_KEY (registration/proof_of_work.py).
ALTCHA_HMAC_KEY = env_str("ALTCHA_HMAC_KEY")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # Manage-link tokens never reach a log (config/logs.py).
    "filters": {"redact_tokens": {"()": "config.logs.RedactTokens"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_tokens"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
