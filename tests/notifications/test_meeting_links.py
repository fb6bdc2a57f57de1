"""The promise on the event page: every registered participant receives the meeting link
the day before the event, exactly once, and nobody else does."""

from datetime import timedelta

import pytest
from django.core import mail

from events.models import Event
from notifications import services
from notifications.models import Delivery
from notifications.tasks import send_deliveries
from registration import services as registration_services
from tests.notifications.conftest import (
    MEETING_URL,
    SEND_AT,
    STARTS,
    html_of,
    make_event,
    register,
)

pytestmark = pytest.mark.django_db(transaction=True)


def link_recipients():
    return sorted(m.to[0] for m in mail.outbox if MEETING_URL in m.body)


@pytest.fixture
def crowd(event, travel):
    """Three days before: ana, ben, cai confirmed (cai after dan cancelled), eva waitlisted,
    dan cancelled; on a moderated event, pia awaits approval and rui was rejected."""
    travel(STARTS - timedelta(days=3))
    event.capacity = 3
    event.save()
    register(event, "ana@example.org")
    register(event, "ben@example.org")
    dan = register(event, "dan@example.org")
    register(event, "cai@example.org")  # waitlisted, then promoted when dan cancels
    registration_services.cancel(registration=dan)
    register(event, "eva@example.org")  # waitlisted
    moderated = make_event(slug="moderated", approval=Event.Approval.ORGANISER)
    register(moderated, "pia@example.org")
    rui = register(moderated, "rui@example.org")
    registration_services.reject(registration=rui, message="The room is for delegates.")
    mail.outbox.clear()
    return event


def test_nothing_is_sent_before_the_send_time(crowd, travel):
    travel(SEND_AT - timedelta(minutes=1))
    services.scan(now=SEND_AT - timedelta(minutes=1))
    assert mail.outbox == []
    assert not Delivery.objects.filter(kind=Delivery.Kind.MEETING_LINK).exists()


def test_every_confirmed_registrant_gets_the_link_and_nobody_else(crowd, travel):
    travel(SEND_AT + timedelta(seconds=30))
    services.scan(now=SEND_AT + timedelta(seconds=30))
    assert link_recipients() == ["ana@example.org", "ben@example.org", "cai@example.org"]
    message = next(m for m in mail.outbox if m.to == ["ana@example.org"])
    assert "https://meet.example.org/j/8675309?pwd=side-event" in message.body
    assert "Meeting ID 867 5309, passcode 2021" in message.body


def test_a_second_scan_and_a_rerun_task_send_nothing_more(crowd, travel):
    travel(SEND_AT + timedelta(minutes=1))
    services.scan(now=SEND_AT + timedelta(minutes=1))
    assert len(link_recipients()) == 3
    travel(SEND_AT + timedelta(minutes=5))
    services.scan(now=SEND_AT + timedelta(minutes=5))
    # A redelivered task message (acks_late) carries the same ids again.
    send_deliveries.delay(list(Delivery.objects.values_list("pk", flat=True)))
    assert len(link_recipients()) == 3
    assert set(Delivery.objects.filter(kind="meeting_link").values_list("status", flat=True)) == {
        "sent"
    }


def test_late_registrant_gets_the_link_without_waiting_for_the_scan(crowd, travel):
    travel(SEND_AT + timedelta(hours=2))
    services.scan(now=SEND_AT + timedelta(hours=2))
    mail.outbox.clear()
    register(crowd, "zoe@example.org")  # full: waitlisted, no link
    assert link_recipients() == []
    ana = crowd.registrations.get(email="ana@example.org")
    registration_services.cancel(registration=ana)  # eva, first on the list, is promoted
    assert link_recipients() == ["eva@example.org"]
    (to_eva,) = [m for m in mail.outbox if m.to == ["eva@example.org"]]
    assert to_eva.subject.startswith("Registration confirmed: your meeting link")
    assert "a place has become free" in to_eva.body


def test_approval_after_the_send_time_brings_the_link(crowd, travel):
    moderated = Event.objects.get(slug="moderated")
    travel(SEND_AT + timedelta(hours=1))
    pia = moderated.registrations.get(email="pia@example.org")
    registration_services.approve(registration=pia)
    assert link_recipients() == ["pia@example.org"]


def test_new_sign_up_after_the_send_time_gets_one_email_that_confirms_and_has_the_link(
    event, travel
):
    """Two emails sent by two workers arrived in either order: the link 2-50 ms before the
    confirmation that promised it "in a separate email". Now it is one email."""
    travel(SEND_AT + timedelta(hours=3))
    register(event, "late@example.org")
    assert [m.subject for m in mail.outbox] == [
        f"Registration confirmed: your meeting link for {event.title}"
    ]
    (message,) = mail.outbox
    assert "Your place is confirmed." in message.body
    assert MEETING_URL in message.body and MEETING_URL in html_of(message)
    assert "separate email" not in message.body
    assert "REQUEST" in message.attachments[0].mimetype
    # The scan finds nothing more to send them.
    services.scan(now=SEND_AT + timedelta(hours=3, minutes=1))
    assert len(mail.outbox) == 1


