"""The bound on what a crash can repeat: a worker hands the provider the next message only
once the one before it was answered, and records each outcome before the message after next
goes out, so at most two sent messages per worker are ever unrecorded."""

import smtplib
import time
from datetime import timedelta

import pytest
from django.core.mail.backends.base import BaseEmailBackend

from notifications import services
from notifications.models import Delivery
from notifications.services import sending
from registration.models import ManageToken
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
    finish = sending.finish

    def recording_finish(delivery, **kwargs):
        finish(delivery, **kwargs)
        EVENTS.append(("recorded", delivery.registration.email))

    monkeypatch.setattr(sending, "finish", recording_finish)
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


class SlowFirstBackend(BaseEmailBackend):
    """A provider that takes three seconds over the first message of the test."""

    slow = True

    def send_messages(self, email_messages):
        if SlowFirstBackend.slow:
            SlowFirstBackend.slow = False
            time.sleep(3)
        for message in email_messages:
            EVENTS.append(("sent", message.to[0]))
        return len(email_messages)


def test_a_batch_past_half_its_lease_hands_the_rest_back(event, travel, settings, caplog):
    """Otherwise the scan would give this worker's rows to another one while it still
    sends them, and both would send."""
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.SlowFirstBackend"}}
    settings.NOTIFICATIONS_LEASE_SECONDS = 5  # half of it passes during the slow first send
    travel(STARTS - timedelta(days=2))
    emails = [f"person{number}@example.org" for number in range(5)]
    for email in emails:
        register(event, email)
    EVENTS.clear()
    SlowFirstBackend.slow = True
    travel(SEND_AT + timedelta(minutes=1))
    services.scan(now=SEND_AT + timedelta(minutes=1))

    assert "handed back" in caplog.text
    assert sorted(email for _what, email in EVENTS) == sorted(emails)  # each once
    links = Delivery.objects.filter(kind=Delivery.Kind.MEETING_LINK)
    assert set(links.values_list("status", flat=True)) == {Delivery.Status.SENT}
    assert set(links.values_list("attempts", flat=True)) == {1}


class FlakyBackend(BaseEmailBackend):
    """A provider that drops the connection at the second message."""

    def send_messages(self, email_messages):
        if len([e for e in EVENTS if e[0] == "sent"]) == 1:
            EVENTS.append(("dropped", email_messages[0].to[0]))
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        for message in email_messages:
            EVENTS.append(("sent", message.to[0]))
        return len(email_messages)


def test_manage_links_of_messages_never_sent_are_withdrawn(event, travel, settings):
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.FlakyBackend"}}
    travel(STARTS - timedelta(days=2))
    for number in range(4):
        register(event, f"person{number}@example.org")
    EVENTS.clear()
    tokens_before = ManageToken.objects.count()
    travel(SEND_AT + timedelta(minutes=1))
    services.scan(now=SEND_AT + timedelta(minutes=1))

    # person0 got the link; person1's connection dropped (retried later); two never tried.
    assert [what for what, _email in EVENTS] == ["sent", "dropped"]
    links = Delivery.objects.filter(kind=Delivery.Kind.MEETING_LINK)
    assert sorted(links.values_list("status", flat=True)) == ["pending"] * 3 + ["sent"]
    assert ManageToken.objects.count() == tokens_before + 2  # the two handed to the provider
