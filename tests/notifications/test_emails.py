"""What the registrant reads: language, times in the event's zone, the personal link, the
calendar file, and the meeting link only where it belongs."""

import re
from datetime import timedelta

import icalendar
import pytest
from django.core import mail
from django.test import Client

from events.models import Event
from notifications import services
from registration import services as registration_services
from tests.notifications.conftest import (
    MEETING_URL,
    SEND_AT,
    STARTS,
    calendar_of,
    html_of,
    make_event,
    parsed,
    register,
)

pytestmark = pytest.mark.django_db(transaction=True)


def ics_field(calendar, name):
    """A property of the calendar's VEVENT (METHOD: of the calendar itself), as text."""
    parsed_calendar = icalendar.Calendar.from_ical(calendar)
    if name == "METHOD":
        return str(parsed_calendar["METHOD"])
    vevent = next(iter(parsed_calendar.walk("VEVENT")))
    return vevent.get(name)


def message_to(email, subject_start):
    return next(m for m in mail.outbox if m.to == [email] and m.subject.startswith(subject_start))


def send_links(at=SEND_AT + timedelta(minutes=1)):
    services.scan(now=at)


def test_every_message_has_plain_text_and_html(event, travel):
    travel(STARTS - timedelta(days=2))
    event.capacity = 1
    event.save()
    ana = register(event, "ana@example.org")
    register(event, "ben@example.org")  # waitlisted
    registration_services.cancel(registration=ana)  # ben promoted
    travel(SEND_AT + timedelta(minutes=1))
    send_links()
    # Two confirmations, ana's cancellation, ben's promotion and ben's meeting link.
    assert len(mail.outbox) == 5
    for message in mail.outbox:
        parts = {part.get_content_type() for part in parsed(message).walk()}
        assert {"text/plain", "text/html"} <= parts, message.subject
        assert "Dear Ana" in message.body or "Dear Ben" in message.body
        assert "<html" in html_of(message)


def test_times_are_in_the_events_zone_with_its_abbreviation_and_in_utc(event, travel):
    travel(STARTS - timedelta(days=2))
    register(event, "ana@example.org")
    message = mail.outbox[0]
    assert "June 25, 2021, 12:30 p.m.\u20132 p.m. EDT" in message.body
    assert "In UTC: June 25, 2021, 4:30 p.m.\u20136 p.m." in message.body
    assert "America/New_York" in html_of(message)


def test_russian_registrant_reads_russian_dates_and_a_russian_tagged_message(event, travel):
    travel(STARTS - timedelta(days=2))
    register(event, "ivan@example.org", language="ru")
    register(event, "ana@example.org", language="en")
    russian = message_to("ivan@example.org", "")
    english = message_to("ana@example.org", "")
    assert parsed(russian)["Content-Language"] == "ru"
    assert '<html lang="ru" dir="ltr">' in html_of(russian)
    assert "25 июня 2021" in russian.body
    assert "25 июня 2021" not in english.body
    assert parsed(english)["Content-Language"] == "en"
    # The manage link opens the registration in the person's language.
    assert "/ru/r/" in russian.body


def test_arabic_email_is_right_to_left(event, travel):
    travel(STARTS - timedelta(days=2))
    register(event, "amal@example.org", language="ar")
    html = html_of(mail.outbox[0])
    assert '<html lang="ar" dir="rtl">' in html
    assert parsed(mail.outbox[0])["Content-Language"] == "ar"


def test_meeting_link_calendar_updates_the_confirmation_entry(event, travel):
    travel(STARTS - timedelta(days=2))
    register(event, "ana@example.org")
    travel(SEND_AT + timedelta(minutes=1))
    send_links()
    confirmation = calendar_of(message_to("ana@example.org", "Registration confirmed"))
    link = calendar_of(message_to("ana@example.org", "Your meeting link"))
    assert ics_field(confirmation, "UID") == ics_field(link, "UID")
    assert ics_field(link, "SEQUENCE") > ics_field(confirmation, "SEQUENCE")
    assert "meet.example.org" not in confirmation
    assert ics_field(link, "LOCATION") == MEETING_URL
    starts = ics_field(link, "DTSTART").dt
    assert (starts.isoformat(), str(starts.tzinfo)) == (
        "2021-06-25T12:30:00-04:00",
        "America/New_York",
    )


def test_meeting_link_appears_only_in_meeting_link_messages(event, travel):
    travel(STARTS - timedelta(days=2))
    event.capacity = 1
    event.save()
    register(event, "ana@example.org")
    register(event, "ben@example.org")  # waitlisted
    travel(SEND_AT + timedelta(minutes=1))
    send_links()
    for message in mail.outbox:
        carries_link = message.subject.startswith("Your meeting link")
        assert (MEETING_URL in message.body) is carries_link
        assert ("meet.example.org" in html_of(message)) is carries_link
    assert [m.to[0] for m in mail.outbox if MEETING_URL in m.body] == ["ana@example.org"]


