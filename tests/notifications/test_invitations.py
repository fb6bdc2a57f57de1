"""Calendar files as invitations: what Gmail, Outlook and Apple Calendar need to show an
invitation rather than a file, update one entry, and take it away again. Every file is read
by three parsers besides icalendar (tests/calendars.py), which must agree with each other
and with zoneinfo."""

import email.policy
from datetime import timedelta
from email import message_from_bytes

import pytest
from django.core import mail
from django.test import Client

from events import services as event_services
from notifications import services
from registration import services as registration_services
from tests.calendars import read_consistently
from tests.notifications.conftest import SEND_AT, STARTS, calendar_of, register

pytestmark = pytest.mark.django_db(transaction=True)


def read(message):
    """The message's .ics as every parser reads it."""
    body = calendar_of(message).encode()
    return read_consistently(body, first_year=2021, last_year=2021, zone_name="America/New_York")


def mail_to(address):
    return [m for m in mail.outbox if m.to == [address]]


def content_type_of(message):
    """The .ics part's content type and parameters as a mail client reads the sent bytes."""
    parsed = message_from_bytes(message.message().as_bytes(), policy=email.policy.default)
    (part,) = [p for p in parsed.walk() if p.get_content_type() == "text/calendar"]
    return part.get_content_type(), dict(part.get_params()[1:])


def test_a_registrants_files_are_one_entry_from_invitation_to_cancellation(event, travel):
    travel(STARTS - timedelta(days=3))
    ana = register(event, "ana@example.org", name="Ana Lima")
    travel(SEND_AT + timedelta(minutes=1))
    services.scan(now=SEND_AT + timedelta(minutes=1))
    travel(SEND_AT + timedelta(minutes=10))
    event.starts_at += timedelta(minutes=30)
    event.ends_at += timedelta(minutes=30)
    event_services.save_event(event=event, changed_fields={"starts_at", "ends_at"})
    notice_at = SEND_AT + timedelta(minutes=20)
    travel(notice_at)
    services.queue_change_notices(event=event, now=notice_at)
    travel(notice_at + timedelta(minutes=5))
    registration_services.cancel(registration=ana)

    messages = mail_to("ana@example.org")
    assert [m.subject.split(":")[0] for m in messages] == [
        "Registration confirmed",
        "Your meeting link for Engagement of CSOs in the management of VEPs in prisons",
        "Updated details for Engagement of CSOs in the management of VEPs in prisons",
        "Registration cancelled",
    ]
    files = [read(message) for message in messages]
    assert [f["method"] for f in files] == ["REQUEST", "REQUEST", "REQUEST", "CANCEL"]
    assert [f["status"] for f in files] == ["CONFIRMED", "CONFIRMED", "CONFIRMED", "CANCELLED"]
    assert {f["uid"] for f in files} == {f"event-{event.pk}@127.0.0.1"}
    sequences = [f["sequence"] for f in files]
    assert sequences == sorted(set(sequences)), "each file must outrank the one before"
    assert {f["organizer"] for f in files} == {"side-events@example.org"}
    assert {tuple(f["attendees"]) for f in files} == {("ana@example.org",)}
    assert files[2]["start"] == event.starts_at  # the new time
    for message, file in zip(messages, files, strict=True):
        assert content_type_of(message) == (
            "text/calendar",
            {"method": file["method"], "charset": "utf-8"},
        )


def test_downloading_the_public_file_then_registering_leaves_one_entry(event, travel):
    """Calendars keep one entry per UID and take the higher SEQUENCE: the invitation
    replaces the downloaded entry, and downloading again cannot strip the meeting link."""
    travel(STARTS - timedelta(days=3))
    public = Client().get(f"/en/events/{event.slug}/calendar.ics").content
    public_read = read_consistently(
        public, first_year=2021, last_year=2021, zone_name="America/New_York"
    )
    register(event, "ana@example.org")
    travel(SEND_AT + timedelta(minutes=1))
    services.scan(now=SEND_AT + timedelta(minutes=1))
    confirmation, link = mail_to("ana@example.org")
    assert public_read["method"] == "PUBLISH"
    assert public_read["attendees"] == []
    for invitation in (read(confirmation), read(link)):
        assert invitation["uid"] == public_read["uid"]
        assert invitation["sequence"] > public_read["sequence"]
    again = Client().get(f"/en/events/{event.slug}/calendar.ics").content
    assert (
        read_consistently(again, first_year=2021, last_year=2021, zone_name="America/New_York")[
            "sequence"
        ]
        < read(link)["sequence"]
    )


