"""A crowd on real PostgreSQL: each process holds at most DATABASE_POOL_SIZE connections
(Django's psycopg pool), however many threads serve requests; a request that cannot get one
within DATABASE_POOL_TIMEOUT gets the 503 page, never a 500.

The crowd runs against a real gunicorn with a thread per request; the pool timeout is
provoked in this process, whose pool the test rebuilds with one connection.
"""

import json
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from django.db import connection, connections
from django.test import Client

from events.models import Event
from registration.models import Registration
from tests.faults.conftest import worker_env

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
CROWD = 30
POOL_SIZE = 3


@pytest.fixture
def small_pool():
    """The process's pool rebuilt with other options: small_pool(max_size=1, ...)."""
    saved = dict(connection.settings_dict["OPTIONS"])

    def rebuild(**options):
        connection.close()
        connection.close_pool()
        connection.settings_dict["OPTIONS"]["pool"] = {"min_size": 1, **options}

    yield rebuild
    connection.close()
    connection.close_pool()
    connection.settings_dict["OPTIONS"].clear()
    connection.settings_dict["OPTIONS"].update(saved)


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


def test_a_crowd_on_a_threaded_server_holds_at_most_the_pool(open_event, redis_server, start_web):
    """30 visitors at once on gunicorn with 30 threads (like `make run`'s dev server, a
    thread per request): each views the page and registers; PostgreSQL sees at most
    DATABASE_POOL_SIZE connections from the server, and nobody gets an error."""
    env = worker_env(
        "locmem:", DATABASE_POOL_SIZE=str(POOL_SIZE), DATABASE_POOL_TIMEOUT="60",
        REGISTRATION_RATE_LIMIT="1000",
    )  # fmt: skip
    web = start_web(env, threads=CROWD)
    counter = ConnectionCounter()
    others = counter.now()  # whatever else is connected to the test database
    counter.start()
    barrier = threading.Barrier(CROWD)

    def visit_and_register(i):
        browser = web.browser()
        barrier.wait()
        page, _body = browser.get(f"/en/events/{open_event.slug}/")
        status, url, _body = browser.register(open_event.slug, f"person{i}@example.org")
        return page, status, url.endswith("/register/check-email/")

    try:
        with ThreadPoolExecutor(CROWD) as executor:
            results = list(executor.map(visit_and_register, range(CROWD)))
    finally:
        counter.done.set()
        counter.join()
    assert results == [(200, 200, True)] * CROWD
    assert Registration.objects.filter(event=open_event).count() == CROWD
    assert counter.most - others <= POOL_SIZE


def test_no_connection_within_the_pool_timeout_gives_the_503_page(open_event, small_pool):
    small_pool(max_size=1, timeout=1)
    # This thread takes the pool's only connection and keeps it.
    assert Event.objects.filter(pk=open_event.pk).exists()

    def visit(i):
        try:
            return Client(raise_request_exception=False).get(f"/en/events/{open_event.slug}/")
        finally:
            connections.close_all()

    with ThreadPoolExecutor(1) as executor:
        response = executor.submit(visit, 0).result()
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