def test_promotion_after_the_send_time_is_one_email_with_the_link(crowd, travel):
    travel(SEND_AT + timedelta(hours=1))
    services.scan(now=SEND_AT + timedelta(hours=1))
    mail.outbox.clear()
    ana = crowd.registrations.get(email="ana@example.org")
    registration_services.cancel(registration=ana)  # eva, waitlisted, is promoted
    to_eva = [m for m in mail.outbox if m.to == ["eva@example.org"]]
    assert len(to_eva) == 1
    assert "a place has become free" in to_eva[0].body
    assert MEETING_URL in to_eva[0].body


def test_lost_task_message_is_sent_by_the_next_scan(event, travel):
    travel(SEND_AT - timedelta(hours=1))
    ana = register(event, "ana@example.org")
    mail.outbox.clear()
    # As if the broker lost the message: the row exists, no task is on its way.
    delivery = Delivery.objects.create(
        event=event, registration=ana, kind=Delivery.Kind.MEETING_LINK
    )
    travel(SEND_AT - timedelta(minutes=59, seconds=30))
    services.requeue_stuck(now=SEND_AT - timedelta(minutes=59, seconds=30))
    assert mail.outbox == []  # too young to be called lost
    travel(SEND_AT - timedelta(minutes=58))
    services.requeue_stuck(now=SEND_AT - timedelta(minutes=58))
    assert link_recipients() == ["ana@example.org"]
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT


def test_message_held_by_a_killed_worker_is_sent_once_its_lease_ends(event, travel, settings):
    travel(SEND_AT + timedelta(minutes=1))
    ana = register(event, "ana@example.org")
    mail.outbox.clear()
    delivery = Delivery.objects.get(registration=ana, kind="meeting_link")
    delivery.status = Delivery.Status.PENDING
    delivery.save()
    # A worker claims it, then dies before sending.
    now = SEND_AT + timedelta(minutes=2)
    assert services.claim(ids=[delivery.pk], now=now) == [delivery.pk]
    travel(now + timedelta(seconds=settings.NOTIFICATIONS_LEASE_SECONDS - 10))
    services.scan(now=now + timedelta(seconds=settings.NOTIFICATIONS_LEASE_SECONDS - 10))
    assert mail.outbox == []
    travel(now + timedelta(seconds=settings.NOTIFICATIONS_LEASE_SECONDS + 1))
    services.scan(now=now + timedelta(seconds=settings.NOTIFICATIONS_LEASE_SECONDS + 1))
    assert link_recipients() == ["ana@example.org"]


def test_registrant_who_cancels_before_the_send_gets_no_link(event, travel):
    travel(SEND_AT - timedelta(hours=5))
    ana = register(event, "ana@example.org")
    travel(SEND_AT + timedelta(seconds=5))
    Delivery.objects.create(event=event, registration=ana, kind="meeting_link")
    registration_services.cancel(registration=ana)
    mail.outbox.clear()
    travel(SEND_AT + timedelta(minutes=3))
    services.scan(now=SEND_AT + timedelta(minutes=3))
    assert link_recipients() == []
    assert Delivery.objects.get(kind="meeting_link").status == Delivery.Status.SKIPPED


def test_organiser_chosen_send_time_wins_over_the_default(event, travel):
    event.meeting_link_send_at = STARTS - timedelta(hours=2)
    event.save()
    travel(SEND_AT - timedelta(days=1))
    register(event, "ana@example.org")
    travel(SEND_AT + timedelta(hours=1))
    services.scan(now=SEND_AT + timedelta(hours=1))
    assert link_recipients() == []
    travel(STARTS - timedelta(hours=2))
    services.scan(now=STARTS - timedelta(hours=2))
    assert link_recipients() == ["ana@example.org"]


def test_no_link_after_the_event_ended(event, travel):
    travel(SEND_AT - timedelta(hours=1))
    register(event, "ana@example.org")
    mail.outbox.clear()
    after = event.ends_at + timedelta(minutes=1)
    travel(after)
    services.scan(now=after)
    assert link_recipients() == []


def test_send_now_refreshes_the_event_pages_registration_facts(event, travel):
    """The send time moves through events' services, which tell the page cache: the next
    page view reads the event as it is now, not a snapshot from before "send now"."""
    from events import cache as event_cache

    travel(STARTS - timedelta(days=3))
    register(event, "ana@example.org")
    before = event_cache.snapshot(event.pk)  # a page view: the snapshot is cached

    sent_at = STARTS - timedelta(days=2)
    travel(sent_at)
    assert services.send_meeting_links_now(event=event) == 1

    event.refresh_from_db()
    assert event.meeting_link_send_at == sent_at
    after = event_cache.snapshot(event.pk)
    assert after["stamp"] == event.updated_at.isoformat() != before["stamp"]
    assert link_recipients() == ["ana@example.org"]
