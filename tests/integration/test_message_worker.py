"""Organisers' messages end to end: a real `celery -A config worker`, Redis, PostgreSQL and
an SMTP server (as tests/integration/test_meeting_link_worker.py, whose worker fixtures
these tests share). A reminder an hour before, a late registrant, follow-ups to attendees
and absentees once attendance is known, an announcement to French listeners, and a worker
killed mid-send.
"""

import time
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from events.models import Event
from notifications import services
from notifications.models import Delivery, Message
from registration import services as registration_services
from registration.models import Registration
from tests.integration.test_meeting_link_worker import (  # noqa: F401 (fixtures)
    LEASE_SECONDS,
    real_services,
    scan_for_lost_work,
    wait_until,
    worker_factory,
)
from tests.notifications.smtp_server import SMTPServer

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
MEETING_URL = "https://meet.example.org/j/8675309"
LANGUAGES = ["en", "fr", "es", "ar"]
SUBJECTS = {
    "en": "Starting in one hour",
    "fr": "Début dans une heure",
    "es": "Comienza en una hora",
    "ar": "يبدأ بعد ساعة",
}


def side_event(*, starts_in, lasts=timedelta(hours=1, minutes=30)):
    now = timezone.now()
    return Event.objects.create(
        slug="csos-in-prisons",
        title="Engagement of CSOs in the management of VEPs in prisons",
        starts_at=now + starts_in,
        ends_at=now + starts_in + lasts,
        timezone="America/New_York",
        status=Event.Status.PUBLISHED,
        meeting_url=MEETING_URL,
        # The meeting link itself went out long ago: only the messages are under test.
        meeting_link_send_at=now + starts_in - timedelta(days=2),
    )


def crowd(event, count, **fields):
    """`count` confirmed registrants, languages in turn, plus people the reminder is not for."""
    now = timezone.now()
    statuses = [Registration.Status.CONFIRMED] * count + [
        Registration.Status.WAITLISTED,
        Registration.Status.PENDING_APPROVAL,
        Registration.Status.CANCELLED,
    ]
    Registration.objects.bulk_create(
        Registration(
            event=event,
            email=f"person{number}@example.org",
            name=f"Person {number}",
            consent_at=now,
            status=status,
            preferred_language=LANGUAGES[number % len(LANGUAGES)],
            **fields,
        )
        for number, status in enumerate(statuses)
    )
    # Nobody lacks the meeting link: the scan must queue the messages alone.
    Delivery.objects.bulk_create(
        Delivery(event=event, registration=registration, kind="meeting_link", status="sent")
        for registration in event.registrations.filter(status="confirmed")
    )
    return {
        f"person{number}@example.org": LANGUAGES[number % len(LANGUAGES)] for number in range(count)
    }


def reminder(event):
    return Message.objects.create(
        event=event,
        key="reminder-1h",
        subject=SUBJECTS["en"] + ": {event_title}",
        body="Hello {name}, we start in an hour: {meeting_link}",
        translations={
            code: {"subject": SUBJECTS[code] + ": {event_title}"} for code in ("fr", "es", "ar")
        },
        send=Message.Send.BEFORE_START,
        offset=timedelta(hours=1),
        include_meeting_link=True,
        state=Message.State.SCHEDULED,
    )


def received(smtp, starting):
    """{recipient: [subject, ...]} of the emails whose subject starts with one of `starting`."""
    found: dict[str, list[str]] = {}
    for message in list(smtp.recorder.messages):
        subject = str(message["Subject"])
        if subject.startswith(tuple(starting)):
            found.setdefault(str(message["To"]), []).append(subject)
    return found


def body_of(smtp, recipient):
    for message in list(smtp.recorder.messages):
        if str(message["To"]) == recipient:
            return message.get_body(preferencelist=("plain",)).get_content()
    return ""


def all_sent(message):
    rows = Delivery.objects.filter(kind="message", version=message.pk)
    return rows.exists() and not rows.exclude(status="sent").exists()


def test_reminder_reaches_every_confirmed_registrant_once_in_their_language_then_a_late_one(
    worker_factory,  # noqa: F811
):
    event = side_event(starts_in=timedelta(minutes=50))
    expected = crowd(event, 40)
    message = reminder(event)
    smtp = SMTPServer().start()
    try:
        worker = worker_factory(smtp.port)
        worker.start()
        services.scan(now=timezone.now())
        wait_until(lambda: all_sent(message), timeout=60, worker=worker, what="the reminders")
        late = registration_services.register(
            event=event,
            data={
                "email": "late@example.org",
                "name": "Late Comer",
                "consent": True,
                "preferred_language": "fr",
            },
        ).registration
        assert late.status == Registration.Status.CONFIRMED
        wait_until(
            lambda: "late@example.org" in received(smtp, SUBJECTS.values()),
            timeout=30,
            worker=worker,
            what="the late registrant's reminder, without a scan",
        )
        services.scan(now=timezone.now())  # a scan afterwards adds nobody
        time.sleep(1)
        got = received(smtp, SUBJECTS.values())
    finally:
        smtp.stop()
    assert set(got) == {*expected, "late@example.org"}
    for address, language in {**expected, "late@example.org": "fr"}.items():
        assert len(got[address]) == 1, address
        assert got[address][0].startswith(SUBJECTS[language])
    assert MEETING_URL in body_of(smtp, "person1@example.org")


