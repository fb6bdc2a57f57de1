"""Fixtures for the notifications tests: the side event (25 June 2021, 12:30-14:00 New York
time, EDT) and people registering for it through the registration services."""

from datetime import UTC, datetime, timedelta
from email import message_from_bytes

import pytest
import time_machine
from django.core import mail

from events.models import Event
from registration import services as registration_services

STARTS = datetime(2021, 6, 25, 16, 30, tzinfo=UTC)  # 12:30 EDT
ENDS = datetime(2021, 6, 25, 18, 0, tzinfo=UTC)
# The default meeting-link send time: 24 hours before the start.
SEND_AT = STARTS - timedelta(hours=24)
MEETING_URL = "https://meet.example.org/j/8675309?pwd=side-event"


def make_event(slug="csos-in-prisons", **fields):
    values = {
        "slug": slug,
        "title": "Engagement of CSOs in the management of VEPs in prisons",
        "summary": "How civil society can support rehabilitation in prisons.",
        "starts_at": STARTS,
        "ends_at": ENDS,
        "timezone": "America/New_York",
        "status": Event.Status.PUBLISHED,
        "meeting_url": MEETING_URL,
        "meeting_details": "Meeting ID 867 5309, passcode 2021",
        "interpretation_languages": ["ar", "zh-hans", "en", "fr", "ru", "es"],
        "contact_email": "side-events@example.org",
    }
    values.update(fields)
    return Event.objects.create(**values)


# Committed transactions throughout: the outbox enqueues its sends on commit, as in
# production, so the tests see exactly what a registrant would receive.
@pytest.fixture
def event(transactional_db):
    return make_event()


@pytest.fixture
def travel():
    """travel(datetime): move the clock there (and keep it ticking)."""
    travellers = []

    def go(when):
        if travellers:
            travellers.pop().stop()
        traveller = time_machine.travel(when, tick=True)
        traveller.start()
        travellers.append(traveller)

    yield go
    for traveller in travellers:
        traveller.stop()


def register(event, email, *, language="en", name=None, timezone=""):
    result = registration_services.register(
        event=event,
        data={
            "email": email,
            "name": name or email.split("@")[0].title(),
            "consent": True,
            "preferred_language": language,
            "timezone": timezone,
        },
    )
    return result.registration


def sent_to(kind_subject_part=None):
    """Recipients of the emails in the outbox (optionally only those whose subject has the
    given part), in order."""
    return [
        message.to[0]
        for message in mail.outbox
        if kind_subject_part is None or kind_subject_part in message.subject
    ]


def html_of(message):
    return next(content for content, mimetype in message.alternatives if mimetype == "text/html")


def calendar_of(message):
    """The attached .ics of `message` as text, or None."""
    for attachment in message.attachments:
        if attachment.mimetype.startswith("text/calendar"):
            content = attachment.content
            return content.decode() if isinstance(content, bytes) else content
    return None


def parsed(message):
    """The message as a mail client receives it."""
    return message_from_bytes(message.message().as_bytes())
