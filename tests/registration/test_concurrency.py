"""Races on real PostgreSQL: threads, each with its own database connection."""

import threading

import pytest
from django.db import connection, connections

from events.models import AccessCode, Event
from registration.models import Registration
from tests.conftest import BrowserClient as Client
from tests.registration.conftest import form_post

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("races need real PostgreSQL row locks (SQLite serialises every write)")


# PostgreSQL allows 100 connections (3 kept for superusers) on this machine, so the 100 racing
# requests run on this many threads, each with its own connection, released together.
THREADS = 40


def run_at_once(count, work):
    """Runs work(0..count-1) on up to THREADS threads released together; returns the
    results (or the exceptions) in order."""
    threads_used = min(count, THREADS)
    barrier = threading.Barrier(threads_used)
    results = [None] * count

    def run(first):
        try:
            barrier.wait()
            for i in range(first, count, threads_used):
                try:
                    results[i] = work(i)
                except Exception as error:  # reported by the caller's assertions
                    results[i] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(t,)) for t in range(threads_used)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def post_form(event, data):
    client = Client(REMOTE_ADDR="203.0.113.9")
    return client.post(f"/en/events/{event.slug}/register/", data).status_code


def test_100_concurrent_registrations_for_10_seats(make_event, settings):
    settings.REGISTRATION_RATE_LIMIT = 1000
    event = make_event(capacity=10, waitlist_enabled=True)

    statuses = run_at_once(100, lambda i: post_form(event, form_post(i)))

    assert statuses == [302] * 100
    registrations = Registration.objects.filter(event=event)
    assert registrations.filter(status=Registration.Status.CONFIRMED).count() == 10
    assert registrations.filter(status=Registration.Status.WAITLISTED).count() == 90


def test_20_concurrent_registrations_with_one_email(make_event, settings):
    settings.REGISTRATION_RATE_LIMIT = 1000
    event = make_event()

    statuses = run_at_once(
        20, lambda i: post_form(event, form_post(i, email=" Same.Person@Example.org "))
    )

    assert statuses == [302] * 20
    assert Registration.objects.filter(event=event).count() == 1
    assert Registration.objects.get().email == "same.person@example.org"


def test_concurrent_cancellations_promote_each_waiting_person_once(make_event):
    from registration import services
    from tests.registration.conftest import person

    event = make_event(capacity=5)
    results = [services.register(event=event, data=person(i)) for i in range(10)]
    seated = [result.registration for result in results[:5]]

    run_at_once(5, lambda i: services.cancel(registration=seated[i]))

    registrations = Registration.objects.filter(event=event)
    assert registrations.filter(status=Registration.Status.CONFIRMED).count() == 5
    assert registrations.filter(status=Registration.Status.WAITLISTED).count() == 0
    assert set(
        registrations.filter(status=Registration.Status.CONFIRMED).values_list("email", flat=True)
    ) == {f"amina.{i}@example.org" for i in range(5, 10)}


def test_100_concurrent_registrations_with_one_code_of_10_uses(make_event, settings):
    settings.REGISTRATION_RATE_LIMIT = 1000
    event = make_event(registration_mode=Event.RegistrationMode.CODE)
    AccessCode.objects.create(event=event, code="TEN-SEATS", max_uses=10)

    def post(i):
        client = Client(REMOTE_ADDR=f"203.0.113.{i}")
        data = form_post(i, access_code="TEN-SEATS")
        return client.post(f"/en/events/{event.slug}/register/", data).status_code

    statuses = run_at_once(100, post)

    assert sorted(statuses) == [200] * 90 + [302] * 10
    assert Registration.objects.filter(event=event).count() == 10
    assert AccessCode.objects.get(event=event).uses == 10
