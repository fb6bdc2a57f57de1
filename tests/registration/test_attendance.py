"""Importing a meeting's participant report: each product's export (samples/, written to the
columns each product documents), matching by address, minutes present, and the refusals."""

import codecs
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from events.models import AuditEntry
from registration import services
from registration.attendance import MAX_REPORT_BYTES, ReportError, Unmatched, import_attendance
from registration.attendance.formats import parse
from registration.attendance.reading import decode, minutes
from registration.models import Registration
from tests.registration.conftest import person

SAMPLES = Path(__file__).parent / "samples"


def sample(name):
    return (SAMPLES / name).read_bytes()


@pytest.fixture
def registrants(event):
    """Amina 1 and Li Wei (registered as li.wei@exämple.org) attend every sample meeting,
    Amina 2 does not; Changed Mind cancelled before the day."""
    amina = services.register(event=event, data=person(1)).registration
    absent = services.register(event=event, data=person(2)).registration
    li_wei = services.register(
        event=event, data=person(3, name="Li Wei", email="Li.Wei@EXÄMPLE.org")
    ).registration
    changed = services.register(
        event=event, data=person(4, name="Changed Mind", email="changed.mind@example.org")
    ).registration
    services.cancel(registration=changed)
    return {"amina": amina, "absent": absent, "li_wei": li_wei, "changed": changed}


def attendance(registration):
    registration.refresh_from_db()
    return registration.attended, registration.minutes_attended


def test_zoom_meeting_report_with_its_header_block(event, registrants):
    result = import_attendance(event=event, data=sample("zoom_meeting_participants.csv"))

    assert result.report == "Zoom meeting participants report"
    # Amina joined on a laptop, then also on her phone, rejoined: 10:01:05 to 11:30 covered
    # once (88 min 55 s), not the 93 minutes of the three rows added up.
    assert attendance(registrants["amina"]) == (True, 89)
    # Registered as Li.Wei@EXÄMPLE.org, in the report as li.wei@exämple.org.
    assert attendance(registrants["li_wei"]) == (True, 61)
    assert attendance(registrants["absent"]) == (False, 0)
    assert attendance(registrants["changed"]) == (None, None)
    assert (result.attended, result.absent) == (2, 1)
    unmatched = {(p.name, p.email, p.reason) for p in result.unmatched}
    assert unmatched == {
        ("UNODC Host", "host@unodc.example.org", Unmatched.NOT_REGISTERED),
        ("Walk In", "walk.in@elsewhere.example.net", Unmatched.NOT_REGISTERED),
        ("Changed Mind", "changed.mind@example.org", Unmatched.CANCELLED),
        # The dial-in reconnected: one person, listed once.
        ("+1 212 555 0100", "", Unmatched.NO_EMAIL),
    }


def test_zoom_webinar_attendee_report_reads_every_section(event, registrants):
    result = import_attendance(event=event, data=sample("zoom_webinar_attendee_report.csv"))

    assert result.report == "Zoom webinar attendee report"
    assert attendance(registrants["amina"]) == (True, 60)
    assert attendance(registrants["li_wei"]) == (True, 90)  # from "Panelist Details"
    # Listed under "Attendee Details" with Attended = No: registered, never came.
    assert attendance(registrants["absent"]) == (False, 0)


def test_teams_attendance_report_in_utf16_with_tabs(event, registrants):
    data = sample("teams_attendance_report.csv")
    assert data.startswith(codecs.BOM_UTF16_LE)

    result = import_attendance(event=event, data=data)

    assert result.report == "Microsoft Teams attendance report"
    assert attendance(registrants["amina"]) == (True, 80)  # "1h 20m 5s"
    # No Email cell, but a Participant ID (UPN) that is an address.
    assert attendance(registrants["li_wei"]) == (True, 45)
    assert attendance(registrants["absent"]) == (False, 0)
    # "3. In-Meeting Activities" repeats the people per connection: not counted again.
    assert result.rows == 4
    assert ("Guest Caller (Unverified)", "", Unmatched.NO_EMAIL) in {
        (p.name, p.email, p.reason) for p in result.unmatched
    }


def test_webex_meeting_attendee_report(event, registrants):
    result = import_attendance(event=event, data=sample("webex_meeting_attendee_report.csv"))

    assert result.report == "Webex meeting attendee report"
    assert attendance(registrants["amina"]) == (True, 55)  # two connections, 30 + 25
    assert attendance(registrants["li_wei"]) == (True, 60)
    assert {p.name for p in result.unmatched} == {"UNODC Host", "Call-in User_3"}


@pytest.mark.parametrize(
    ("header", "row", "product", "expected"),
    [
        # Zoom with "Show unique users": one row per person, already totalled.
        (
            "Name (original name),Email,Total duration (minutes),Guest",
            "Amina,amina.1@example.org,75,No",
            "zoom_meeting",
            75,
        ),
        # Zoom before 2020.
        (
            "Name,User Email,Join Time,Leave Time,Duration(Minutes)",
            "Amina,amina.1@example.org,03/10/2026 10:00 AM,03/10/2026 10:30 AM,30",
            "zoom_meeting",
            30,
        ),
        # Webex site reports' spelling.
        (
            "Name,Attendee Email,Join Time,Leave Time,Attendance Duration",
            "Amina,amina.1@example.org,2026-03-10 10:00,2026-03-10 10:30,30 mins",
            "webex",
            30,
        ),
    ],
)
def test_header_spellings_of_older_and_other_exports(header, row, product, expected):
    report = parse(f"{header}\n{row}\n")

    assert report.format.key == product
    assert [(p.email, p.minutes) for p in report.participants] == [
        ("amina.1@example.org", expected)
    ]


