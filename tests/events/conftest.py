from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from events.admin import event_admin_inlines
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


def admin_post_data(event=None, **overrides):
    """POST data for the event admin's change form, times given as they are typed."""
    data = {
        "title": "Civil society and prisons",
        "slug": "side-event",
        "status": "published",
        "summary": "",
        "description": "",
        "expected_outcomes": "",
        "timezone": "America/New_York",
        "starts_at_0": "2030-06-25",
        "starts_at_1": "12:30",
        "ends_at_0": "2030-06-25",
        "ends_at_1": "14:00",
        "format": "virtual",
        "venue": "",
        "interpretation_languages": ["en", "fr"],
        "organiser": "",
        "contact_email": "",
        "meeting_url": "https://meet.example.org/j/1",
        "meeting_details": "",
        "meeting_link_send_at_0": "",
        "meeting_link_send_at_1": "",
        "registration_opens_at_0": "",
        "registration_opens_at_1": "",
        "registration_closes_at_0": "",
        "registration_closes_at_1": "",
        "capacity": "300",
        "waitlist_enabled": "on",
        "approval": "automatic",
        # What the form shows: the event's mode, or for a new event the admin's proposal.
        "registration_mode": event.registration_mode if event is not None else "verify_email",
        "verification_hold_minutes": "",
    }
    # Inlines the apps above events add (events.admin.event_admin_inlines) post their
    # management forms too, as the browser does.
    extra = [
        inline.model._meta.get_field("event").remote_field.related_name
        for inline in event_admin_inlines
    ]
    for prefix in ("agenda_items", "documents", "access_codes", *extra):
        count = event.__getattribute__(prefix).count() if event is not None else 0
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": str(count),
                f"{prefix}-INITIAL_FORMS": str(count),
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
    if event is not None:
        local_start, local_end = event.local_starts_at, event.local_ends_at
        data.update(
            {
                "title": event.title,
                "slug": event.slug,
                "status": event.status,
                "timezone": event.timezone,
                "starts_at_0": f"{local_start:%Y-%m-%d}",
                "starts_at_1": f"{local_start:%H:%M:%S}",
                "ends_at_0": f"{local_end:%Y-%m-%d}",
                "ends_at_1": f"{local_end:%H:%M:%S}",
                "meeting_url": event.meeting_url,
                "meeting_details": event.meeting_details,
                "capacity": "" if event.capacity is None else str(event.capacity),
            }
        )
        for index, item in enumerate(event.agenda_items.all()):
            local = timezone.localtime(item.starts_at, event.tz)
            data.update(
                {
                    f"agenda_items-{index}-id": str(item.pk),
                    f"agenda_items-{index}-event": str(event.pk),
                    f"agenda_items-{index}-date": f"{local:%Y-%m-%d}",
                    f"agenda_items-{index}-start_time": f"{local:%H:%M:%S}",
                    f"agenda_items-{index}-end_time": (
                        f"{timezone.localtime(item.ends_at, event.tz):%H:%M:%S}"
                        if item.ends_at
                        else ""
                    ),
                    f"agenda_items-{index}-title": item.title,
                    f"agenda_items-{index}-position": str(item.position),
                }
            )
        for index, document in enumerate(event.documents.all()):
            data.update(
                {
                    f"documents-{index}-id": str(document.pk),
                    f"documents-{index}-event": str(event.pk),
                    f"documents-{index}-kind": document.kind,
                    f"documents-{index}-title": document.title,
                    f"documents-{index}-language": document.language,
                    f"documents-{index}-position": str(document.position),
                }
            )
    data.update(overrides)
    return data