def test_waitlisted_and_pending_confirmations_say_so_without_a_calendar_entry(event, travel):
    travel(STARTS - timedelta(days=2))
    event.capacity = 0
    event.save()
    register(event, "ben@example.org")
    moderated = make_event(slug="moderated", approval=Event.Approval.ORGANISER)
    register(moderated, "pia@example.org")
    waitlisted = message_to("ben@example.org", "You are on the waiting list")
    pending = message_to("pia@example.org", "Registration received, awaiting approval")
    assert "waiting list" in waitlisted.body
    assert "review each registration" in pending.body
    assert calendar_of(waitlisted) is None
    assert calendar_of(pending) is None


def test_rejection_passes_on_the_organisers_message(event, travel):
    travel(STARTS - timedelta(days=2))
    moderated = make_event(slug="moderated", approval=Event.Approval.ORGANISER)
    rui = register(moderated, "rui@example.org")
    registration_services.reject(registration=rui, message="Seats are reserved for delegations.")
    message = message_to("rui@example.org", "Your registration for")
    assert "Seats are reserved for delegations." in message.body
    assert "Seats are reserved for delegations." in html_of(message)
    assert calendar_of(message) is None


def test_cancellation_removes_the_calendar_entry(event, travel):
    travel(STARTS - timedelta(days=2))
    ana = register(event, "ana@example.org")
    travel(STARTS - timedelta(days=1, hours=23))
    registration_services.cancel(registration=ana)
    invitation = calendar_of(message_to("ana@example.org", "Registration confirmed"))
    cancellation = calendar_of(message_to("ana@example.org", "Registration cancelled"))
    assert ics_field(cancellation, "METHOD") == "CANCEL"
    assert ics_field(cancellation, "UID") == ics_field(invitation, "UID")
    assert ics_field(cancellation, "UID") == f"event-{event.pk}@127.0.0.1"
    assert ics_field(cancellation, "SEQUENCE") > ics_field(invitation, "SEQUENCE")
    assert str(ics_field(cancellation, "ATTENDEE")) == "mailto:ana@example.org"


def test_personal_link_in_the_email_opens_the_registration(event, travel):
    travel(STARTS - timedelta(days=2))
    register(event, "ana@example.org", name="Ana Lima")
    url = re.search(r"http://127\.0\.0\.1:8000(/en/r/[^/\s]+/)", mail.outbox[0].body).group(1)
    response = Client().get(url)
    assert response.status_code == 200
    assert "Ana Lima" in response.content.decode()


def test_resend_queues_a_new_version_of_the_confirmation(event, travel):
    travel(STARTS - timedelta(days=2))
    ana = register(event, "ana@example.org")
    registration_services.resend_confirmation(registration=ana)
    registration_services.resend_confirmation(registration=ana)
    assert [m.subject.split(":")[0] for m in mail.outbox] == ["Registration confirmed"] * 3
    assert sorted(ana.deliveries.values_list("version", flat=True)) == [0, 1, 2]


def test_each_registrant_is_invited_as_themselves(event, travel):
    """One file per batch, each registrant's ATTENDEE swapped in (the mail merge)."""
    travel(STARTS - timedelta(days=2))
    ana = register(event, "ana@example.org")
    ben = register(event, "ben@example.org", name="Ben Óscar")
    travel(SEND_AT + timedelta(minutes=1))
    send_links()  # both links in one batch
    for person in (ana, ben):
        for message in (m for m in mail.outbox if m.to == [person.email]):
            attendee = ics_field(calendar_of(message), "ATTENDEE")
            assert str(attendee) == f"mailto:{person.email}"
            assert attendee.params["CN"] == person.name
            assert ics_field(calendar_of(message), "UID") == f"event-{event.pk}@127.0.0.1"


def test_chinese_and_arabic_emails_list_languages_with_their_own_separator(event, travel):
    event.interpretation_languages = ["en", "fr", "es"]
    event.save()
    travel(STARTS - timedelta(days=2))
    register(event, "li@example.org", language="zh-hans")
    register(event, "amal@example.org", language="ar")
    register(event, "ana@example.org", language="en")
    chinese = message_to("li@example.org", "").body
    arabic = message_to("amal@example.org", "").body
    english = message_to("ana@example.org", "").body
    assert "、" in chinese and "、" not in english
    assert "، " in arabic
    assert "English, French, Spanish" in english