def test_teams_older_join_leave_list_is_paired_per_person():
    report = parse(decode(sample("teams_attendance_list_2020.csv")))

    spans = {(p.name, round(p.minutes)) for p in report.participants}
    # Amina left and came back; Li Wei "joined before" and was still there at the end.
    assert spans == {("Amina Diallo", 39), ("Amina Diallo", 41), ("UNODC Host", 92), ("Li Wei", 75)}


def test_a_report_without_any_address_is_refused_and_changes_nothing(event, registrants):
    with pytest.raises(ReportError, match="no email addresses"):
        import_attendance(event=event, data=sample("teams_attendance_list_2020.csv"))
    assert attendance(registrants["absent"]) == (None, None)


def test_importing_again_replaces_the_previous_import(event, registrants):
    import_attendance(event=event, data=sample("zoom_meeting_participants.csv"))
    import_attendance(event=event, data=sample("webex_meeting_attendee_report.csv"))
    import_attendance(event=event, data=sample("webex_meeting_attendee_report.csv"))

    assert attendance(registrants["amina"]) == (True, 55)
    assert Registration.objects.filter(event=event, attended=True).count() == 2
    entries = AuditEntry.objects.filter(event=event, action=AuditEntry.Action.IMPORTED_ATTENDANCE)
    assert entries.count() == 3
    assert "2 registrants attended, 1 did not" in entries.first().detail


def test_summed_minutes_without_times_are_capped_at_the_event_length(make_event):
    event = make_event()
    event.ends_at = event.starts_at + timedelta(minutes=60)
    event.save()
    services.register(event=event, data=person(1))
    report = (
        "Name (Original Name),User Email,Duration (Minutes),Guest\n"
        "Amina Diallo,amina.1@example.org,50,No\n"
        "Amina (phone),amina.1@example.org,45,No\n"
    )

    import_attendance(event=event, data=report.encode())

    assert Registration.objects.get(event=event).minutes_attended == 60


def test_semicolons_and_windows_1252_from_a_report_saved_again_in_excel(event, registrants):
    report = (
        "Display Name;Email;Join Time;Leave Time;Attendance Duration\n"
        "Amina Diallo (Sénégal);amina.1@example.org;10:00;11:02;1:02:00\n"
    )

    result = import_attendance(event=event, data=report.encode("cp1252"))

    assert result.report == "Webex meeting attendee report"
    assert attendance(registrants["amina"]) == (True, 62)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("47", 47),
        ("12.5", 12.5),
        ("1h 2m 3s", 62.05),
        ("1h2m3s", 62.05),
        ("62 min", 62),
        ("45m", 45),
        ("30s", 0.5),
        ("1:02:03", 62.05),
        ("62:30", 62.5),
        ("--", None),
        ("", None),
    ],
)
def test_durations_in_each_products_spelling(cell, expected):
    value = minutes(cell)
    assert value == (None if expected is None else pytest.approx(expected))


def test_an_unrecognised_file_is_refused_naming_the_headers_expected(event, registrants):
    with pytest.raises(ReportError) as refused:
        import_attendance(event=event, data=b"email,name\namina.1@example.org,Amina\n")

    message = refused.value.message
    assert "email, name" in message
    assert "Name (Original Name), User Email" in message
    assert "In-Meeting Duration" in message
    assert "Display Name, Email" in message
    assert attendance(registrants["amina"]) == (None, None)


def test_a_duration_that_is_not_one_is_refused(event, registrants):
    report = "Name (Original Name),User Email,Duration (Minutes)\nAmina,amina.1@example.org,soon\n"
    with pytest.raises(ReportError, match="“soon” is not a duration"):
        import_attendance(event=event, data=report.encode())


def test_a_file_over_the_limit_is_refused_before_reading(event):
    with pytest.raises(ReportError, match="larger than 5 MB"):
        import_attendance(event=event, data=b"x" * (MAX_REPORT_BYTES + 1))


def test_command_prints_matched_and_unmatched(event, registrants):
    out = StringIO()
    call_command(
        "import_attendance", event.slug, str(SAMPLES / "zoom_meeting_participants.csv"), stdout=out
    )

    text = out.getvalue()
    assert "Zoom meeting participants report: 2 registrants attended, 1 did not; " in text
    assert "4 participants not matched to a registration." in text
    assert "unmatched: Walk In <walk.in@elsewhere.example.net> (No registration with this" in text
    assert "unmatched: +1 212 555 0100 (No usable email address in the report)" in text
    assert attendance(registrants["amina"]) == (True, 89)


def test_command_refuses_an_unknown_event_and_a_file_that_is_no_report(event, tmp_path):
    with pytest.raises(CommandError, match="No event with the slug 'nope'"):
        call_command("import_attendance", "nope", str(SAMPLES / "zoom_meeting_participants.csv"))
    other = tmp_path / "people.csv"
    other.write_text("email,name\n")
    with pytest.raises(CommandError, match="not a participant report"):
        call_command("import_attendance", event.slug, str(other))
