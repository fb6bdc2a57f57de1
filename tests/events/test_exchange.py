import json
import re
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from events.demo.pdf import simple_pdf
from events.models import Document, Event, Speaker

pytestmark = pytest.mark.django_db


def event_json(**overrides):
    data = {
        "slug": "imported",
        "title": "Imported event",
        "summary": "Summary",
        "description": "Some *Markdown*.",
        "expected_outcomes": ["First outcome", "Second outcome"],
        "starts_at": "2031-06-20T12:30:00-04:00",
        "ends_at": "2031-06-20T14:00:00-04:00",
        "timezone": "America/New_York",
        "format": "virtual",
        "status": "published",
        "meeting_url": "https://meet.example.org/j/123",
        "meeting_details": "Passcode 1",
        "capacity": 300,
        "waitlist": True,
        "approval": "organiser",
        "registration_opens_at": "2031-06-01T09:00:00-04:00",
        "registration_closes_at": None,
        "meeting_link_send_at": None,
        "interpretation_languages": ["en", "fr", "ar"],
        "translations": {"fr": {"title": "Événement importé"}},
        "agenda": [
            {
                "starts_at": "2031-06-20T12:30:00-04:00",
                "ends_at": "2031-06-20T13:00:00-04:00",
                "title": "Opening",
                "description": "",
                "speakers": [{"name": "Ana Ruiz", "title": "Director", "organisation": "NGO One"}],
                "translations": {"es": {"title": "Apertura"}},
            },
            {
                "starts_at": "2031-06-20T13:00:00-04:00",
                "ends_at": None,
                "title": "Panel",
                "description": "Discussion",
                "speakers": [
                    {"name": "Ana Ruiz", "title": "Director", "organisation": "NGO One"},
                    {"name": "Li Wei", "title": "", "organisation": ""},
                ],
            },
        ],
        "documents": [
            {"kind": "concept_note", "title": "Concept note", "language": "en", "path": "note.pdf"}
        ],
    }
    data.update(overrides)
    return data


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "note.pdf").write_bytes(simple_pdf("Concept note", ["Text."]))
    return tmp_path


def write(folder, data, name="event.json"):
    path = folder / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_import_creates_the_event_with_agenda_speakers_and_documents(folder):
    run("import_event", str(write(folder, event_json())))
    event = Event.objects.get(slug="imported")
    assert event.starts_at == datetime(2031, 6, 20, 16, 30, tzinfo=UTC)
    assert event.approval == "organiser" and event.capacity == 300
    assert event.expected_outcomes == "First outcome\nSecond outcome"
    assert event.translated("title", "fr") == "Événement importé"
    assert [item.title for item in event.agenda_items.all()] == ["Opening", "Panel"]
    assert Speaker.objects.filter(name="Ana Ruiz").count() == 1
    assert event.agenda_items.get(title="Panel").speakers.count() == 2
    document = event.documents.get()
    assert (document.kind, document.content_type) == ("concept_note", "application/pdf")


def test_export_then_import_round_trips(folder, tmp_path_factory):
    run("import_event", str(write(folder, event_json())))
    out = tmp_path_factory.mktemp("export") / "event.json"
    run("export_event", "imported", "--output", str(out))
    first = json.loads(out.read_text(encoding="utf-8"))

    # Import the export as a second event, then export that: the same JSON (but the slug).
    first_copy = {**first, "slug": "imported-copy"}
    run("import_event", str(write(out.parent, first_copy, "copy.json")))
    second = json.loads(run("export_event", "imported-copy"))

    def comparable(data):
        return {**data, "slug": None, "documents": [{**d, "path": None} for d in data["documents"]]}

    assert comparable(second) == comparable(first)
    assert first["starts_at"] == "2031-06-20T12:30:00-04:00"
    assert first["agenda"][0]["translations"] == {"es": {"title": "Apertura"}}
    assert first["meeting_url"] == "https://meet.example.org/j/123"


