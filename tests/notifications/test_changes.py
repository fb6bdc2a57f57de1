"""Changes after the meeting links went out, and cancelled events."""

from datetime import timedelta

import icalendar
import pytest
from django.core import mail

from events import services as event_services
from events.models import Event
from notifications import services
from notifications.models import Delivery
from registration import services as registration_services
from tests.notifications.conftest import SEND_AT, STARTS, calendar_of, make_event, register

pytestmark = pytest.mark.django_db(transaction=True)
CHANGED = "Updated details for"
NEW_URL = "https://meet.example.org/j/5550100?pwd=new-room"


def vevent(message):
    return next(iter(icalendar.Calendar.from_ical(calendar_of(message)).walk("VEVENT")))


def change_link(event, url):
    event.refresh_from_db()
    event.meeting_url = url
    event_services.save_event(event=event, changed_fields=["meeting_url"])


def notices():
    return [m for m in mail.outbox if m.subject.startswith(CHANGED)]


@pytest.fixture
def links_sent(event, travel):
    """ana and ben confirmed; the meeting links went out at the send time."""
    travel(STARTS - timedelta(days=2))
    register(event, "ana@example.org")
    register(event, "ben@example.org")
    travel(SEND_AT + timedelta(minutes=1))
    services.scan(now=SEND_AT + timedelta(minutes=1))
    mail.outbox.clear()
    return event


def test_a_burst_of_edits_gives_one_notice_per_registrant(links_sent, travel, settings):
    delay = timedelta(minutes=settings.EVENT_CHANGE_NOTICE_DELAY_MINUTES)
    edited = SEND_AT + timedelta(hours=1)
    for minute, url in enumerate([NEW_URL + "-draft", NEW_URL + "-typo", NEW_URL]):
        travel(edited + timedelta(minutes=minute))
        change_link(links_sent, url)
        services.scan(now=edited + timedelta(minutes=minute))
    last_edit = edited + timedelta(minutes=2)
    travel(last_edit + delay - timedelta(seconds=30))
    services.scan(now=last_edit + delay - timedelta(seconds=30))
    assert notices() == []  # the organiser may still be editing
    for later in (delay + timedelta(seconds=5), delay + timedelta(minutes=3)):
        travel(last_edit + later)
        services.scan(now=last_edit + later)
    assert sorted(m.to[0] for m in notices()) == ["ana@example.org", "ben@example.org"]
    assert all(NEW_URL in m.body and NEW_URL + "-" not in m.body for m in notices())


def test_notice_calendar_outranks_the_meeting_link_calendar(event, travel):
    travel(STARTS - timedelta(days=2))
    register(event, "ana@example.org")
    travel(SEND_AT + timedelta(minutes=1))
    services.scan(now=SEND_AT + timedelta(minutes=1))
    before = vevent(mail.outbox[-1])
    assert mail.outbox[-1].subject.startswith("Your meeting link")
    travel(SEND_AT + timedelta(hours=1))
    event.refresh_from_db()
    event.starts_at += timedelta(hours=1)
    event.ends_at += timedelta(hours=1)
    event_services.save_event(event=event, changed_fields=["starts_at", "ends_at"])
    travel(SEND_AT + timedelta(hours=1, minutes=10))
    services.scan(now=SEND_AT + timedelta(hours=1, minutes=10))
    [notice] = notices()
    after = vevent(notice)
    assert after["UID"] == before["UID"]
    assert after["SEQUENCE"] > before["SEQUENCE"]
    assert after.decoded("DTSTART").hour == 13  # 13:30 New York time now
    assert "1:30 p.m.\u20133 p.m. EDT" in notice.body


def test_each_new_change_gives_a_new_notice(links_sent, travel):
    travel(SEND_AT + timedelta(hours=1))
    change_link(links_sent, NEW_URL)
    travel(SEND_AT + timedelta(hours=2))
    services.scan(now=SEND_AT + timedelta(hours=2))
    change_link(links_sent, NEW_URL + "-2")
    travel(SEND_AT + timedelta(hours=3))
    services.scan(now=SEND_AT + timedelta(hours=3))
    services.scan(now=SEND_AT + timedelta(hours=3, minutes=1))
    assert len(notices()) == 4
    assert Delivery.objects.filter(kind="event_changed").count() == 4


def test_changes_before_the_links_went_out_need_no_notice(event, travel):
    travel(STARTS - timedelta(days=3))
    register(event, "ana@example.org")
    change_link(event, NEW_URL)
    travel(STARTS - timedelta(days=2))
    services.scan(now=STARTS - timedelta(days=2))
    assert notices() == []
    travel(SEND_AT + timedelta(minutes=1))
    services.scan(now=SEND_AT + timedelta(minutes=1))
    link = next(m for m in mail.outbox if m.subject.startswith("Your meeting link"))
    assert NEW_URL in link.body
    services.scan(now=SEND_AT + timedelta(minutes=30))
    assert notices() == []


