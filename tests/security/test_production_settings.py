"""Production settings (DJANGO_DEBUG=false plus the usual environment), checked from a
separate process exactly as gunicorn would load them."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "DJANGO_DEBUG": "false",
    "DJANGO_ALLOWED_HOSTS": "events.example.org",
    "SITE_URL": "https://events.example.org",
    "DJANGO_HSTS_PRELOAD": "true",
}

PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
client = Client(HTTP_HOST="events.example.org")
plain = client.get("/en/")
healthz = client.get("/healthz")
secure = client.get("/healthz", secure=True)
print(json.dumps({
    "debug": settings.DEBUG,
    "ssl_redirect": settings.SECURE_SSL_REDIRECT,
    "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
    "csrf_cookie_secure": settings.CSRF_COOKIE_SECURE,
    "session_cookie_httponly": settings.SESSION_COOKIE_HTTPONLY,
    "hsts_seconds": settings.SECURE_HSTS_SECONDS,
    "templates_cached": "cached.Loader" in repr(
        __import__("django.template", fromlist=["engines"]).engines["django"].engine.loaders
    ),
    "conn_max_age": settings.DATABASES["default"].get("CONN_MAX_AGE", 0),
    "plain_status": plain.status_code,
    "plain_location": plain.get("Location", ""),
    "healthz_plain_status": healthz.status_code,
    "hsts_header": secure.get("Strict-Transport-Security", ""),
}))
"""


def run(args, **extra_env):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(PRODUCTION_ENV, DJANGO_SECRET_KEY=secrets.token_urlsafe(50), **extra_env)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def production():
    result = run(["-c", PROBE])
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_deploy_check_finds_no_issues_in_production_settings():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_redirects_plain_http_to_https_except_healthz(production):
    assert production["debug"] is False
    assert production["plain_status"] == 301
    assert production["plain_location"].startswith("https://events.example.org/")
    # Load balancers probe over plain HTTP.
    assert production["healthz_plain_status"] in {200, 503}


def test_production_sends_hsts_for_a_year_over_https(production):
    assert production["hsts_seconds"] >= 31536000
    header = production["hsts_header"]
    assert "max-age=31536000" in header
    assert "includeSubDomains" in header


def test_production_cookies_are_secure_and_http_only(production):
    assert production["session_cookie_secure"] is True
    assert production["csrf_cookie_secure"] is True
    assert production["session_cookie_httponly"] is True


def test_production_caches_templates(production):
    assert production["templates_cached"] is True


def test_missing_hosts_setting_keeps_production_refusing_unknown_hosts():
    probe = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "print(Client(HTTP_HOST='evil.example').get('/healthz', secure=True).status_code)\n"
    )
    result = run(["-c", probe])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "400"
