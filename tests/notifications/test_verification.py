"""Events that verify emails: a sign-up holds a seat until the emailed link is clicked, the
scan releases the holds nobody verified and the waiting list moves up (issue 18)."""

import re
from datetime import timedelta

import pytest
from django.core import mail

from events.models import Event
from notifications import services as notification_services
from notifications.models import Delivery
from registration.availability import event_availability
from registration.models import Registration
from registration.tasks import expire_verification_holds
from tests.conftest import BrowserClient as Client
from tests.notifications.conftest import (
    MEETING_URL,
    SEND_AT,
    STARTS,
    calendar_of,
    html_of,
    make_event,
    register,
)
from tests.registration.conftest import form_post

pytestmark = pytest.mark.django_db(transaction=True)

Status = Registration.Status
VERIFY_LINK = re.compile(r"https?://\S+/r/([A-Za-z0-9_-]{43})/verify/")


@pytest.fixture
def verified_event(travel):
    travel(STARTS - timedelta(days=5))
    return make_event(
        slug="verified", capacity=10, registration_mode=Event.RegistrationMode.VERIFY_EMAIL
    )


def verify_path(message):
    """The verification link of an email (checked in both parts), as a path."""
    text_link = VERIFY_LINK.search(message.body)
    assert text_link, message.body
    assert text_link.group(0) in html_of(message)
    return "/" + text_link.group(0).split("/", 3)[3]


def click(message):
    """What the person does: open the link, press the button."""
    client = Client()
    path = verify_path(message)
    page = client.get(path)
    assert page.status_code == 200
    assert "Confirm my email address" in page.content.decode()
    return client.post(path)


def emails_to(address):
    return [m for m in mail.outbox if m.to == [address]]


def test_a_sign_up_holds_a_seat_and_gets_only_the_verification_email(verified_event):
    held = register(verified_event, "ana@example.org", language="fr")

    assert held.status == Status.HELD
    assert event_availability(verified_event).seats_left == 9  # the hold counts
    [message] = mail.outbox
    assert message.subject.startswith("Veuillez confirmer votre adresse")
    assert "30 minutes" in message.body
    verify_path(message)
    assert calendar_of(message) is None  # no calendar entry for an unproven address
    assert MEETING_URL not in message.body


def test_opening_the_link_changes_nothing_pressing_the_button_confirms(verified_event):
    held = register(verified_event, "ana@example.org")
    [verification] = mail.outbox
    path = verify_path(verification)

    assert Client().get(path).status_code == 200  # a mail scanner opening every link
    held.refresh_from_db()
    assert held.status == Status.HELD

    response = click(verification)
    assert response.status_code == 302
    held.refresh_from_db()
    assert held.status == Status.CONFIRMED
    assert held.email_verified_at is not None
    confirmation = mail.outbox[-1]
    assert confirmation.subject == f"Registration confirmed: {verified_event.title}"
    assert "BEGIN:VEVENT" in calendar_of(confirmation)

    # The link again: the registration page, and nobody is told twice.
    again = Client()
    assert again.get(path).status_code == 302
    assert again.post(path).status_code == 302
    assert len(mail.outbox) == 2


def test_a_second_submission_resends_the_verification_and_looks_the_same(verified_event):
    client = Client()
    url = f"/en/events/{verified_event.slug}/register/"
    first = client.post(url, form_post(1, email="ana@example.org", preferred_language="en"))
    second = client.post(url, form_post(1, email="ANA@example.org", preferred_language="en"))

    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Registration.objects.filter(event=verified_event).count() == 1
    subjects = [m.subject for m in emails_to("ana@example.org")]
    assert subjects == [f"Please confirm your email address: {verified_event.title}"] * 2


def test_meeting_link_waits_for_the_verified_address(verified_event, travel):
    travel(SEND_AT + timedelta(minutes=1))
    register(verified_event, "ana@example.org")
    notification_services.scan(now=SEND_AT + timedelta(minutes=2))

    [verification] = mail.outbox
    assert MEETING_URL not in verification.body

    click(verification)
    [_, link] = mail.outbox
    assert MEETING_URL in link.body
    assert "BEGIN:VEVENT" in calendar_of(link)


