"""The day-before fan-out end to end: a real `celery -A config worker` process, Redis,
PostgreSQL and an SMTP server on 127.0.0.1 (aiosmtpd). The worker is killed with SIGKILL
midway, and the SMTP server is down for a while: every confirmed registrant still ends up
with the meeting link, and nobody gets it twice beyond the sends in flight at the kill.

The worker is a separate process, so the data it reads must be committed (transactional_db)
and the tasks must really go through the broker (eager mode is switched off here).
"""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from config.celery import app as celery_app
from events.models import Event
from notifications import services
from notifications.models import Delivery
from registration.models import Registration
from tests.notifications.smtp_server import SMTPServer, free_port

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
BASE_DIR = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 5
# Small batches, so the kill finds several tasks done, some in flight and more queued.
BATCH_SIZE = 10


@pytest.fixture(autouse=True)
def real_services(settings):
    if connection.vendor != "postgresql" or not settings.CELERY_BROKER_URL.startswith("redis"):
        pytest.skip(
            "needs PostgreSQL and Redis: set DATABASE_URL=postgres://... and "
            "CELERY_BROKER_URL=redis://... (CI does)"
        )
    # Nothing left over from an earlier run may reach this run's worker.
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    celery_app.conf.task_always_eager = False
    settings.NOTIFICATIONS_BATCH_SIZE = BATCH_SIZE  # the scan runs in this process
    yield
    celery_app.conf.task_always_eager = True


class Worker:
    """`celery -A config worker` in its own process group, reading the test database."""

    def __init__(self, tmp_path, smtp_port):
        db = connection.settings_dict
        user = f"{db['USER']}:{db['PASSWORD']}@" if db["PASSWORD"] else f"{db['USER']}@"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": f"postgres://{user}{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "CONVENE_VAR_DIR": str(tmp_path / "var"),
            "NOTIFICATIONS_LEASE_SECONDS": str(LEASE_SECONDS),
            "NOTIFICATIONS_RETRY_BASE_SECONDS": "1",
            "NOTIFICATIONS_BATCH_SIZE": str(BATCH_SIZE),
            "LOG_LEVEL": "WARNING",
        }
        self.log = tmp_path / "worker.log"
        self.process = None

    def start(self):
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker",
            "--concurrency", "2", "--loglevel", "WARNING",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                command,
                cwd=BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self):
        """SIGKILL the worker and its pool processes at once: nothing gets to clean up."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def output(self):
        return self.log.read_text()[-3000:] if self.log.exists() else ""


@pytest.fixture
def worker_factory(tmp_path):
    workers = []

    def make(smtp_port):
        worker = Worker(tmp_path, smtp_port)
        workers.append(worker)
        return worker

    yield make
    for worker in workers:
        worker.kill()


def confirmed_crowd(count):
    """A published event past its meeting-link send time with `count` confirmed registrants,
    plus some who must not get the link."""
    now = timezone.now()
    event = Event.objects.create(
        slug="csos-in-prisons",
        title="Engagement of CSOs in the management of VEPs in prisons",
        starts_at=now + timedelta(hours=23),
        ends_at=now + timedelta(hours=24, minutes=30),
        timezone="America/New_York",
        status=Event.Status.PUBLISHED,
        meeting_url="https://meet.example.org/j/8675309",
    )
    statuses = [Registration.Status.CONFIRMED] * count + [
        Registration.Status.WAITLISTED,
        Registration.Status.PENDING_APPROVAL,
        Registration.Status.CANCELLED,
    ]
    Registration.objects.bulk_create(
        Registration(
            event=event,
            email=f"person{number}@example.org",
            name=f"Person {number}",
            consent_at=now,
            status=status,
        )
        for number, status in enumerate(statuses)
    )
    return event, {f"person{number}@example.org" for number in range(count)}


def wait_until(condition, *, timeout, worker, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}; worker log:\n{worker.output()}")


def links_received(smtp):
    return Counter(
        str(message["To"])
        for message in list(smtp.recorder.messages)
        if str(message["Subject"]).strip().startswith("Your meeting link")
    )


def all_sent(event):
    return not Delivery.objects.filter(event=event).exclude(status="sent").exists()


def scan_for_lost_work():
    # The scan runs every minute under beat; calling it with a clock two minutes ahead makes
    # it treat what is pending now as lost, as it would be by then. The worker's own clock
    # still decides whether a lease has run out.
    services.scan(now=timezone.now() + timedelta(minutes=2))


def test_killed_worker_loses_no_meeting_link_and_repeats_only_what_was_in_flight(
    worker_factory,
):
    count = 150
    event, expected = confirmed_crowd(count)
    smtp = SMTPServer().start()
    smtp.recorder.delay = 0.01  # a provider that takes a moment per message
    try:
        worker = worker_factory(smtp.port)
        worker.start()
        services.scan(now=timezone.now())
        assert Delivery.objects.filter(event=event).count() == count
        wait_until(
            lambda: sum(links_received(smtp).values()) >= count // 3,
            timeout=60,
            worker=worker,
            what="the first third of the links",
        )
        worker.kill()
        in_flight = Delivery.objects.filter(event=event, status="sending").count()
        received_at_kill = sum(links_received(smtp).values())
        assert received_at_kill < count, "the kill came too late to prove anything"

        worker = worker_factory(smtp.port)
        worker.start()
        time.sleep(LEASE_SECONDS + 1)
        scan_for_lost_work()
        wait_until(lambda: all_sent(event), timeout=60, worker=worker, what="every link sent")
        time.sleep(0.5)
        received = links_received(smtp)
    finally:
        smtp.stop()
    assert set(received) == expected
    duplicates = sum(received.values()) - count
    print(f"killed with {in_flight} in flight after {received_at_kill} sent; {duplicates} twice")
    assert duplicates <= in_flight
    assert Delivery.objects.filter(event=event, kind="meeting_link").count() == count


def test_smtp_server_down_for_a_while_then_everything_delivered_exactly_once(worker_factory):
    count = 50
    event, expected = confirmed_crowd(count)
    port = free_port()
    worker = worker_factory(port)
    worker.start()
    services.scan(now=timezone.now())
    wait_until(
        lambda: Delivery.objects.filter(event=event, attempts__gte=2).count() == count,
        timeout=60,
        worker=worker,
        what="every message to be tried twice against the closed port",
    )
    assert not Delivery.objects.filter(event=event, status="sent").exists()
    smtp = SMTPServer(port=port).start()
    try:
        deadline = time.monotonic() + 60
        while not all_sent(event) and time.monotonic() < deadline:
            scan_for_lost_work()
            time.sleep(1)
        assert all_sent(event), worker.output()
        time.sleep(0.5)
        received = links_received(smtp)
    finally:
        smtp.stop()
    assert received == Counter(dict.fromkeys(expected, 1))
