"""People who signed up for an event that verifies emails and have not clicked the link yet
(a held seat, or a waiting-list place awaiting verification) asked to come: they are told
when the event is cancelled and when its time changes, and the verification link keeps
working after a change, its email stating the time read when it is sent."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from events import services as event_services
from events.models import Event
from notifications import services
from notifications.emails import build_message
from notifications.models import Delivery
from notifications.services import sending
from registration.models import Registration
from registration.tasks import expire_verification_holds
from tests.notifications.conftest import STARTS, html_of, make_event, register
from tests.notifications.test_verification import click, verify_path

pytestmark = pytest.mark.django_db(transaction=True)

Status = Registration.Status
BEFORE = "Was: Friday, June 25, 2021, 12:30 p.m.\u20132 p.m. EDT"
NOW = "Now: Friday, June 25, 2021, 1 p.m.\u20132:30 p.m. EDT"


@pytest.fixture
def verified_event(travel):
    travel(STARTS - timedelta(days=3))
    return make_event(
        slug="verified", capacity=1, registration_mode=Event.RegistrationMode.VERIFY_EMAIL
    )


def mail_to(address):
    return [m for m in mail.outbox if m.to == [address]]


def move(event, *, minutes):
    event.refresh_from_db()
    event.starts_at += timedelta(minutes=minutes)
    event.ends_at += timedelta(minutes=minutes)
    event_services.save_event(event=event, changed_fields={"starts_at", "ends_at"})


def settle(travel, settings, when):
    settled = when + timedelta(minutes=settings.EVENT_CHANGE_NOTICE_DELAY_MINUTES + 1)
    travel(settled)
    services.scan(now=settled)


def test_unverified_holders_are_told_the_event_is_cancelled(verified_event):
    held = register(verified_event, "ana@example.org")
    waiting = register(verified_event, "eva@example.org")
    assert (held.status, waiting.status) == (Status.HELD, Status.WAITLISTED)
    assert waiting.email_verified_at is None
    mail.outbox.clear()

    event_services.cancel_event(event=verified_event)

    for address in ("ana@example.org", "eva@example.org"):
        (notice,) = mail_to(address)
        assert "has been cancelled" in notice.body
        assert "/verify/" not in notice.body  # nothing left to confirm


def test_a_held_seat_hears_the_new_time_and_can_still_confirm(verified_event, travel, settings):
    settings.REGISTRATION_HOLD_MINUTES = 60
    verified_event.refresh_from_db()
    held = register(verified_event, "ana@example.org")
    waiting = register(verified_event, "eva@example.org")
    (first_link,) = mail_to("ana@example.org")
    mail.outbox.clear()

    changed_at = STARTS - timedelta(days=3) + timedelta(minutes=5)
    travel(changed_at)
    move(verified_event, minutes=30)
    settle(travel, settings, changed_at)

    (to_ana,) = mail_to("ana@example.org")
    (to_eva,) = mail_to("eva@example.org")
    for notice in (to_ana, to_eva):
        assert notice.subject.startswith("New time")
        for body in (notice.body, html_of(notice)):
            assert BEFORE in body
            assert NOW in body
            assert "Your email address is not confirmed yet." in body
        verify_path(notice)  # in both parts
    assert Delivery.objects.filter(kind=Delivery.Kind.TIME_CHANGED).count() == 2

    # The link from before the change still takes the seat, and the confirmation that
    # follows states the new time.
    mail.outbox.clear()
    assert click(first_link).status_code == 302
    held.refresh_from_db()
    assert held.status == Status.CONFIRMED
    (confirmation,) = mail_to("ana@example.org")
    assert "When: Friday, June 25, 2021, 1 p.m.\u20132:30 p.m. EDT" in confirmation.body
    waiting.refresh_from_db()
    assert waiting.status == Status.WAITLISTED


def test_a_confirmed_registrant_gets_no_verification_link_with_the_new_time(
    event, travel, settings
):
    travel(STARTS - timedelta(days=3))
    register(event, "ana@example.org")  # an open event: confirmed at once
    mail.outbox.clear()
    changed_at = STARTS - timedelta(days=3) + timedelta(minutes=5)
    travel(changed_at)
    move(event, minutes=30)
    settle(travel, settings, changed_at)
    (notice,) = mail_to("ana@example.org")
    assert NOW in notice.body
    assert "not confirmed yet" not in notice.body
    assert "/verify/" not in notice.body


def test_a_hold_released_before_the_notice_goes_out_is_not_told(verified_event, travel):
    held = register(verified_event, "ana@example.org")
    mail.outbox.clear()
    move(verified_event, minutes=30)
    notice = Delivery.objects.create(
        registration=held, event=verified_event, kind=Delivery.Kind.TIME_CHANGED, version=1
    )
    travel(STARTS - timedelta(days=3) + timedelta(minutes=31))
    expire_verification_holds()
    notice = Delivery.objects.select_related("registration", "event").get(pk=notice.pk)
    assert sending.not_applicable(notice, now=timezone.now()) == "The registration is cancelled."


def test_the_verification_email_states_the_time_read_when_it_is_sent(verified_event, travel):
    """A verification email held back (a retry after a provider error) and sent after the
    change states the new time, and counts as telling it: no separate notice follows."""
    held = register(verified_event, "ana@example.org")
    delivery = Delivery.objects.get(registration=held, kind=Delivery.Kind.VERIFY_EMAIL)
    move(verified_event, minutes=30)
    delivery.refresh_from_db()
    message = build_message(delivery=delivery)
    assert "When: Friday, June 25, 2021, 1 p.m.\u20132:30 p.m. EDT" in message.body
    assert "/verify/" in message.body


def test_a_verification_email_queued_after_the_change_counts_as_telling_the_new_time(
    verified_event, travel, settings
):
    from notifications.services.changes import _lacking_time_notice

    held = register(verified_event, "ana@example.org")
    changed_at = STARTS - timedelta(days=3) + timedelta(minutes=5)
    travel(changed_at)
    move(verified_event, minutes=30)
    verified_event.refresh_from_db()
    assert list(_lacking_time_notice(verified_event)) == [held]
    # The verification email again, after the change (as a repeated sign-up sends it).
    travel(changed_at + timedelta(minutes=1))
    Delivery.objects.create(
        registration=held, event=verified_event, kind=Delivery.Kind.VERIFY_EMAIL, version=1
    )
    assert list(_lacking_time_notice(verified_event)) == []
