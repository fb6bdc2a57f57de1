"""Confirmations waiting for their own tasks go out with the first task that runs (a flash
crowd registers faster than a worker sends one task at a time), each exactly once."""

from datetime import timedelta

import pytest
from django.core import mail

from notifications import services
from notifications.models import Delivery
from notifications.services import queueing
from tests.notifications.conftest import STARTS, register

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def held_tasks(monkeypatch):
    """The send tasks the sign-ups enqueue, held back instead of run: a queue forms. (Tests
    run tasks eagerly, so each sign-up enqueues its own task: no window.)"""
    held = []
    monkeypatch.setattr(queueing, "enqueue", lambda ids: held.append(list(ids)))
    return held


@pytest.fixture
def broker_tasks(monkeypatch, request):
    """As in production: tasks go to the broker (recorded here, not run), so sign-ups share
    the window's task."""
    from config.celery import app as celery_app

    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    request.addfinalizer(lambda: setattr(celery_app.conf, "task_always_eager", eager))
    scheduled = []
    monkeypatch.setattr(
        queueing,
        "enqueue_logged",
        lambda task, ids, **options: scheduled.append((list(ids), options)),
    )
    return scheduled


def test_a_crowds_sign_ups_share_one_task_per_window(event, travel, broker_tasks):
    from django.core.cache import cache

    travel(STARTS - timedelta(days=3))
    for n in range(5):
        register(event, f"person{n}@example.org")
    first = Delivery.objects.order_by("pk").first()
    # One task, for the first sign-up, due at the end of its window; the claim of that
    # task takes the other four along (the test above).
    assert broker_tasks == [([first.pk], {"countdown": 1.5})]

    cache.delete(queueing.SIGN_UP_TASK_KEY)  # the window is over
    register(event, "late@example.org")
    assert len(broker_tasks) == 2
    assert broker_tasks[1][0] == [Delivery.objects.order_by("pk").last().pk]


def test_without_a_window_each_sign_up_has_its_own_task(
    event, travel, broker_tasks, settings, monkeypatch
):
    settings.NOTIFICATIONS_SIGN_UP_WINDOW_SECONDS = 0
    own_tasks = []
    monkeypatch.setattr(queueing, "enqueue", lambda ids: own_tasks.append(list(ids)))
    travel(STARTS - timedelta(days=3))
    for n in range(3):
        register(event, f"person{n}@example.org")
    assert len(own_tasks) == 3 and broker_tasks == []


def test_waiting_confirmations_go_out_with_the_first_task_each_once(event, travel, held_tasks):
    travel(STARTS - timedelta(days=3))
    people = [f"person{n}@example.org" for n in range(5)]
    for email in people:
        register(event, email)
    assert len(held_tasks) == 5 and not mail.outbox

    services.send_deliveries(ids=held_tasks[0])
    assert sorted(message.to[0] for message in mail.outbox) == sorted(people)
    assert all("Registration confirmed" in message.subject for message in mail.outbox)
    for ids in held_tasks[1:]:  # their tasks run later and find nothing left to send
        services.send_deliveries(ids=ids)
    assert len(mail.outbox) == 5
    rows = Delivery.objects.filter(kind=Delivery.Kind.CONFIRMATION)
    assert sorted(rows.values_list("status", "attempts")) == [("sent", 1)] * 5


def test_a_full_batch_takes_no_waiting_confirmation_along(event, travel, held_tasks, settings):
    settings.NOTIFICATIONS_BATCH_SIZE = 2
    travel(STARTS - timedelta(days=3))
    for n in range(4):
        register(event, f"person{n}@example.org")
    services.send_deliveries(ids=held_tasks[0] + held_tasks[1])
    assert sorted(message.to[0] for message in mail.outbox) == [
        "person0@example.org",
        "person1@example.org",
    ]
    assert Delivery.objects.filter(status=Delivery.Status.PENDING).count() == 2
