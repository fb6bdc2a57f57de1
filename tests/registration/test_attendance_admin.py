"""Attendance in the organisers' admin: the upload and its result page, the rate and chart on
the event's page, the list's column and filter, the CSV columns, and team scoping."""

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from events.models import AuditEntry, Membership, Team
from registration import services
from registration.attendance import import_attendance
from registration.models import Registration
from tests.conftest import BrowserClient
from tests.registration.conftest import person
from tests.registration.test_attendance import SAMPLES, sample

User = get_user_model()
CHANGELIST = "/en/admin/registration/registration/"


def import_url(event):
    return reverse("admin:registration_registration_import_attendance", args=[event.pk])


def upload(name):
    return SimpleUploadedFile(name, (SAMPLES / name).read_bytes(), content_type="text/csv")


@pytest.fixture
def registered(event):
    for n in (1, 2, 3):
        services.register(event=event, data=person(n))
    services.register(event=event, data=person(9, name="Li Wei", email="li.wei@exämple.org"))
    return event


def signed_in(team, role=Membership.Role.MANAGER):
    user = User.objects.create_user(
        username=f"{role}@{team.slug}.example.org",
        email=f"{role}@{team.slug}.example.org",
        password="x",
        is_staff=True,
    )
    Membership.objects.create(team=team, user=user, role=role)
    client = BrowserClient()
    client.force_login(user)
    return client


def test_organiser_uploads_a_zoom_report_and_sees_who_was_not_matched(admin_client, registered):
    event = registered
    page = admin_client.get(reverse("admin:events_event_change", args=[event.pk])).content.decode()
    assert "No participant report imported yet." in page
    assert import_url(event) in page

    response = admin_client.post(
        import_url(event), {"report": upload("zoom_meeting_participants.csv")}
    )

    assert response.status_code == 200
    text = response.content.decode()
    assert "Zoom meeting participants report" in text
    assert "2 registrants attended and 2 did not." in text
    assert "4 participants not matched to a registration" in text
    assert "walk.in@elsewhere.example.net" in text and "+1 212 555 0100" in text
    assert "No usable email address in the report" in text
    assert dict(Registration.objects.values_list("email", "attended")) == {
        "amina.1@example.org": True,
        "amina.2@example.org": False,
        "amina.3@example.org": False,
        "li.wei@xn--exmple-cua.org": True,
    }
    entry = AuditEntry.objects.get(event=event, action=AuditEntry.Action.IMPORTED_ATTENDANCE)
    assert entry.actor == "admin@example.com"


def test_a_file_that_is_no_report_is_refused_on_the_form(admin_client, registered):
    bad = SimpleUploadedFile(
        "people.csv", b"email,name\na@example.org,A\n", content_type="text/csv"
    )

    response = admin_client.post(import_url(registered), {"report": bad})

    text = response.content.decode()
    assert response.status_code == 200
    assert "not a participant report from Zoom, Microsoft Teams or Webex" in text
    assert "In-Meeting Duration" in text
    assert not Registration.objects.filter(attended__isnull=False).exists()


def test_event_page_shows_the_rate_and_the_minutes_chart(admin_client, registered):
    event = registered
    import_attendance(event=event, data=sample("zoom_meeting_participants.csv"))

    page = admin_client.get(reverse("admin:events_event_change", args=[event.pk])).content.decode()

    assert "2 of 4 confirmed registrants attended (50%)." in page
    # 90-minute event: bars by the quarter hour; Amina (89 min) and Li Wei (61 min).
    assert "Attendees by minutes present: 0 to 15 min 0," in page
    assert "60 to 75 min 1, 75 to 90 min 1, 90 min or more 0" in page
    assert f"{CHANGELIST}?event__id__exact={event.pk}&amp;attended__exact=0" in page


def test_registration_list_has_an_attended_column_and_filter(admin_client, registered):
    import_attendance(event=registered, data=sample("webex_meeting_attendee_report.csv"))

    absent = admin_client.get(
        CHANGELIST, {"event__id__exact": registered.pk, "attended__exact": "0"}
    ).content.decode()

    assert "amina.2@example.org" in absent and "amina.3@example.org" in absent
    assert "amina.1@example.org" not in absent
    assert 'class="sortable column-attended"' in absent


def test_csv_export_has_attended_and_minutes_present(admin_client, registered):
    import_attendance(event=registered, data=sample("teams_attendance_report.csv"))

    response = admin_client.post(
        CHANGELIST,
        {
            "action": "export_registrations",
            "_selected_action": list(Registration.objects.values_list("pk", flat=True)),
        },
    )

    content = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(content)))
    attended, minutes = rows[0].index("Attended"), rows[0].index("Minutes present")
    by_email = {row[4]: (row[attended], row[minutes]) for row in rows[1:]}
    assert by_email["amina.1@example.org"] == ("yes", "80")
    assert by_email["amina.2@example.org"] == ("no", "0")
    assert by_email["li.wei@xn--exmple-cua.org"] == ("yes", "45")


def test_only_the_events_own_managers_import(registered):
    ours = Team.objects.create(slug="ours", name="Ours")
    theirs = Team.objects.create(slug="theirs", name="Theirs")
    registered.teams.add(ours)

    other_manager = signed_in(theirs)
    response = other_manager.post(
        import_url(registered), {"report": upload("zoom_meeting_participants.csv")}
    )
    assert response.status_code == 404
    viewer = signed_in(ours, Membership.Role.VIEWER)
    assert viewer.get(import_url(registered)).status_code == 404
    page = viewer.get(reverse("admin:events_event_change", args=[registered.pk])).content.decode()
    assert "No participant report imported yet." in page
    assert import_url(registered) not in page
    assert not Registration.objects.filter(attended__isnull=False).exists()

    manager = signed_in(ours)
    response = manager.post(
        import_url(registered), {"report": upload("zoom_webinar_attendee_report.csv")}
    )
    assert response.status_code == 200
    assert Registration.objects.filter(attended=True).count() == 2