def test_seat_squatting_holds_expire_and_the_real_people_move_up_each_told_once(
    verified_event, travel
):
    # One address fills the ten seats with invented addresses, as fast as the form allows.
    attacker = Client(REMOTE_ADDR="203.0.113.66")
    url = f"/en/events/{verified_event.slug}/register/"
    for n in range(10):
        attacker.post(url, form_post(n, email=f"fake{n}@mailinator.example"))
    assert event_availability(verified_event).seats_left == 0
    # The real people land on the waiting list, and click their links.
    real = ["ana@example.org", "ben@example.org", "cai@example.org"]
    for n, address in enumerate(real):
        Client(REMOTE_ADDR=f"198.51.100.{n + 1}").post(
            url, form_post(n, email=address, preferred_language="en")
        )
        [verification] = emails_to(address)
        click(verification)
    assert set(Registration.objects.filter(email__in=real).values_list("status", flat=True)) == {
        Status.WAITLISTED
    }
    # Someone who never clicks waits in vain, and takes nobody's place.
    register(verified_event, "dan@example.org")
    mail.outbox.clear()

    travel(STARTS - timedelta(days=5) + timedelta(minutes=29))
    assert expire_verification_holds() == 0
    travel(STARTS - timedelta(days=5) + timedelta(minutes=31))
    assert expire_verification_holds() == 11  # ten fake holds and dan's place
    assert expire_verification_holds() == 0  # the next scan: nothing left to do

    statuses = dict(Registration.objects.values_list("email", "status"))
    assert [statuses[address] for address in real] == [Status.CONFIRMED] * 3
    assert statuses["dan@example.org"] == Status.CANCELLED
    assert {statuses[f"fake{n}@mailinator.example"] for n in range(10)} == {Status.CANCELLED}
    assert event_availability(verified_event).seats_left == 7
    # Each real person is told once; the invented addresses are not written to again.
    assert sorted(m.to[0] for m in mail.outbox) == real
    assert {m.subject for m in mail.outbox} == {
        f"A place is free: you are now registered for {verified_event.title}"
    }
    promoted = Delivery.objects.filter(kind=Delivery.Kind.WAITLIST_PROMOTED)
    assert sorted(promoted.values_list("registration__email", flat=True)) == real


def test_a_click_after_the_hold_expired_registers_again_by_the_usual_rules(verified_event, travel):
    verified_event.capacity = 1
    verified_event.save()
    register(verified_event, "ana@example.org")
    [late] = mail.outbox
    travel(STARTS - timedelta(days=5) + timedelta(minutes=45))
    expire_verification_holds()
    register(verified_event, "ben@example.org")  # takes the freed seat (held)

    click(late)

    ana = Registration.objects.get(email="ana@example.org")
    assert ana.status == Status.WAITLISTED
    assert mail.outbox[-1].subject == f"You are on the waiting list: {verified_event.title}"


def test_an_open_event_confirms_at_once_as_before(travel):
    travel(STARTS - timedelta(days=5))
    event = make_event(slug="open", capacity=10)

    assert event.registration_mode == Event.RegistrationMode.OPEN
    assert register(event, "ana@example.org").status == Status.CONFIRMED
    assert mail.outbox[0].subject == f"Registration confirmed: {event.title}"


def test_the_hold_lasts_as_long_as_the_event_says(verified_event, travel, settings):
    settings.REGISTRATION_HOLD_MINUTES = 10
    verified_event.verification_hold_minutes = 90
    verified_event.save()
    register(verified_event, "ana@example.org")
    assert "90 minutes" in mail.outbox[0].body

    travel(STARTS - timedelta(days=5) + timedelta(minutes=60))
    assert expire_verification_holds() == 0
    travel(STARTS - timedelta(days=5) + timedelta(minutes=91))
    assert expire_verification_holds() == 1


def test_the_event_page_counts_held_seats_and_frees_them_when_they_expire(verified_event, travel):
    verified_event.capacity = 2
    verified_event.save()
    page = verified_event.get_absolute_url()
    register(verified_event, "ana@example.org")
    register(verified_event, "ben@example.org")
    assert "The event is full." in Client().get(page).content.decode()

    travel(STARTS - timedelta(days=5) + timedelta(minutes=31))
    expire_verification_holds()
    assert "2 places left." in Client().get(page).content.decode()
