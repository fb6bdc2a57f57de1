"""The one rule for "can this person register, and how many seats are left"
(registration/availability.py): each state, the seats left, and that the public event page
(its cached snapshot, through the events.cache hook) and the sign-up POST give the same answer.
"""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from events import cache as event_cache
from events.models import Event
from registration import services
from registration.availability import (
    Availability,
    State,
    availability,
    event_availability,
    place_for,
    snapshot_availability,
)
from registration.models import Registration
from tests.registration.conftest import form_post, person

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
Status = Registration.Status


def decide(**overrides):
    facts = {
        "status": Event.Status.PUBLISHED,
        "capacity": 10,
        "waitlist": False,
        "opens_at": None,
        "closes_at": NOW + timedelta(days=1),
        "seats_taken": lambda: 3,
        "now": NOW,
    }
    return availability(**{**facts, **overrides})


def never_counted():
    raise AssertionError("seats were counted where the answer does not depend on them")


@pytest.mark.parametrize(
    ("facts", "state", "seats_left"),
    [
        ({}, State.OPEN, 7),
        ({"capacity": None, "seats_taken": never_counted}, State.OPEN, None),
        ({"seats_taken": lambda: 10}, State.FULL, 0),
        # The capacity was lowered below the seats already taken: full, never negative.
        ({"capacity": 2, "seats_taken": lambda: 5}, State.FULL, 0),
        ({"opens_at": NOW + timedelta(hours=1)}, State.NOT_YET_OPEN, None),
        ({"opens_at": NOW}, State.OPEN, 7),
        ({"closes_at": NOW}, State.CLOSED, None),
        ({"status": Event.Status.CANCELLED}, State.CANCELLED, None),
        ({"status": Event.Status.DRAFT}, State.NOT_PUBLISHED, None),
        # Cancelled outranks every date.
        (
            {"status": Event.Status.CANCELLED, "opens_at": NOW + timedelta(hours=1)},
            State.CANCELLED,
            None,
        ),
    ],
)
def test_each_state_and_its_seats_left(facts, state, seats_left):
    found = decide(**facts)

    assert (found.state, found.seats_left) == (state, seats_left)


@pytest.mark.parametrize(
    "facts",
    [
        {"status": Event.Status.CANCELLED},
        {"status": Event.Status.DRAFT},
        {"opens_at": NOW + timedelta(hours=1)},
        {"closes_at": NOW - timedelta(hours=1)},
    ],
)
def test_an_event_outside_its_registration_window_costs_no_count(facts):
    assert not decide(**facts, seats_taken=never_counted).accepts_newcomers


def test_only_not_yet_open_says_when_registration_opens():
    opens_at = NOW + timedelta(hours=1)

    assert decide(opens_at=opens_at).opens_at == opens_at
    assert decide(opens_at=NOW - timedelta(hours=1)).opens_at is None


@pytest.mark.parametrize(
    ("facts", "accepts"),
    [
        ({}, True),
        ({"seats_taken": lambda: 10}, False),
        ({"seats_taken": lambda: 10, "waitlist": True}, True),  # onto the waiting list
        ({"closes_at": NOW, "waitlist": True}, False),
    ],
)
def test_a_full_event_takes_newcomers_only_onto_its_waiting_list(facts, accepts):
    assert decide(**facts).accepts_newcomers is accepts


@pytest.mark.parametrize(
    ("seats_left", "waitlist", "place"),
    [
        (None, False, Status.CONFIRMED),
        (1, False, Status.CONFIRMED),
        (0, True, Status.WAITLISTED),
        (0, False, None),
    ],
)
def test_a_person_let_in_gets_a_seat_then_the_waiting_list(seats_left, waitlist, place):
    assert place_for(seats_left=seats_left, waitlist=waitlist) == place


def test_a_draft_preview_shows_the_state_it_will_have_once_published(make_event):
    event = make_event(status=Event.Status.DRAFT, capacity=5)
    data = event_cache.snapshot(event.pk)

    assert snapshot_availability(data, now=timezone.now()).state == State.OPEN
    assert event_availability(event).state == State.NOT_PUBLISHED


# --- The event page and the sign-up agree ----------------------------------------------------


def _fill(event, statuses):
    now = timezone.now()
    Registration.objects.bulk_create(
        Registration(
            event=event,
            email=f"seat{n}@example.org",
            name=f"Seat {n}",
            status=status,
            consent_at=now,
        )
        for n, status in enumerate(statuses)
    )


