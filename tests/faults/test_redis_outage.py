"""Redis down under a real gunicorn: the event page and the registration POST still work.

The web server is `gunicorn config.wsgi` in its own process, using a Redis server of our own
as cache and broker (tests/faults/conftest.py). Redis is killed mid-test: the event page is
served uncached, the rate limit lets the POST through, the registration is stored once and
the person sees the normal "check your email" page. Once Redis is back, the scan (as beat
runs it) hands the confirmation to a real worker, which sends it.
"""

import http.cookiejar
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta

import pytest
from django.utils import timezone

from events.models import Event
from notifications.models import Delivery
from registration.models import Registration
from tests.faults.conftest import (
    REDIS_PORT,
    REDIS_URL,
    ROOT,
    RedisServer,
    later_scan,
    wait_until,
    worker_env,
)
from tests.notifications.smtp_server import free_port

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
CACHE_PORT = REDIS_PORT + 1
CACHE_URL = f"redis://127.0.0.1:{CACHE_PORT}/0"


class WebServer:
    """`gunicorn config.wsgi` with one sync worker, as the Procfile runs it."""

    def __init__(self, env, log):
        self.port = free_port()
        self.env = {**env, "DJANGO_DEBUG": "true", "DJANGO_ALLOWED_HOSTS": "127.0.0.1"}
        self.log = log
        self.proc = None
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def start(self):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", "1",
             "--bind", f"127.0.0.1:{self.port}", "--timeout", "60"],
            cwd=ROOT,
            env=self.env,
            stdout=open(self.log, "ab"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_until(self._answers, timeout=60, message="gunicorn did not answer")
        return self

    def _answers(self):
        assert self.proc.poll() is None, self.log.read_text()[-3000:]
        try:
            urllib.request.urlopen(self.url("/healthz"), timeout=5)
        except urllib.error.HTTPError:
            return True  # 503 with a backend down is an answer too
        except OSError:
            return False
        return True

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def get(self, path):
        """(status, body) without cookies: what an anonymous visitor gets."""
        return self._open(urllib.request.Request(self.url(path)), urllib.request.urlopen)

    def register(self, slug, email):
        """GET the form (CSRF cookie and token), POST it; (status, final URL, body)."""
        path = f"/en/events/{slug}/register/"
        status, body = self._open(urllib.request.Request(self.url(path)), self.opener.open)
        assert status == 200, body[-2000:]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
        form = {
            "csrfmiddlewaretoken": token,
            "name": "Amina Diallo",
            "email": email,
            "affiliation": "cso_ngo",
            "preferred_language": "en",
            "interpretation_language": "en",
            "timezone": "Africa/Dakar",
            "consent": "on",
            "website": "",
        }
        request = urllib.request.Request(
            self.url(path),
            data=urllib.parse.urlencode(form).encode(),
            headers={"Referer": self.url(path)},
        )
        response = None

        def open_(req, timeout):
            nonlocal response
            response = self.opener.open(req, timeout=timeout)
            return response

        status, body = self._open(request, open_)
        return status, response.url if response else "", body

    @staticmethod
    def _open(request, opener):
        try:
            with opener(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def start_web(tmp_path):
    started = []

    def start(env):
        server = WebServer(env, tmp_path / f"web-{len(started)}.log")
        started.append(server)
        return server.start()

    try:
        yield start
    finally:
        for server in started:
            server.stop()


@pytest.fixture
def open_event(transactional_db):
    """A published event a week ahead, open for registration (committed: gunicorn reads it)."""
    starts_at = timezone.now() + timedelta(days=7)
    return Event.objects.create(
        slug="outage-drill",
        title="Outage drill side event",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=90),
        timezone="America/New_York",
        status=Event.Status.PUBLISHED,
        interpretation_languages=["en"],
        meeting_url="https://meet.example.org/j/outage",
    )


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
    page = f"/en/events/{open_event.slug}/"
    for _ in range(2):  # the second visit is served from the cache
        status, body = web.get(page)
        assert status == 200
    redis_server.kill()

    for _ in range(3):
        status, body = web.get(page)
        assert status == 200, body[-2000:]
        assert "Outage drill side event" in body
    status, url, body = web.register(open_event.slug, "amina@example.org")
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
        redis_server.kill()

        status, url, body = web.register(open_event.slug, "amina@example.org")
        assert status == 200, body[-2000:]
        assert url.endswith("/register/check-email/")
        assert_stored_once_and_pending(open_event, "amina@example.org")
        assert "Broker unavailable" in web.log.read_text()
        status, body = web.get(f"/en/events/{open_event.slug}/")
        assert status == 200

        redis_server.start()
        assert_sent_later(start_worker, smtp, "amina@example.org", env)
    finally:
        cache.stop()
