import logging

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

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
