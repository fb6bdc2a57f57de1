"""Messages in the event JSON: round trip, and every mistake refused naming its key."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError

from notifications.models import Message
from tests.events.test_exchange import event_json, folder, run, write  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

MESSAGES = [
    {
        "key": "reminder-1h",
        "send": {"before_start": "PT1H"},
        "audience": {"status": ["confirmed"]},
        "include_meeting_link": True,
        "subject": {"en": "Starting now: {event_title}", "fr": "Ça commence : {event_title}"},
        "body": {"en": "Join here: {meeting_link}"},
    },
    {
        "key": "thanks",
        "send": {"after_end": "PT2H30M"},
        "audience": {"attended": True, "interpretation_language": ["fr", "es"]},
        "include_meeting_link": False,
        "subject": {"en": "Thank you, {name}"},
        "body": {"en": "The slides are on the event page.", "es": "Las diapositivas."},
    },
    {
        "key": "new-concept-note",
        "send": {"at": "2031-06-18T09:00:00-04:00"},
        "audience": {"status": ["confirmed", "waitlisted", "pending_approval"]},
        "include_meeting_link": False,
        "subject": {"en": "A revised concept note"},
        "body": {"en": "Read it: {manage_link}"},
    },
    {
        "key": "welcome",
        "send": {"now": True},
        "include_meeting_link": False,
        "subject": {"en": "Welcome"},
        "body": {"en": "Hello"},
    },
]


def test_messages_round_trip_through_export_and_import(folder, tmp_path_factory):  # noqa: F811
    run("import_event", str(write(folder, event_json(messages=MESSAGES))))
    reminder = Message.objects.get(key="reminder-1h")
    assert reminder.offset == timedelta(hours=1) and reminder.send == "before_start"
    assert reminder.state == Message.State.SCHEDULED
    assert reminder.translated("subject", "fr") == "Ça commence : {event_title}"
    at = Message.objects.get(key="new-concept-note").send_at
    assert at == datetime(2031, 6, 18, 13, 0, tzinfo=UTC)
    first = json.loads(run("export_event", "imported"))
    assert first["messages"] == MESSAGES

    out = tmp_path_factory.mktemp("export")
    copy = {**first, "slug": "imported-copy", "documents": []}
    run("import_event", str(write(out, copy, "copy.json")))
    second = json.loads(run("export_event", "imported-copy"))
    assert second["messages"] == first["messages"]


def test_a_message_left_out_of_the_file_is_cancelled_not_deleted(folder):  # noqa: F811
    run("import_event", str(write(folder, event_json(messages=MESSAGES))))
    run("import_event", str(write(folder, event_json(messages=MESSAGES[:1]))))
    assert Message.objects.get(key="thanks").state == Message.State.CANCELLED
    exported = json.loads(run("export_event", "imported"))
    assert [m["key"] for m in exported["messages"]] == ["reminder-1h"]


def bad(index, **changes):
    messages = [dict(message) for message in MESSAGES]
    messages[index].update(changes)
    return messages


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        ("nope", "messages: expected a list of messages"),
        (bad(0, key="Reminder 1h"), "messages[0].key: 'Reminder 1h' is not"),
        (bad(1, key="reminder-1h"), "messages[1].key: duplicate key 'reminder-1h'"),
        (bad(0, send={"before_start": "an hour"}), "messages[0].send.before_start: 'an hour'"),
        (bad(0, send={"soon": True}), "messages[0].send: expected one of"),
        (bad(2, send={"at": "2031-06-18T09:00"}), "messages[2].send.at:"),
        (bad(0, colour="red"), "messages[0].colour: unknown key"),
        (bad(0, subject={"de": "Hallo"}), "messages[0].subject.de: unknown language"),
        (bad(0, body={"fr": "Seulement en français"}), "messages[0].body.en: missing"),
        (bad(1, body={"en": "Hello {nom}"}), "messages[1].body: thanks: Unknown placeholder {nom}"),
        (
            bad(2, body={"en": "Join: {meeting_link}"}),
            "messages[2].body: new-concept-note: {meeting_link} is allowed only",
        ),
        (
            bad(2, include_meeting_link=True),
            "messages[2].include_meeting_link: new-concept-note:",
        ),
        (
            bad(1, audience={"answers": {"delegation": ["sn"]}}),
            "messages[1].audience: thanks: answers:",
        ),
        (
            bad(1, audience={"colour": ["red"]}),
            "messages[1].audience: thanks: colour: Unknown key.",
        ),
    ],
)
def test_a_bad_message_is_refused_naming_its_key(folder, messages, expected):  # noqa: F811
    with pytest.raises(CommandError) as error:
        run("import_event", str(write(folder, event_json(messages=messages))))
    assert expected in str(error.value)
    assert not Message.objects.exists()