def test_export_to_a_folder_copies_documents_beside_the_json(folder, tmp_path_factory):
    run("import_event", str(write(folder, event_json())))
    out = tmp_path_factory.mktemp("export") / "event.json"
    run("export_event", "imported", "--output", str(out))
    data = json.loads(out.read_text(encoding="utf-8"))
    assert (out.parent / data["documents"][0]["path"]).read_bytes().startswith(b"%PDF-")
    # and the exported folder imports again as it is
    Event.objects.all().delete()
    run("import_event", str(out))
    assert Event.objects.get(slug="imported").documents.count() == 1


def test_import_updates_by_slug(folder):
    run("import_event", str(write(folder, event_json())))
    run("import_event", str(write(folder, event_json(title="New title", agenda=[]))))
    event = Event.objects.get(slug="imported")
    assert event.title == "New title"
    assert not event.agenda_items.exists()
    assert Event.objects.count() == 1


def without(data, key):
    return {name: value for name, value in data.items() if name != key}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (event_json(timezone="America/Gotham"), "timezone: 'America/Gotham' is not an IANA"),
        (without(event_json(), "starts_at"), "starts_at: missing (required)"),
        (event_json(ends_at="25/06/2031 14:00"), "ends_at: '25/06/2031 14:00' is not an ISO 8601"),
        (
            event_json(starts_at="2031-06-20T12:30:00"),
            "starts_at: '2031-06-20T12:30:00' has no UTC offset",
        ),
        (
            event_json(interpretation_languages=["en", "de"]),
            "interpretation_languages[1]: unknown language 'de'",
        ),
        (
            event_json(documents=[{"title": "x", "path": "note.pdf", "language": "pt"}]),
            "documents[0].language: unknown language 'pt'",
        ),
        (event_json(translations={"it": {"title": "x"}}), "translations.it: unknown language 'it'"),
        (
            event_json(agenda=[{"starts_at": "tomorrow", "title": "x"}]),
            "agenda[0].starts_at: 'tomorrow' is not an ISO 8601",
        ),
        (
            event_json(ends_at="2031-06-20T11:00:00-04:00"),
            "ends_at: The event must end after it starts.",
        ),
        (event_json(capacity=-5), "capacity: must be 0 or more"),
        (event_json(titel="typo"), "titel: unknown key"),
        (
            event_json(documents=[{"title": "x", "path": "missing.pdf"}]),
            "documents[0].path: no such file",
        ),
    ],
)
def test_bad_input_names_the_key_and_changes_nothing(folder, data, message):
    run("import_event", str(write(folder, event_json(slug="imported", title="Original"))))
    before = json.loads(run("export_event", "imported"))
    bad = {**data, "slug": "imported"}
    with pytest.raises(CommandError) as error:
        run("import_event", str(write(folder, bad, "bad.json")))
    assert message in str(error.value)
    assert "nothing was changed" in str(error.value)
    assert json.loads(run("export_event", "imported")) == before
    assert Event.objects.count() == 1


def test_a_renamed_program_is_refused_as_a_document(folder):
    (folder / "agenda.pdf").write_bytes(b"MZ\x90\x00" + b"\x00" * 500)
    data = event_json(documents=[{"title": "Agenda", "path": "agenda.pdf"}])
    with pytest.raises(CommandError) as error:
        run("import_event", str(write(folder, data)))
    assert "documents[0].path: This file is not a real PDF document" in str(error.value)
    assert not Event.objects.exists()


def test_export_of_an_unknown_slug_says_so():
    with pytest.raises(CommandError, match="slug: no event 'nope'"):
        run("export_event", "nope")


@pytest.fixture
def outside(tmp_path_factory):
    """A real PDF in another folder: what a hostile event file would try to publish."""
    path = tmp_path_factory.mktemp("elsewhere") / "secret.pdf"
    path.write_bytes(simple_pdf("Not for publishing", ["Private."]))
    return path


@pytest.mark.parametrize("kind", ["absolute", "dot-dot", "symlink"])
def test_documents_outside_the_json_files_folder_are_refused(folder, outside, kind):
    if kind == "absolute":
        named = str(outside)
    elif kind == "dot-dot":
        named = f"../{outside.parent.name}/{outside.name}"
    else:
        (folder / "link.pdf").symlink_to(outside)
        named = "link.pdf"
    data = event_json(documents=[{"title": "Agenda", "path": named}])
    with pytest.raises(CommandError) as error:
        run("import_event", str(write(folder, data)))
    assert f"documents[0].path: {named!r} is outside the folder of the JSON file" in str(
        error.value
    )
    assert not Event.objects.exists()
    assert not Document.objects.exists()