def test_people_who_cancelled_get_no_change_notice(links_sent, travel):
    travel(SEND_AT + timedelta(minutes=30))
    ben = links_sent.registrations.get(email="ben@example.org")
    registration_services.cancel(registration=ben)
    change_link(links_sent, NEW_URL)
    travel(SEND_AT + timedelta(hours=1))
    services.scan(now=SEND_AT + timedelta(hours=1))
    assert [m.to[0] for m in notices()] == ["ana@example.org"]


def test_cancelled_event_tells_everyone_registered_and_nobody_else(event, travel):
    travel(STARTS - timedelta(days=3))
    event.capacity = 1
    event.save()
    register(event, "ana@example.org")  # confirmed
    register(event, "ben@example.org")  # waitlisted
    dan = register(event, "dan@example.org")  # waitlisted, then cancels
    registration_services.cancel(registration=dan)
    moderated = make_event(slug="moderated", approval=Event.Approval.ORGANISER)
    register(moderated, "pia@example.org")  # awaiting approval
    rui = register(moderated, "rui@example.org")
    registration_services.reject(registration=rui)
    mail.outbox.clear()
    event_services.cancel_event(event=event)
    event_services.cancel_event(event=moderated)
    event_services.cancel_event(event=moderated)  # twice: nothing more
    cancelled = [m for m in mail.outbox if m.subject.startswith("Cancelled:")]
    assert sorted(m.to[0] for m in cancelled) == [
        "ana@example.org",
        "ben@example.org",
        "pia@example.org",
    ]
    calendar = icalendar.Calendar.from_ical(calendar_of(cancelled[0]))
    assert str(calendar["METHOD"]) == "CANCEL"
    assert next(iter(calendar.walk("VEVENT")))["STATUS"] == "CANCELLED"
    # And no meeting link afterwards.
    travel(SEND_AT + timedelta(minutes=1))
    services.scan(now=SEND_AT + timedelta(minutes=1))
    assert not any(m.subject.startswith("Your meeting link") for m in mail.outbox)


def test_cancelled_event_stops_links_already_queued(links_sent, travel):
    travel(SEND_AT + timedelta(minutes=2))
    register(links_sent, "cai@example.org")
    Delivery.objects.filter(kind="meeting_link", status="sent").update(status="pending")
    mail.outbox.clear()
    event_services.cancel_event(event=links_sent)
    travel(SEND_AT + timedelta(minutes=5))
    services.scan(now=SEND_AT + timedelta(minutes=5))
    assert not any(m.subject.startswith("Your meeting link") for m in mail.outbox)
    assert len([m for m in mail.outbox if m.subject.startswith("Cancelled:")]) == 3


def new_time_notices():
    return [m for m in mail.outbox if m.subject.startswith("New time for")]


def test_a_new_time_before_the_links_reaches_everyone_registered(event, travel, settings):
    """Told before the link goes out: confirmed and waitlisted people who registered before
    the change, once, with the new time and a calendar update; never the meeting link."""
    event.capacity = 1
    event.save()
    travel(STARTS - timedelta(days=5))
    register(event, "ana@example.org")  # confirmed
    register(event, "ben@example.org", language="fr")  # waitlisted
    mail.outbox.clear()
    changed = STARTS - timedelta(days=4)
    travel(changed)
    event.refresh_from_db()
    event.starts_at += timedelta(hours=2)
    event.ends_at += timedelta(hours=2)
    event_services.save_event(event=event, changed_fields=["starts_at", "ends_at"])
    register(event, "cai@example.org")  # after the change: the confirmation has the new time
    settled = changed + timedelta(minutes=settings.EVENT_CHANGE_NOTICE_DELAY_MINUTES, seconds=5)
    for later in (settled, settled + timedelta(minutes=5)):
        travel(later)
        services.scan(now=later)

    told = new_time_notices()
    assert [m.to[0] for m in told] == ["ana@example.org"]  # not cai, told in the confirmation
    ana = told[0]
    assert "2:30 p.m.\u20134 p.m. EDT" in ana.body
    assert vevent(ana)["DTSTART"].dt == STARTS + timedelta(hours=2)
    french = next(m for m in mail.outbox if m.to == ["ben@example.org"])
    assert french.subject.startswith("Nouvel horaire")
    assert calendar_of(french) is None  # waiting list: nothing in the calendar yet
    for message in [ana, french]:
        assert "meet.example.org" not in message.body + str(message.alternatives)
        assert "meet.example.org" not in (calendar_of(message) or "")

    link_time = SEND_AT + timedelta(hours=2, minutes=1)
    travel(link_time)
    services.scan(now=link_time)
    link = next(m for m in mail.outbox if m.subject.startswith("Your meeting link"))
    assert link.to == ["ana@example.org"]
    assert notices() == []  # the link carries the time: no separate change notice
    assert len(new_time_notices()) == 1


def test_a_new_meeting_link_alone_is_no_new_time(event, travel, settings):
    travel(STARTS - timedelta(days=5))
    register(event, "ana@example.org")
    change_link(event, NEW_URL)
    later = STARTS - timedelta(days=4)
    travel(later)
    services.scan(now=later)
    assert new_time_notices() == []
