from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from events.models import AgendaItem, Event, Speaker

# Distinctive enough that finding it anywhere public can only mean a leak.
SECRET_MEETING_URL = "https://meet.example.org/j/987654321?pwd=SecretLeakCanary42"
SECRET_MEETING_DETAILS = "Passcode LEAKCANARY-7734, dial-in +1 555 0100"


def make_event(**overrides):
    starts_at = overrides.pop("starts_at", timezone.now() + timedelta(days=5))
    values = {
        "slug": "side-event",
        "title": "Civil society and prisons",
        "summary": "How civil society helps manage violent extremist prisoners.",
        "description": "A **panel** discussion.",
        "expected_outcomes": "- Show the role of CSOs\n- Share practices",
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(minutes=90),
        "timezone": "America/New_York",
        "status": Event.Status.PUBLISHED,
        "meeting_url": SECRET_MEETING_URL,
        "meeting_details": SECRET_MEETING_DETAILS,
        "interpretation_languages": ["ar", "zh-hans", "en", "fr", "ru", "es"],
        "capacity": 300,
    }
    values.update(overrides)
    return Event.objects.create(**values)


def add_agenda(event, count):
    speakers = [
        Speaker.objects.create(name=f"Speaker {n}", organisation=f"Org {n}") for n in range(3)
    ]
    items = []
    for n in range(count):
        item = AgendaItem.objects.create(
            event=event,
            starts_at=event.starts_at + timedelta(minutes=n),
            title=f"Agenda item {n}",
            position=n,
        )
        item.speakers.set(speakers[: (n % 3) + 1])
        items.append(item)
    return items


@pytest.fixture
def event(db):
    return make_event()


@pytest.fixture
def june_event(db):
    """The historical side event: 25 June 2021, 12:30-14:00 New York (EDT, UTC-4)."""
    return make_event(
        slug="june-event",
        starts_at=datetime(2021, 6, 25, 16, 30, tzinfo=UTC),
        ends_at=datetime(2021, 6, 25, 18, 0, tzinfo=UTC),
    )
