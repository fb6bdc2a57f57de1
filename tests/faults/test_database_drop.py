"""The database connection drops in the middle of a request: the visitor gets a plain 503
page asking them to try again, and nothing of the half-done registration is stored."""

from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from events.models import Event
from notifications.models import Delivery
from registration.models import ManageToken, Registration
from tests.conftest import BrowserClient as Client

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def terminate_our_connection():
    """pg_terminate_backend on this process's connection, from a second connection: what a
    database restart or a network cut does to a request in flight."""
    pid = connection.connection.info.backend_pid
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        dbname=db["NAME"],
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.fixture
def event():
    starts = timezone.now() + timedelta(days=3)
    return Event.objects.create(
        slug="drop-event",
        title="Drop drill",
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        status=Event.Status.PUBLISHED,
        interpretation_languages=["en"],
    )


def form(email):
    return {
        "name": "Amina Diallo",
        "email": email,
        "affiliation": "cso_ngo",
        "preferred_language": "en",
        "interpretation_language": "en",
        "consent": "on",
    }


def test_connection_lost_after_the_insert_gives_503_and_stores_nothing(event):
    dropped = []

    def drop_before_the_outbox_row(execute, sql, params, many, context):
        # Inside register()'s transaction: the registration and its manage token are
        # already inserted, the confirmation row is next.
        if not dropped and sql.startswith(f'INSERT INTO "{Delivery._meta.db_table}"'):
            dropped.append(sql)
            terminate_our_connection()
        return execute(sql, params, many, context)

    client = Client(raise_request_exception=False)
    with connection.execute_wrapper(drop_before_the_outbox_row):
        response = client.post(f"/en/events/{event.slug}/register/", form("amina@example.org"))

    assert dropped
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    page = response.content.decode()
    assert "Temporarily unavailable" in page
    assert "nothing you sent was saved" in page
    assert "Traceback" not in page

    connection.close()  # the dropped connection; the next query opens a fresh one
    assert Registration.objects.count() == 0
    assert ManageToken.objects.count() == 0
    assert Delivery.objects.count() == 0

    # The database is back: the same submission now goes through, once.
    response = client.post(f"/en/events/{event.slug}/register/", form("amina@example.org"))
    assert response.status_code == 302
    assert Registration.objects.filter(email="amina@example.org").count() == 1
    assert Delivery.objects.filter(kind=Delivery.Kind.CONFIRMATION).count() == 1


def test_connection_lost_before_a_page_is_read_gives_503(event, settings):
    settings.EVENT_PAGE_CACHE_SECONDS = 0
    client = Client(raise_request_exception=False)
    assert client.get(f"/en/events/{event.slug}/").status_code == 200
    terminate_our_connection()

    response = client.get(f"/en/events/{event.slug}/register/")
    assert response.status_code == 503
    assert "Temporarily unavailable" in response.content.decode()
    connection.close()
    assert client.get(f"/en/events/{event.slug}/register/").status_code == 200


def test_other_errors_are_still_a_plain_500(event, monkeypatch):
    from registration import views

    def broken(*args, **kwargs):
        raise ValueError("a bug, not an outage")

    monkeypatch.setattr(views, "render", broken)
    response = Client(raise_request_exception=False).get(f"/en/events/{event.slug}/register/")
    assert response.status_code == 500
