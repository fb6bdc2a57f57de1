"""Redis down under a real gunicorn: the event page and the registration POST still work.

The web server is `gunicorn config.wsgi` in its own process, using a Redis server of our own
as cache and broker (tests/faults/conftest.py). Redis is killed mid-test: the event page is
served uncached, the rate limit lets the POST through, the registration is stored once and
the person sees the normal "check your email" page. Once Redis is back, the scan (as beat
runs it) hands the confirmation to a real worker, which sends it.
"""

import pytest

from notifications.models import Delivery
from registration.models import Registration
from tests.faults.conftest import (
    REDIS_PORT,
    REDIS_URL,
    RedisServer,
    later_scan,
    wait_until,
    worker_env,
)

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
CACHE_PORT = REDIS_PORT + 1
CACHE_URL = f"redis://127.0.0.1:{CACHE_PORT}/0"


def assert_stored_once_and_pending(event, email):
    registrations = Registration.objects.filter(event=event, email=email)
    assert [r.status for r in registrations] == [Registration.Status.CONFIRMED]
    confirmation = Delivery.objects.get(registration=registrations[0], kind="confirmation")
    assert confirmation.status == Delivery.Status.PENDING


def assert_sent_later(start_worker, smtp, email, env):
    start_worker(env)
    later_scan()  # what beat runs every minute, a few minutes on
    wait_until(
        lambda: email in smtp.recorder.recipients(),
        timeout=60,
        message="the confirmation was not sent after Redis came back",
    )


def test_with_redis_down_the_page_and_registration_still_work(
    open_event, redis_server, smtp, start_web, start_worker
):
    env = worker_env(smtp.url)
    web = start_web(env)
    browser = web.browser()
    page = f"/en/events/{open_event.slug}/"
    for _ in range(2):  # the second visit is served from the cache
        status, body = browser.get(page)
        assert status == 200
    redis_server.kill()

    for _ in range(3):
        status, body = browser.get(page)
        assert status == 200, body[-2000:]
        assert "Outage drill side event" in body
    status, url, body = browser.register(open_event.slug, "amina@example.org")
    assert status == 200, body[-2000:]
    assert url.endswith(f"/en/events/{open_event.slug}/register/check-email/")
    assert_stored_once_and_pending(open_event, "amina@example.org")
    # One line for the outage, not one per request.
    assert web.log.read_text().count("Cache unavailable") == 1

    redis_server.start()
    assert_sent_later(start_worker, smtp, "amina@example.org", env)


def test_with_only_the_broker_down_the_registration_succeeds(
    open_event, redis_server, smtp, start_web, start_worker
):
    cache = RedisServer(CACHE_PORT).start()
    try:
        env = {**worker_env(smtp.url), "REDIS_URL": CACHE_URL}
        assert env["CELERY_BROKER_URL"] == REDIS_URL
        web = start_web(env)
        browser = web.browser()
        redis_server.kill()

        status, url, body = browser.register(open_event.slug, "amina@example.org")
        assert status == 200, body[-2000:]
        assert url.endswith("/register/check-email/")
        assert_stored_once_and_pending(open_event, "amina@example.org")
        assert "Broker unavailable" in web.log.read_text()
        status, body = browser.get(f"/en/events/{open_event.slug}/")
        assert status == 200

        redis_server.start()
        assert_sent_later(start_worker, smtp, "amina@example.org", env)
    finally:
        cache.stop()