def test_follow_ups_go_to_attendees_and_absentees_once_the_report_is_in(
    worker_factory,  # noqa: F811
):
    event = side_event(starts_in=-timedelta(hours=5), lasts=timedelta(hours=1))
    crowd(event, 10)
    common = {
        "event": event,
        "send": Message.Send.AFTER_END,
        "offset": timedelta(hours=2),
        "state": Message.State.SCHEDULED,
    }
    thanks = Message.objects.create(
        key="thanks",
        subject="Thank you for joining",
        body="The slides: https://example.org/slides",
        audience={"attended": True},
        **common,
    )
    sorry = Message.objects.create(
        key="sorry",
        subject="Sorry we missed you",
        body="The recording: https://example.org/recording",
        audience={"attended": False},
        **common,
    )
    smtp = SMTPServer().start()
    try:
        worker = worker_factory(smtp.port)
        worker.start()
        services.scan(now=timezone.now())
        assert not Delivery.objects.filter(kind="message").exists()  # no report yet
        # The participant report is imported (the attendance import writes these fields).
        people = list(event.registrations.filter(status="confirmed").order_by("pk"))
        came = {p.email for p in people[:6]}
        Registration.objects.filter(email__in=came).update(attended=True, minutes_attended=50)
        Registration.objects.filter(event=event).exclude(email__in=came).update(attended=False)
        services.scan(now=timezone.now())
        wait_until(
            lambda: all_sent(thanks) and all_sent(sorry),
            timeout=60,
            worker=worker,
            what="both follow-ups",
        )
        time.sleep(0.5)
        got = received(smtp, ["Thank you", "Sorry"])
    finally:
        smtp.stop()
    assert {a for a, s in got.items() if s == ["Thank you for joining"]} == came
    absentees = {p.email for p in people[6:]}
    assert {a for a, s in got.items() if s == ["Sorry we missed you"]} == absentees


def test_announcement_now_reaches_only_the_french_listeners(worker_factory):  # noqa: F811
    event = side_event(starts_in=timedelta(days=3))
    crowd(event, 12)
    french = set(
        event.registrations.filter(status="confirmed")
        .order_by("pk")
        .values_list("email", flat=True)[:5]
    )
    Registration.objects.filter(email__in=french).update(interpretation_language="fr")
    message = Message.objects.create(
        event=event,
        key="new-speaker",
        subject="A new speaker",
        body="**Ms Amina Diallo** joins the panel.",
        send=Message.Send.NOW,
        audience={"interpretation_language": ["fr"]},
    )
    smtp = SMTPServer().start()
    try:
        worker = worker_factory(smtp.port)
        worker.start()
        assert services.count_message_recipients(message) == 5
        services.send_message_now(message=message)
        wait_until(lambda: all_sent(message), timeout=60, worker=worker, what="the announcement")
        time.sleep(0.5)
        got = received(smtp, ["A new speaker"])
    finally:
        smtp.stop()
    assert got == {address: ["A new speaker"] for address in french}


def test_killed_worker_repeats_at_most_the_messages_in_flight(worker_factory):  # noqa: F811
    count = 150
    event = side_event(starts_in=timedelta(minutes=50))
    expected = crowd(event, count)
    message = reminder(event)
    smtp = SMTPServer().start()
    smtp.recorder.delay = 0.01  # a provider that takes a moment per message
    try:
        worker = worker_factory(smtp.port)
        worker.start()
        services.scan(now=timezone.now())
        wait_until(
            lambda: len(received(smtp, SUBJECTS.values())) >= count // 3,
            timeout=60,
            worker=worker,
            what="the first third of the reminders",
        )
        worker.kill()
        in_flight = Delivery.objects.filter(kind="message", status="sending").count()
        at_kill = sum(len(s) for s in received(smtp, SUBJECTS.values()).values())
        assert at_kill < count, "the kill came too late to prove anything"
        worker = worker_factory(smtp.port)
        worker.start()
        time.sleep(LEASE_SECONDS + 1)
        scan_for_lost_work()
        wait_until(lambda: all_sent(message), timeout=90, worker=worker, what="every reminder")
        time.sleep(0.5)
        got = Counter({a: len(s) for a, s in received(smtp, SUBJECTS.values()).items()})
    finally:
        smtp.stop()
    assert set(got) == set(expected)
    duplicates = sum(got.values()) - count
    print(f"killed with {in_flight} in flight after {at_kill} sent; {duplicates} twice")
    assert duplicates <= in_flight
