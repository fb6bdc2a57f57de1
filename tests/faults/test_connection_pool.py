"""A crowd on real PostgreSQL: each process holds at most DATABASE_POOL_SIZE connections
(Django's psycopg pool), however many threads serve requests; a request that cannot get one
within DATABASE_POOL_TIMEOUT gets the 503 page, never a 500.

Threads stand in for a threaded server (`make run`'s dev server, gunicorn's gthread): each
has its own Django connection, all drawn from the one pool of the process.
"""

import json
import os
import subprocess
import sys
import threading
from datetime import timedelta

import psycopg
import pytest
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from events.models import Event
from registration.models import Registration
from tests.registration.conftest import form_post

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
CROWD = 30
DEFAULT_POOL_SIZE = 4  # DATABASE_POOL_SIZE's default (README)


@pytest.fixture
def pool():
    """The pool config.settings configures (DATABASE_POOL_SIZE), optionally rebuilt smaller."""
    configured = connection.settings_dict["OPTIONS"].get("pool", {})

    yield configured
    connection.close()
    connection.close_pool()
    if configured:
        connection.settings_dict["OPTIONS"]["pool"] = configured
    else:
        connection.settings_dict["OPTIONS"].pop("pool", None)


@pytest.fixture
def small_pool(pool):
    def rebuild(**options):
        connection.close()
        connection.close_pool()
        connection.settings_dict["OPTIONS"]["pool"] = {**pool, **options}

    return rebuild


@pytest.fixture
def open_event(transactional_db):
    starts_at = timezone.now() + timedelta(days=7)
    return Event.objects.create(
        slug="crowded-side-event",
        title="Crowded side event",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=90),
        timezone="America/New_York",
        status=Event.Status.PUBLISHED,
        interpretation_languages=["ar", "zh-hans", "en", "fr", "ru", "es"],
        meeting_url="https://meet.example.org/j/crowd",
    )


class ConnectionCounter(threading.Thread):
    """Samples, on a connection of its own, how many backends serve the test database."""

    def __init__(self):
        super().__init__(daemon=True)
        db = connection.settings_dict
        self.conninfo = psycopg.conninfo.make_conninfo(
            dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"] or None,
            host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432,
        )  # fmt: skip
        self.most = 0
        self.done = threading.Event()

    @staticmethod
    def count(conn):
        (count,) = conn.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
        return count

    def now(self):
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            return self.count(conn)

    def run(self):
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            while True:
                self.most = max(self.most, self.count(conn))
                if self.done.wait(0.005):
                    return


def crowd(work, count):
    """Runs work(i) for i in 0..count-1 on `count` threads released together."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as error:
            results[i] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_a_crowd_never_holds_more_connections_than_the_pool(open_event, pool):
    limit = pool.get("max_size", DEFAULT_POOL_SIZE)
    assert 5 * limit < CROWD
    # What else is connected to the test database (earlier tests' leftovers) is not ours.
    connection.close()
    connection.close_pool()
    counter = ConnectionCounter()
    others = counter.now()
    counter.start()

    def visit_and_register(i):
        client = Client(REMOTE_ADDR=f"203.0.113.{i + 1}", raise_request_exception=False)
        page = client.get(f"/en/events/{open_event.slug}/").status_code
        form = client.post(f"/en/events/{open_event.slug}/register/", form_post(i))
        return page, form.status_code

    try:
        results = crowd(visit_and_register, CROWD)
    finally:
        counter.done.set()
        counter.join()
    assert results == [(200, 302)] * CROWD
    assert Registration.objects.filter(event=open_event).count() == CROWD
    assert counter.most - others <= limit


def test_no_connection_within_the_pool_timeout_gives_the_503_page(open_event, small_pool):
    small_pool(min_size=1, max_size=1, timeout=1)
    # This thread takes the pool's only connection and keeps it.
    assert Event.objects.filter(pk=open_event.pk).exists()

    def visit(i):
        client = Client(raise_request_exception=False)
        return client.get(f"/en/events/{open_event.slug}/")

    [response] = crowd(visit, 1)
    assert response.status_code == 503
    assert response["Retry-After"]
    assert "Temporarily unavailable" in response.content.decode()


def settings_of(**env):
    """config.settings' database entry as a new process builds it from `env`."""
    probe = (
        "import json, django; django.setup(); from django.conf import settings; "
        "db = settings.DATABASES['default']; "
        "print(json.dumps({'pool': db['OPTIONS'].get('pool'), 'age': db['CONN_MAX_AGE']}))"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "DJANGO_"))}
    base.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL="postgres://convene@127.0.0.1:5432/convene",
        **env,
    )
    return subprocess.run(
        [sys.executable, "-c", probe], env=base, capture_output=True, text=True, timeout=60
    )


def test_pool_size_and_timeout_come_from_the_environment():
    result = settings_of(DATABASE_POOL_SIZE="7", DATABASE_POOL_TIMEOUT="3")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "pool": {"min_size": 1, "max_size": 7, "timeout": 3},
        "age": 0,
    }
    # Without the pool: persistent connections, as DATABASE_CONN_MAX_AGE says.
    result = settings_of(DATABASE_POOL_SIZE="0", DATABASE_CONN_MAX_AGE="60")
    assert json.loads(result.stdout) == {"pool": None, "age": 60}


def test_persistent_connections_and_the_pool_exclude_each_other():
    result = settings_of(DATABASE_CONN_MAX_AGE="600")
    assert result.returncode != 0
    assert "DATABASE_CONN_MAX_AGE applies only without the connection pool" in result.stderr