def test_documents_in_a_subfolder_are_fine(folder):
    (folder / "docs").mkdir()
    (folder / "note.pdf").rename(folder / "docs" / "note.pdf")
    data = event_json(documents=[{"title": "Concept note", "path": "docs/note.pdf"}])
    run("import_event", str(write(folder, data)))
    assert Event.objects.get(slug="imported").documents.count() == 1


def test_teams_import_and_export_by_slug(folder):
    from events.models import Team

    Team.objects.create(slug="unoct", name="UNOCT")
    Team.objects.create(slug="morocco", name="Permanent Mission of Morocco")
    run("import_event", str(write(folder, event_json(teams=["unoct", "morocco"]))))
    event = Event.objects.get(slug="imported")
    assert sorted(event.teams.values_list("slug", flat=True)) == ["morocco", "unoct"]
    assert json.loads(run("export_event", "imported"))["teams"] == ["morocco", "unoct"]
    # Left out on an update: the event keeps its teams.
    run("import_event", str(write(folder, event_json())))
    assert event.teams.count() == 2


def test_an_unknown_team_is_an_error_naming_the_key(folder):
    from events.models import Team

    Team.objects.create(slug="unoct", name="UNOCT")
    with pytest.raises(CommandError, match=r"teams\[1\]: 'nobody' is not a team"):
        run("import_event", str(write(folder, event_json(teams=["unoct", "nobody"]))))


def test_who_may_register_travels_with_the_event(folder, tmp_path_factory):
    data = event_json(
        registration_mode="code",
        verification_hold_minutes=45,
        access_codes=[
            {"code": "delegates-2031", "max_uses": 50},
            {"code": "PRESS", "max_uses": None},
        ],
    )
    run("import_event", str(write(folder, data)))
    event = Event.objects.get(slug="imported")
    assert (event.registration_mode, event.verification_hold_minutes) == ("code", 45)

    exported = json.loads(run("export_event", "imported"))
    assert exported["registration_mode"] == "code"
    assert exported["verification_hold_minutes"] == 45
    assert exported["access_codes"] == [
        {"code": "DELEGATES-2031", "max_uses": 50},
        {"code": "PRESS", "max_uses": None},
    ]


def test_an_event_with_a_capacity_verifies_emails_unless_the_file_says_otherwise(folder):
    run("import_event", str(write(folder, event_json(slug="limited", capacity=40))))
    run("import_event", str(write(folder, event_json(slug="unlimited", capacity=None))))
    run("import_event", str(write(folder, event_json(slug="said", registration_mode="open"))))

    modes = dict(Event.objects.values_list("slug", "registration_mode"))
    assert modes == {"limited": "verify_email", "unlimited": "open", "said": "open"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"registration_mode": "lottery"}, "registration_mode: 'lottery' is not one of"),
        ({"verification_hold_minutes": 0}, "verification_hold_minutes: expected a whole number"),
        ({"access_codes": [{"code": "A B"}]}, "access_codes[0].code: Use letters, digits"),
        (
            {"access_codes": [{"code": "x1"}, {"code": "X1"}]},
            "access_codes[1].code: 'X1' is listed twice",
        ),
        ({"access_codes": [{"code": "X1", "uses": 3}]}, "access_codes[0].uses: unknown key"),
    ],
)
def test_bad_access_settings_are_refused_by_key(folder, overrides, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        run("import_event", str(write(folder, event_json(**overrides))))
    assert not Event.objects.filter(slug="imported").exists()


def test_an_invitation_only_event_travels_and_a_missing_contact_is_warned(folder):
    said = run(
        "import_event",
        str(write(folder, event_json(registration_mode="invitation", contact_email=""))),
    )
    assert Event.objects.get(slug="imported").registration_mode == "invitation"
    assert "people who were not invited have nobody to ask" in said

    assert json.loads(run("export_event", "imported"))["registration_mode"] == "invitation"