def _page(client, event):
    html = client.get(event.get_absolute_url()).content.decode()
    state = re.search(r'class="registration-status" data-state="([a-z_]+)"', html).group(1)
    seats = re.search(r"(\d+) places? left\.", html)
    return state, None if seats is None else int(seats.group(1))


SCENARIOS = {
    # name: (event fields, registrations already there, page state, page seats, POST outcome)
    "open": ({"capacity": 3}, [Status.CONFIRMED], "open", 2, Status.CONFIRMED),
    "unlimited": ({}, [Status.CONFIRMED], "open", None, Status.CONFIRMED),
    # Only confirmed registrations hold a seat: waiting, pending, rejected and cancelled don't.
    "others hold no seat": (
        {"capacity": 2, "waitlist_enabled": True},
        [Status.WAITLISTED, Status.PENDING_APPROVAL, Status.REJECTED, Status.CANCELLED],
        "open",
        2,
        Status.CONFIRMED,
    ),
    "full": (
        {"capacity": 1, "waitlist_enabled": False},
        [Status.CONFIRMED],
        "full",
        None,
        services.Unavailable.FULL,
    ),
    "full with a waiting list": (
        {"capacity": 1, "waitlist_enabled": True},
        [Status.CONFIRMED],
        "full",
        None,
        Status.WAITLISTED,
    ),
    "full, approval, no list": (
        {"capacity": 1, "approval": Event.Approval.ORGANISER, "waitlist_enabled": False},
        [Status.CONFIRMED],
        "full",
        None,
        services.Unavailable.FULL,
    ),
    "open, approval": (
        {"capacity": 1, "approval": Event.Approval.ORGANISER},
        [],
        "open",
        1,
        Status.PENDING_APPROVAL,
    ),
    "not yet open": (
        {"capacity": 3, "registration_opens_at": timezone.now() + timedelta(days=1)},
        [],
        "not_yet_open",
        None,
        services.Unavailable.NOT_OPEN,
    ),
    "closed": (
        {"capacity": 3, "registration_closes_at": timezone.now() - timedelta(minutes=1)},
        [],
        "closed",
        None,
        services.Unavailable.CLOSED,
    ),
    "cancelled": (
        {"capacity": 3, "status": Event.Status.CANCELLED},
        [],
        "cancelled",
        None,
        services.Unavailable.CANCELLED,
    ),
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_event_page_and_the_sign_up_give_the_same_answer(client, make_event, name):
    fields, statuses, page_state, page_seats, outcome = SCENARIOS[name]
    event = make_event(**fields)
    _fill(event, statuses)

    assert _page(client, event) == (page_state, page_seats)
    # The page's snapshot and the locked read the sign-up makes: one rule, the same answer.
    from_snapshot = event_cache.registration_availability(event_cache.snapshot(event.pk))
    assert isinstance(from_snapshot, Availability)
    assert (from_snapshot.state, from_snapshot.waitlist) == (
        event_availability(event).state,
        event.waitlist_enabled,
    )

    response = client.post(f"/en/events/{event.slug}/register/", form_post(99))
    stored = Registration.objects.filter(event=event, email="amina.99@example.org").first()
    if isinstance(outcome, State):  # refused, with the reason the rule gave
        assert stored is None
        assert str(services.Unavailable.MESSAGES[outcome]) in response.content.decode()
    else:
        assert response.status_code == 302
        assert stored.status == outcome


def test_a_seat_taken_by_the_sign_up_shows_on_the_page_and_refuses_the_next(
    client, make_event, django_capture_on_commit_callbacks
):
    event = make_event(capacity=1, waitlist_enabled=False)
    assert _page(client, event) == ("open", 1)

    with django_capture_on_commit_callbacks(execute=True):
        services.register(event=event, data=person(1))

    assert _page(client, event) == ("full", None)
    with pytest.raises(services.Unavailable) as refused:
        services.register(event=event, data=person(2))
    assert refused.value.reason == State.FULL


def test_without_a_registration_rule_events_show_no_status_block(
    client, make_event, monkeypatch, settings
):
    settings.EVENT_PAGE_CACHE_SECONDS = 0
    event = make_event(capacity=3)
    monkeypatch.setattr(event_cache, "_rule", None)

    html = client.get(event.get_absolute_url()).content.decode()

    assert "registration-status" not in html
    assert event_cache.STATUS_MARKER not in html
    assert "registration_seats_taken" not in event_cache.snapshot(event.pk)
