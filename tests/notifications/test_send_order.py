"""The bound on what a crash can repeat: a worker hands the provider the next message only
once the one before it was answered, and records each outcome before the message after next
goes out, so at most two sent messages per worker are ever unrecorded."""

from datetime import timedelta

import pytest
from django.core.mail.backends.base import BaseEmailBackend

from notifications import services
from tests.notifications.conftest import SEND_AT, STARTS, register

pytestmark = pytest.mark.django_db(transaction=True)

EVENTS = []


class RecordingBackend(BaseEmailBackend):
    """A provider that notes when each message reached it (from the worker's helper thread)."""

    def send_messages(self, email_messages):
        for message in email_messages:
            EVENTS.append(("sent", message.to[0]))
        return len(email_messages)


def test_at_most_two_sent_messages_are_ever_unrecorded(event, travel, settings, monkeypatch):
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.RecordingBackend"}}
    travel(STARTS - timedelta(days=2))
    emails = [f"person{number}@example.org" for number in range(8)]
    for email in emails:
        register(event, email)
    finish = services._finish

    def recording_finish(delivery, **kwargs):
        finish(delivery, **kwargs)
        EVENTS.append(("recorded", delivery.registration.email))

    monkeypatch.setattr(services, "_finish", recording_finish)
    EVENTS.clear()
    travel(SEND_AT + timedelta(minutes=1))
    services.scan(now=SEND_AT + timedelta(minutes=1))

    sent = [email for what, email in EVENTS if what == "sent"]
    assert sorted(sent) == sorted(emails)
    recorded = set()
    for what, email in EVENTS:
        if what == "recorded":
            recorded.add(email)
        else:
            assert len(set(sent[: sent.index(email)]) - recorded) <= 1, EVENTS
    assert recorded == set(emails)
