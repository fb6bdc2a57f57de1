import logging

from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

log = logging.getLogger(__name__)


def _database_ok():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        log.exception("healthz: database check failed")
        return False
    return True


def _broker_ok():
    """Ping Redis when it is the broker; the embedded filesystem broker has nothing to ping."""
    if not settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        return None

    try:
        client = _redis_client()
        return bool(client.ping())
    except Exception:
        log.exception("healthz: broker check failed")
        return False


_client = None


def _redis_client():
    # One client per process, reused: /healthz is the benchmarks' baseline and must stay cheap.
    global _client
    if _client is None:
        import redis

        _client = redis.Redis.from_url(
            settings.CELERY_BROKER_URL, socket_connect_timeout=2, socket_timeout=2
        )
    return _client


@never_cache
def healthz(request):
    """200 with {"database": "ok", ...} when every configured backend answers, else 503."""
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    body = {name: ("ok" if ok else "down") for name, ok in checks.items() if ok is not None}
    healthy = all(ok is not False for ok in checks.values())
    body["status"] = "ok" if healthy else "down"
    return JsonResponse(body, status=200 if healthy else 503)


@require_safe
def robots_txt(request):
    """Crawlers: everything public, not the admin, personal manage links or technical paths;
    where the sitemap is (absolute, from SITE_URL)."""
    lines = ["User-agent: *"]
    for code, _name in settings.LANGUAGES:
        lines += [f"Disallow: /{code}/admin/", f"Disallow: /{code}/r/"]
    lines += ["Disallow: /i18n/", "Disallow: /anymail/", "Disallow: /healthz", ""]
    lines.append(f"Sitemap: {settings.SITE_URL}{reverse('sitemap')}")
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
