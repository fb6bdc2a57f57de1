"""Fault tests: real PostgreSQL, a real Celery worker in its own process, a Redis server of
our own (port 6390, so the shared one on 6379 is never touched) and a real SMTP server.

Each scenario breaks one thing mid-way, repairs it, and asserts the final counts: every
confirmed registrant got the meeting link, nobody got it twice beyond the in-flight bound.
"""

import http.cookiejar
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

ROOT = Path(__file__).resolve().parents[2]
REDIS_PORT = int(os.environ.get("FAULTS_REDIS_PORT", "6390"))
REDIS_URL = f"redis://127.0.0.1:{REDIS_PORT}/0"


@pytest.fixture(autouse=True)
def _needs_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("fault tests need real PostgreSQL (set DATABASE_URL; .ci/run does)")


class RedisServer:
    """A redis-server process of our own, without persistence: a restart loses everything
    queued, as a crashed broker would."""

    def __init__(self, port):
        self.port = port
        self.dir = tempfile.mkdtemp(prefix="convene-faults-redis-")
        self.proc = None

    def start(self):
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed")
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                client.ping()
                return self
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not start")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def redis_server():
    server = RedisServer(REDIS_PORT).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp():
    from tests.notifications.smtp_server import SMTPServer

    server = SMTPServer().start()
    try:
        yield server
    finally:
        server.stop()


def worker_env(smtp_url, **extra):
    db = settings.DATABASES["default"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        f"/{db['NAME']}",
        CELERY_BROKER_URL=REDIS_URL,
        REDIS_URL=REDIS_URL,
        EMAIL_URL=smtp_url,
        SITE_URL="https://events.example.org",
        LOG_LEVEL="WARNING",
        NOTIFICATIONS_RETRY_BASE_SECONDS="1",
        **extra,
    )
    return env


class Worker:
    """`celery -A config worker` with a prefork pool of 2, in its own process group."""

    CONCURRENCY = 2

    def __init__(self, env, log):
        self.env = env
        self.log = log
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool",
                "prefork",
                "--concurrency",
                str(self.CONCURRENCY),
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--hostname",
                f"faults-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=open(self.log, "ab"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, Path(self.log).read_text()[-3000:]
            # Celery logs "<hostname> ready." once it consumes (remote-control pings proved
            # unreliable across processes here).
            if " ready." in Path(self.log).read_text():
                return self
            time.sleep(0.1)
        raise RuntimeError("the worker did not become ready within 60s")

    def sigkill(self):
        """The machine dies: the worker and its pool, no chance to finish or acknowledge."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def send_task(name, args=None):
    """Puts a task on OUR broker. (Celery prefers a CELERY_BROKER_URL in the environment over
    the app's own setting, and the test run has one, so the connection is explicit.)"""
    from celery import Celery

    app = Celery("faults", set_as_current=False)
    with app.connection_for_write(REDIS_URL) as connection:
        app.send_task(name, args=args, connection=connection)


@pytest.fixture
def start_worker(tmp_path):
    started = []

    def start(env):
        worker = Worker(env, tmp_path / f"worker-{len(started)}.log")
        started.append(worker)  # before start(): a worker that never answers is stopped too
        return worker.start()

    try:
        yield start
    finally:
        for worker in started:
            worker.stop()


def send_scan():
    """What beat sends every minute."""
    send_task("notifications.tasks.scan")


def later_scan(minutes=2):
    """The scan as beat would run it a few minutes from now (lost and stuck rows are then
    old enough to re-enqueue), its sends put on the real broker for the worker."""
    from notifications import services
    from notifications.services import queueing

    original = queueing.enqueue

    def enqueue(ids):
        ids, size = list(ids), services.batch_size()
        for start in range(0, len(ids), size):
            send_task(
                "notifications.tasks.send_deliveries",
                args=[ids[start : start + size]],
            )

    queueing.enqueue = enqueue
    try:
        return services.scan(now=timezone.now() + timedelta(minutes=minutes))
    finally:
        queueing.enqueue = original


def wait_until(condition, *, timeout, message):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"{message} (after {timeout}s)")


@pytest.fixture
def due_event(transactional_db):
    """A published event whose meeting-link send time has passed, with 300 confirmed
    registrants, committed (the worker reads it from its own connection)."""
    from events.models import Event
    from registration.models import Registration

    now = timezone.now()
    event = Event.objects.create(
        slug="faults-event",
        title="Fault drill",
        starts_at=now + timedelta(hours=20),
        ends_at=now + timedelta(hours=21),
        status=Event.Status.PUBLISHED,
        meeting_url="https://meet.example.org/j/faults",
        meeting_link_send_at=now - timedelta(minutes=1),
        interpretation_languages=["en"],
    )
    Registration.objects.bulk_create(
        Registration(
            event=event,
            email=f"person{n}@example.org",
            name=f"Person {n}",
            consent_at=now,
            confirmed_at=now,
            status=Registration.Status.CONFIRMED,
        )
        for n in range(300)
    )
    return event


class WebServer:
    """`gunicorn config.wsgi`, one worker (sync, or gthread with `threads`), debug on (no
    collected static files needed)."""

    def __init__(self, env, log, *, threads=1):
        from tests.notifications.smtp_server import free_port

        self.port = free_port()
        self.env = {**env, "DJANGO_DEBUG": "true", "DJANGO_ALLOWED_HOSTS": "127.0.0.1"}
        self.threads = threads
        self.log = log
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", "1",
             "--threads", str(self.threads), "--bind", f"127.0.0.1:{self.port}",
             "--timeout", "60"],
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

    def browser(self):
        return Browser(self)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Browser:
    """One visitor: its own cookies (CSRF), following redirects."""

    def __init__(self, server):
        self.server = server
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def _open(self, request):
        """(status, final URL, body)."""
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.url, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.url, error.read().decode(errors="replace")

    def get(self, path):
        """(status, body)."""
        status, _url, body = self._open(urllib.request.Request(self.server.url(path)))
        return status, body

    def register(self, slug, email):
        """GET the form (CSRF cookie and token), POST it: (status, final URL, body)."""
        path = f"/en/events/{slug}/register/"
        status, body = self.get(path)
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
        return self._open(
            urllib.request.Request(
                self.server.url(path),
                data=urllib.parse.urlencode(form).encode(),
                headers={"Referer": self.server.url(path)},
            )
        )


@pytest.fixture
def start_web(tmp_path):
    started = []

    def start(env, **options):
        server = WebServer(env, tmp_path / f"web-{len(started)}.log", **options)
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
    from events.models import Event

    starts_at = timezone.now() + timedelta(days=7)
    return Event.objects.create(
        slug="outage-drill",
        title="Outage drill side event",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=90),
        timezone="America/New_York",
        status=Event.Status.PUBLISHED,
        interpretation_languages=["ar", "zh-hans", "en", "fr", "ru", "es"],
        meeting_url="https://meet.example.org/j/outage",
    )