def test_registering_again_after_cancelling_outranks_the_cancellation(event, travel):
    travel(STARTS - timedelta(days=3))
    ana = register(event, "ana@example.org")
    travel(STARTS - timedelta(days=3) + timedelta(seconds=30))
    registration_services.cancel(registration=ana)
    travel(STARTS - timedelta(days=3) + timedelta(minutes=1))
    register(event, "ana@example.org")
    first, cancellation, second = (read(m) for m in mail_to("ana@example.org"))
    assert (first["method"], cancellation["method"], second["method"]) == (
        "REQUEST",
        "CANCEL",
        "REQUEST",
    )
    assert first["uid"] == cancellation["uid"] == second["uid"]
    assert first["sequence"] < cancellation["sequence"] < second["sequence"]


def test_a_cancelled_event_cancels_each_registrants_entry(event, travel):
    travel(STARTS - timedelta(days=3))
    register(event, "ana@example.org")
    travel(STARTS - timedelta(days=2))
    event_services.cancel_event(event=event)
    invitation, cancellation = (read(m) for m in mail_to("ana@example.org"))
    assert cancellation["method"] == "CANCEL" and cancellation["status"] == "CANCELLED"
    assert cancellation["uid"] == invitation["uid"]
    assert cancellation["sequence"] > invitation["sequence"]
    assert cancellation["attendees"] == ["ana@example.org"]


def test_the_waiting_list_gets_no_invitation(event, travel):
    event.capacity = 0
    event.save()
    travel(STARTS - timedelta(days=3))
    register(event, "eva@example.org")
    (message,) = mail_to("eva@example.org")
    assert "waiting list" in message.subject
    assert calendar_of(message) is None


def test_an_event_without_a_contact_is_organised_by_the_sender(event, travel, settings):
    event.contact_email = ""
    event.save()
    settings.DEFAULT_FROM_EMAIL = "Side events <events@example.org>"
    travel(STARTS - timedelta(days=3))
    register(event, "ana@example.org")
    assert read(mail_to("ana@example.org")[0])["organizer"] == "events@example.org"


def test_confirmations_sent_by_later_tasks_show_the_edited_event_and_outrank_earlier_files(
    event, travel
):
    """What confirmations share (the event's facts, the rendered templates, the calendar
    file) is kept across tasks in the worker (notifications.emails.shared_cache): a later
    confirmation still shows an edit made in between, and its file a higher SEQUENCE."""
    travel(STARTS - timedelta(days=5))
    register(event, "ana@example.org", name="Ana Lima")
    travel(STARTS - timedelta(days=4))
    register(event, "bo@example.org", name="Bo Chen")
    travel(STARTS - timedelta(days=3))
    event.title = "Civil society in prisons: the renamed panel"
    event_services.save_event(event=event, changed_fields={"title"})
    register(event, "cy@example.org", name="Cy Diaz")

    ana, bo, cy = (mail_to(f"{who}@example.org")[0] for who in ("ana", "bo", "cy"))
    files = [read(message) for message in (ana, bo, cy)]
    assert files[0]["sequence"] < files[1]["sequence"] < files[2]["sequence"]
    assert [tuple(f["attendees"]) for f in files] == [
        ("ana@example.org",),
        ("bo@example.org",),
        ("cy@example.org",),
    ]
    assert "Bo Chen" in bo.body and "Ana Lima" not in bo.body
    assert "the renamed panel" in cy.body and "the renamed panel" in calendar_of(cy)
    assert "the renamed panel" not in bo.body
