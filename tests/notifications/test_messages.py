"""Organisers' messages through the outbox, in process (eager Celery, locmem mail): who gets
them, when, in which language, once; late registrants, cancelling, editing mid-send."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from notifications import services
from notifications.models import Delivery, Message
from registration.models import Registration
from tests.notifications.conftest import ENDS, MEETING_URL, STARTS, html_of, register

REMINDER = {
    "key": "reminder-1h",
    "subject": "Starting in an hour: {event_title}",
    "body": "We start soon, {name}.\n\nJoin: {meeting_link}\n\nYour registration: {manage_link}",
    "send": Message.Send.BEFORE_START,
    "offset": timedelta(hours=1),
    "include_meeting_link": True,
    "state": Message.State.SCHEDULED,
    "translations": {
        "fr": {"subject": "Dans une heure : {event_title}", "body": "Bonjour {name}, à bientôt."}
    },
}


def make_message(event, **fields):
    values = {**REMINDER, **fields}
    message = Message(event=event, **values)
    message.full_clean()
    message.save()
    return message


def message_mail(subject_part):
    return [m for m in mail.outbox if subject_part in m.subject]


def test_reminder_reaches_each_confirmed_registrant_once_in_their_language(event, travel):
    travel(STARTS - timedelta(hours=3))
    amina = register(event, "amina@example.org", language="fr", name="Amina *Diallo*")
    register(event, "omar@example.org")
    waiting = register(event, "wait@example.org")
    Registration.objects.filter(pk=waiting.pk).update(status=Registration.Status.WAITLISTED)
    make_message(event)
    mail.outbox.clear()

    services.scan(now=STARTS - timedelta(hours=2))
    assert not message_mail("hour")  # not due yet

    travel(STARTS - timedelta(minutes=59))
    services.scan(now=STARTS - timedelta(minutes=59))
    services.scan(now=STARTS - timedelta(minutes=58))
    french = message_mail("Dans une heure")
    english = message_mail("Starting in an hour")
    assert [m.to for m in french] == [["amina@example.org"]]
    assert [m.to for m in english] == [["omar@example.org"]]
    assert "Bonjour Amina *Diallo*, à bientôt." in french[0].body
    # The name is shown as written, never read as Markdown.
    assert "Amina *Diallo*" in html_of(french[0])
    assert MEETING_URL in french[0].body  # include_meeting_link: the join block
    assert f'<a href="{MEETING_URL.replace("&", "&amp;")}" dir="ltr">' in html_of(english[0])
    assert "/en/r/" in english[0].body  # {manage_link}
    assert Delivery.objects.filter(kind="message", registration=amina).count() == 1


def test_late_registrant_gets_the_reminder_at_once_and_only_once(event, travel):
    travel(STARTS - timedelta(minutes=30))
    register(event, "early@example.org")
    make_message(event)
    services.scan(now=STARTS - timedelta(minutes=30))
    mail.outbox.clear()

    late = register(event, "late@example.org")
    assert [m.to for m in message_mail("Starting in an hour")] == [["late@example.org"]]
    services.scan(now=STARTS - timedelta(minutes=29))
    assert len(message_mail("Starting in an hour")) == 1
    assert Delivery.objects.filter(kind="message", registration=late).count() == 1


def test_a_reminder_follows_its_event_when_it_moves(event, travel):
    travel(STARTS - timedelta(minutes=50))
    register(event, "amina@example.org")
    make_message(event)
    event.starts_at, event.ends_at = STARTS + timedelta(days=1), ENDS + timedelta(days=1)
    event.save()
    services.scan(now=STARTS - timedelta(minutes=50))
    assert not message_mail("Starting in an hour")
    services.scan(now=STARTS + timedelta(days=1) - timedelta(minutes=50))
    assert len(message_mail("Starting in an hour")) == 1


def test_follow_up_goes_to_attendees_and_another_text_to_absentees(event, travel):
    travel(STARTS - timedelta(hours=2))
    came = register(event, "came@example.org")
    missed = register(event, "missed@example.org")
    thanks = make_message(
        event,
        key="thanks",
        subject="Thank you for coming",
        body="Slides attached.",
        send=Message.Send.AFTER_END,
        offset=timedelta(hours=2),
        include_meeting_link=False,
        translations={},
        audience={"attended": True},
    )
    make_message(
        event,
        key="sorry",
        subject="Sorry we missed you",
        body="Here is the recording.",
        send=Message.Send.AFTER_END,
        offset=timedelta(hours=2),
        include_meeting_link=False,
        translations={},
        audience={"attended": False},
    )
    travel(ENDS + timedelta(hours=3))
    services.scan(now=ENDS + timedelta(hours=3))
    assert not message_mail("Thank you") and not message_mail("Sorry")  # no report yet
    # The participant report arrives (issue 17's import sets these fields).
    Registration.objects.filter(pk=came.pk).update(attended=True)
    Registration.objects.filter(pk=missed.pk).update(attended=False)
    services.scan(now=ENDS + timedelta(hours=4))
    assert [m.to for m in message_mail("Thank you")] == [["came@example.org"]]
    assert [m.to for m in message_mail("Sorry")] == [["missed@example.org"]]
    thanks.refresh_from_db()
    assert thanks.state == Message.State.SENDING  # still catching up on late reports


def test_announcement_now_to_french_listeners_only(event, travel):
    travel(STARTS - timedelta(days=2))
    listener = register(event, "fr@example.org")
    Registration.objects.filter(pk=listener.pk).update(interpretation_language="fr")
    register(event, "en@example.org")
    message = make_message(
        event,
        key="speaker",
        subject="New speaker",
        body="A new speaker joins us.",
        send=Message.Send.NOW,
        include_meeting_link=False,
        translations={},
        state=Message.State.DRAFT,
        audience={"status": ["confirmed", "waitlisted"], "interpretation_language": ["fr"]},
    )
    assert services.count_message_recipients(message) == 1
    assert services.send_message_now(message=message) == 1
    assert [m.to for m in message_mail("New speaker")] == [["fr@example.org"]]
    message.refresh_from_db()
    # Due before the end: French listeners who register later still get it.
    assert message.state == Message.State.SENDING


def test_cancelled_message_skips_what_was_not_sent(event, travel):
    travel(STARTS - timedelta(hours=3))
    register(event, "amina@example.org")
    message = make_message(event)
    Delivery.objects.create(
        event=event,
        registration=Registration.objects.get(),
        kind="message",
        version=message.pk,
    )
    services.cancel_message(message=message)
    travel(STARTS - timedelta(minutes=30))
    services.scan(now=STARTS - timedelta(minutes=30))
    assert not message_mail("Starting in an hour")
    assert services.message_progress(message)["skipped"] == 1


def test_an_edit_after_sending_began_reaches_only_those_not_yet_sent(event, travel):
    travel(STARTS - timedelta(minutes=30))
    register(event, "first@example.org")
    message = make_message(event, translations={})
    services.scan(now=STARTS - timedelta(minutes=30))
    message.subject = "Corrected: starting in an hour"
    message.save()
    register(event, "second@example.org")
    subjects = {m.to[0]: m.subject for m in mail.outbox if "hour" in m.subject}
    assert subjects["first@example.org"].startswith("Starting in an hour")
    assert subjects["second@example.org"].startswith("Corrected")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"body": "Hello {nom}"}, "body"),
        ({"audience": {"status": ["waitlisted"]}}, "body"),  # {meeting_link} for the waitlist
        ({"audience": {"status": ["waitlisted"]}, "body": "Hi"}, "include_meeting_link"),
        ({"offset": None}, "offset"),
        ({"audience": {"affiliation": ["pirates"]}}, "audience"),
        ({"audience": {"answers": {"delegation": ["sn"]}}}, "audience"),
    ],
)
def test_a_message_breaking_a_rule_is_refused(event, fields, field):
    with pytest.raises(ValidationError) as refused:
        make_message(event, **fields)
    assert field in refused.value.message_dict


def test_audience_by_answer_to_a_choice_question_and_affiliation(event, travel):
    from registration.models import Question
    from registration.questions import forget_questions

    Question.objects.create(
        event=event,
        key="delegation",
        type=Question.Type.SELECT,
        label="Which Member State?",
        choices=[
            {"key": "sn", "label": {"en": "Senegal"}},
            {"key": "ma", "label": {"en": "Morocco"}},
        ],
    )
    forget_questions(event.pk)
    travel(STARTS - timedelta(days=2))
    for email, answer, affiliation in (
        ("sn@example.org", "sn", "member_state"),
        ("ma@example.org", "ma", "member_state"),
        ("ngo@example.org", "sn", "cso_ngo"),
    ):
        registration = register(event, email)
        Registration.objects.filter(pk=registration.pk).update(
            answers={"delegation": answer}, affiliation=affiliation
        )
    message = make_message(
        event,
        key="delegations",
        subject="For the Senegalese delegation",
        body="Hello",
        send=Message.Send.NOW,
        include_meeting_link=False,
        translations={},
        audience={"answers": {"delegation": ["sn"]}, "affiliation": ["member_state"]},
    )
    assert services.count_message_recipients(message) == 1
    services.send_message_now(message=message)
    assert [m.to for m in message_mail("Senegalese")] == [["sn@example.org"]]
