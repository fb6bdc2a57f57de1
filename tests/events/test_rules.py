"""The rules an event must keep (events/rules.py), through both entry points: the admin's
change form and `import_event`. Each mistake is refused (or flagged) with a message that
says what is wrong, in the event's own time."""

import json
import re
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import timezone

from events.demo.pdf import simple_pdf
from events.models import AgendaItem, Event
from notifications.models import Delivery
from registration.models import Registration
from tests.events.conftest import admin_post_data, make_event

pytestmark = pytest.mark.django_db

# The side event as tests type it: 25 June 2030, 12:30-14:00 New York time (EDT).
START = datetime(2030, 6, 25, 16, 30, tzinfo=UTC)
END = datetime(2030, 6, 25, 18, 0, tzinfo=UTC)


@pytest.fixture
def side_event(db):
    return make_event(starts_at=START, ends_at=END)


def change_url(event):
    return f"/en/admin/events/event/{event.pk}/change/"


def post(client, event, follow=False, **overrides):
    return client.post(change_url(event), admin_post_data(event, **overrides), follow=follow)


def errors(response):
    """The error messages of a re-displayed admin form, as text."""
    html = response.content.decode()
    return [
        re.sub(r"<[^>]+>", "", item).replace("&#x27;", "'")
        for item in re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', html, re.S)
    ]


def page_messages(response):
    return [str(message) for message in response.context["messages"]]


# --- import_event -----------------------------------------------------------------------------
def event_json(**overrides):
    data = {
        "slug": "imported",
        "title": "Imported event",
        "starts_at": "2031-06-20T12:30:00-04:00",
        "ends_at": "2031-06-20T14:00:00-04:00",
        "timezone": "America/New_York",
        "status": "published",
        "meeting_url": "https://meet.example.org/j/123",
        "agenda": [
            {
                "starts_at": "2031-06-20T12:30:00-04:00",
                "ends_at": "2031-06-20T12:45:00-04:00",
                "title": "Opening remarks",
            }
        ],
    }
    data.update(overrides)
    return data


def run_import(tmp_path, data):
    path = tmp_path / "event.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    out = StringIO()
    call_command("import_event", str(path), stdout=out)
    return out.getvalue()


def refused(tmp_path, data):
    with pytest.raises(CommandError) as error:
        run_import(tmp_path, data)
    assert not Event.objects.filter(slug=data["slug"]).exists()
    return str(error.value)


# --- the meeting link goes out before the start -----------------------------------------------
def test_admin_refuses_a_meeting_link_sent_after_the_start(admin_client, side_event):
    response = post(
        admin_client,
        side_event,
        meeting_link_send_at_0="2030-06-26",
        meeting_link_send_at_1="09:00",
    )
    assert response.status_code == 200
    assert (
        "The meeting link must go out before the event starts (25 Jun 2030, 12:30 EDT), "
        "or registrants cannot join in time." in errors(response)
    )
    side_event.refresh_from_db()
    assert side_event.meeting_link_send_at is None


def test_admin_refuses_a_meeting_link_sent_at_the_start(admin_client, side_event):
    response = post(
        admin_client,
        side_event,
        meeting_link_send_at_0="2030-06-25",
        meeting_link_send_at_1="12:30",
    )
    assert response.status_code == 200
    assert any("must go out before the event starts" in e for e in errors(response))


def test_admin_saves_but_warns_of_a_link_sent_less_than_an_hour_before(admin_client, side_event):
    response = post(
        admin_client,
        side_event,
        follow=True,
        meeting_link_send_at_0="2030-06-25",
        meeting_link_send_at_1="12:00",
    )
    assert response.redirect_chain
    assert (
        "The meeting link goes out at 25 Jun 2030, 12:00 EDT, only 30 minutes before the "
        "start: some registrants may not see it in time." in page_messages(response)
    )
    side_event.refresh_from_db()
    assert side_event.meeting_link_send_at == START - timedelta(minutes=30)


def test_import_refuses_a_meeting_link_sent_after_the_start(tmp_path):
    message = refused(tmp_path, event_json(meeting_link_send_at="2031-06-21T09:00:00-04:00"))
    assert "meeting_link_send_at: The meeting link must go out before the event starts" in message
    assert "(20 Jun 2031, 12:30 EDT)" in message


def test_import_prints_a_warning_for_a_link_sent_less_than_an_hour_before(tmp_path):
    out = run_import(tmp_path, event_json(meeting_link_send_at="2031-06-20T12:00:00-04:00"))
    assert (
        "Warning: meeting_link_send_at: The meeting link goes out at 20 Jun 2031, 12:00 EDT, "
        "only 30 minutes before the start" in out
    )
    assert Event.objects.filter(slug="imported").exists()


# --- registration closes by the end -----------------------------------------------------------
def test_admin_refuses_registration_closing_after_the_end(admin_client, side_event):
    response = post(
        admin_client,
        side_event,
        registration_closes_at_0="2030-06-25",
        registration_closes_at_1="15:00",
    )
    assert response.status_code == 200
    assert (
        "Registration must close by the end of the event (25 Jun 2030, 14:00 EDT); "
        "blank closes it at the start." in errors(response)
    )


def test_admin_accepts_registration_closing_during_the_event(admin_client, side_event):
    response = post(
        admin_client,
        side_event,
        registration_closes_at_0="2030-06-25",
        registration_closes_at_1="13:00",
    )
    assert response.status_code == 302


def test_import_refuses_registration_closing_after_the_end(tmp_path):
    message = refused(tmp_path, event_json(registration_closes_at="2031-06-21T00:00:00-04:00"))
    assert "registration_closes_at: Registration must close by the end of the event" in message


# --- the agenda lies within the event ---------------------------------------------------------
def add_item(event, start, end=None, title="Opening remarks"):
    return AgendaItem.objects.create(event=event, starts_at=start, ends_at=end, title=title)


def test_admin_refuses_an_agenda_item_before_the_start(admin_client, side_event):
    response = admin_client.post(
        change_url(side_event),
        admin_post_data(
            side_event,
            **{
                "agenda_items-TOTAL_FORMS": "1",
                "agenda_items-0-date": "",  # blank: the event's date
                "agenda_items-0-start_time": "12:00",
                "agenda_items-0-end_time": "12:15",
                "agenda_items-0-title": "Too early",
                "agenda_items-0-position": "0",
            },
        ),
    )
    assert response.status_code == 200
    assert (
        "Agenda items must be within the event's time, 25 Jun 2030, 12:30\N{EN DASH}14:00 EDT."
        in errors(response)
    )
    assert not AgendaItem.objects.exists()


def test_admin_agenda_item_takes_the_event_date_when_blank(admin_client, side_event):
    data = admin_post_data(
        side_event,
        **{
            "agenda_items-TOTAL_FORMS": "1",
            "agenda_items-0-date": "",
            "agenda_items-0-start_time": "12:30",
            "agenda_items-0-end_time": "12:45",
            "agenda_items-0-title": "Opening remarks",
            "agenda_items-0-position": "0",
        },
    )
    assert admin_client.post(change_url(side_event), data).status_code == 302
    item = side_event.agenda_items.get()
    assert (item.starts_at, item.ends_at) == (START, START + timedelta(minutes=15))
    # Shown again as one date and two times, the date prefilled for a new item.
    html = admin_client.get(change_url(side_event)).content.decode()
    assert 'name="agenda_items-0-date" value="2030-06-25"' in html
    assert 'name="agenda_items-0-start_time" value="12:30:00"' in html
    assert 'name="agenda_items-__prefix__-date" value="2030-06-25"' in html


def test_admin_refuses_an_agenda_item_ending_after_the_event(admin_client, side_event):
    add_item(side_event, START + timedelta(minutes=60))
    response = post(admin_client, side_event, **{"agenda_items-0-end_time": "14:30"})
    assert response.status_code == 200
    assert any(
        e.startswith("Agenda items must be within the event's time") for e in errors(response)
    )


def test_moving_the_event_moves_its_agenda_when_asked(admin_client, side_event):
    add_item(side_event, START, START + timedelta(minutes=15))
    add_item(side_event, END - timedelta(minutes=30), END, title="Closing")
    html = admin_client.get(change_url(side_event)).content.decode()
    # The items lie inside the event: moving them with it is on by default.
    assert re.search(r'<input type="checkbox" name="move_agenda"[^>]* checked>', html)
    response = post(
        admin_client,
        side_event,
        follow=True,
        starts_at_1="13:00",
        ends_at_1="14:30",
        move_agenda="on",
    )
    moved = "2 agenda items moved with the event (30\N{NO-BREAK SPACE}minutes later)."
    assert moved in page_messages(response)
    times = [(i.starts_at, i.ends_at) for i in side_event.agenda_items.order_by("starts_at")]
    half = timedelta(minutes=30)
    assert times == [
        (START + half, START + timedelta(minutes=45)),
        (END - half + half, END + half),
    ]


def test_moving_the_event_without_its_agenda_is_refused_while_items_fall_outside(
    admin_client, side_event
):
    add_item(side_event, START, START + timedelta(minutes=15))
    response = post(admin_client, side_event, starts_at_1="13:00", ends_at_1="14:30")
    assert response.status_code == 200
    assert (
        "Agenda items must be within the event's time, 25 Jun 2030, 13:00\N{EN DASH}14:30 EDT."
        in errors(response)
    )
    side_event.refresh_from_db()
    assert side_event.starts_at == START


def test_import_refuses_agenda_items_outside_the_event(tmp_path):
    early = [{"starts_at": "2031-06-20T12:00:00-04:00", "title": "Too early"}]
    message = refused(tmp_path, event_json(agenda=early))
    assert message.startswith(f"{tmp_path / 'event.json'}: agenda[0].starts_at: Agenda items")
    assert "20 Jun 2031, 12:30\N{EN DASH}14:00 EDT" in message
    late = [
        {"starts_at": "2031-06-20T12:30:00-04:00", "title": "Fine"},
        {
            "starts_at": "2031-06-20T13:30:00-04:00",
            "ends_at": "2031-06-20T14:30:00-04:00",
            "title": "Too long",
        },
    ]
    assert "agenda[1].ends_at: Agenda items must be within" in refused(
        tmp_path, event_json(agenda=late)
    )


# --- changing a saved event's time zone -------------------------------------------------------
def test_changing_the_zone_asks_which_time_is_meant_and_shows_both(admin_client, side_event):
    response = post(admin_client, side_event, timezone="Europe/Zurich")
    assert response.status_code == 200
    html = response.content.decode().replace("&#x27;", "'")
    assert (
        "You changed the time zone from America/New_York to Europe/Zurich. Should the event "
        "keep its moment or its clock time? Each choice shows where it would be." in html
    )
    assert (
        "Same moment: it stays at 25 Jun 2030, 12:30 EDT in America/New_York, "
        "which is 25 Jun 2030, 18:30 CEST in Europe/Zurich." in html
    )
    assert (
        "Same clock time: it moves to 25 Jun 2030, 12:30 CEST in Europe/Zurich, "
        "which is 25 Jun 2030, 06:30 EDT in America/New_York." in html
    )
    side_event.refresh_from_db()
    assert (side_event.timezone, side_event.starts_at) == ("America/New_York", START)


def test_same_moment_keeps_the_instant(admin_client, side_event):
    add_item(side_event, START, START + timedelta(minutes=15))
    response = post(admin_client, side_event, timezone="Europe/Zurich", zone_change="instant")
    assert response.status_code == 302
    side_event.refresh_from_db()
    assert (side_event.timezone, side_event.starts_at, side_event.ends_at) == (
        "Europe/Zurich",
        START,
        END,
    )
    assert side_event.agenda_items.get().starts_at == START
    assert side_event.local_starts_at.strftime("%H:%M %Z") == "18:30 CEST"


def test_same_clock_time_keeps_the_wall_clock(admin_client, side_event):
    add_item(side_event, START, START + timedelta(minutes=15))
    response = post(admin_client, side_event, timezone="Europe/Zurich", zone_change="clock")
    assert response.status_code == 302
    side_event.refresh_from_db()
    assert side_event.local_starts_at.strftime("%H:%M %Z") == "12:30 CEST"
    assert side_event.starts_at == datetime(2030, 6, 25, 10, 30, tzinfo=UTC)
    item = side_event.agenda_items.get()
    assert timezone.localtime(item.starts_at, side_event.tz).strftime("%H:%M") == "12:30"


def test_import_says_where_the_event_is_after_a_zone_change(tmp_path):
    run_import(tmp_path, event_json())
    out = run_import(tmp_path, event_json(timezone="Europe/Zurich"))
    assert (
        "Warning: timezone: changed from America/New_York to Europe/Zurich; the times in the "
        "file carry their UTC offsets, so the event starts at 20 Jun 2031, 18:30 CEST "
        "(20 Jun 2031, 12:30 EDT in America/New_York)" in out
    )


# --- dates in the admin user's formats --------------------------------------------------------
def test_dates_typed_the_british_way_are_accepted(admin_client, side_event):
    response = admin_client.post(
        change_url(side_event),
        admin_post_data(side_event, starts_at_0="25/06/2030", ends_at_0="25/06/2030"),
        headers={"accept-language": "en-GB,en;q=0.8"},
    )
    assert response.status_code == 302


def test_dates_typed_the_french_way_are_accepted_in_french(admin_client, side_event):
    url = f"/fr/admin/events/event/{side_event.pk}/change/"
    data = admin_post_data(side_event, starts_at_0="26/06/2030", ends_at_0="26/06/2030")
    assert admin_client.post(url, data).status_code == 302
    side_event.refresh_from_db()
    assert side_event.starts_at == START + timedelta(days=1)


def test_a_date_that_does_not_parse_shows_the_expected_format(admin_client, side_event):
    response = admin_client.post(
        change_url(side_event),
        admin_post_data(side_event, starts_at_0="31/31/2030"),
        headers={"accept-language": "en-GB"},
    )
    assert response.status_code == 200
    assert "Enter a valid date, like 25/06/2027 or 2027-06-25." in errors(response)
    # and the help says so before any mistake
    html = admin_client.get(change_url(side_event), headers={"accept-language": "en-GB"})
    assert "Dates like 25/06/2027 or 2027-06-25." in html.content.decode()


def test_us_english_keeps_month_first(admin_client, side_event):
    # 06/25/2030 is 25 June for en-US; 25/06/2030 is not a date there.
    data = admin_post_data(side_event, starts_at_0="06/25/2030", ends_at_0="06/25/2030")
    assert admin_client.post(change_url(side_event), data).status_code == 302
    data = admin_post_data(side_event, starts_at_0="25/06/2030", ends_at_0="25/06/2030")
    response = admin_client.post(change_url(side_event), data)
    assert "Enter a valid date, like 2027-06-25." in errors(response)


# --- an uploaded concept note survives a validation error -------------------------------------
def test_an_upload_is_kept_after_an_error_elsewhere(
    admin_client, side_event, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    pdf = simple_pdf("Concept note", ["Text."])
    documents = {
        "documents-TOTAL_FORMS": "1",
        "documents-0-kind": "concept_note",
        "documents-0-title": "Concept note",
        "documents-0-language": "en",
        "documents-0-position": "0",
    }
    data = admin_post_data(side_event, ends_at_1="12:00", **documents)  # ends before it starts
    data["documents-0-file"] = SimpleUploadedFile("concept-note.pdf", pdf, "application/pdf")
    response = admin_client.post(change_url(side_event), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Kept from your last try: concept-note.pdf. No need to attach it again." in html
    token = re.search(r'name="documents-0-kept_file" value="([^"]+)"', html).group(1)
    assert [p.name for p in (tmp_path / "stash").rglob("*.pdf")] == ["concept-note.pdf"]

    data = admin_post_data(side_event, **documents, **{"documents-0-kept_file": token})
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(change_url(side_event), data).status_code == 302
    document = side_event.documents.get()
    assert document.file.read() == pdf
    assert document.content_type == "application/pdf" and document.size == len(pdf)
    assert [p.name for p in (tmp_path / "stash").rglob("*.pdf")] == []  # the kept copy is gone


def test_a_forged_kept_file_token_is_ignored(admin_client, side_event):
    data = admin_post_data(
        side_event,
        **{
            "documents-TOTAL_FORMS": "1",
            "documents-0-kind": "concept_note",
            "documents-0-title": "Concept note",
            "documents-0-language": "en",
            "documents-0-position": "0",
            "documents-0-kept_file": "stash/../../settings.py",
        },
    )
    response = admin_client.post(change_url(side_event), data)
    assert response.status_code == 200
    assert "This field is required." in errors(response)
    assert not side_event.documents.exists()


# --- saving a change says who will be emailed, and when ---------------------------------------
def register(event, email, **fields):
    return Registration.objects.create(
        event=event, email=email, name="P", consent_at=timezone.now(), **fields
    )


def test_a_time_change_says_how_many_people_are_emailed_and_when(admin_client, side_event):
    for name in ("ana", "ben", "eva"):
        register(side_event, f"{name}@example.org")
    register(side_event, "cancelled@example.org", status=Registration.Status.CANCELLED)
    response = post(admin_client, side_event, follow=True, ends_at_1="14:30")
    assert (
        "The time or meeting link changed: 3 people will be emailed in about 5 minutes "
        "(after your last change)." in page_messages(response)
    )


def test_a_link_change_counts_only_those_who_had_the_link(admin_client, side_event, settings):
    settings.EVENT_CHANGE_NOTICE_DELAY_MINUTES = 10
    ana = register(side_event, "ana@example.org")
    register(side_event, "ben@example.org")
    Delivery.objects.create(
        event=side_event,
        registration=ana,
        kind=Delivery.Kind.MEETING_LINK,
        status=Delivery.Status.SENT,
        created_at=timezone.now() - timedelta(hours=1),
    )
    response = post(admin_client, side_event, follow=True, meeting_url="https://meet.example.org/2")
    assert (
        "The time or meeting link changed: 1 person will be emailed in about 10 minutes "
        "(after your last change)." in page_messages(response)
    )


# --- "Send meeting links now" says how far away the event is ----------------------------------
def test_send_now_confirmation_says_how_far_away_the_event_is(admin_client, db):
    far = make_event(starts_at=timezone.now() + timedelta(days=200, hours=1))
    response = admin_client.post(
        "/en/admin/events/event/",
        {"action": "send_meeting_links_now", "_selected_action": [far.pk]},
    )
    html = response.content.decode()
    assert "Yes, send the meeting links now" in html
    local = far.local_starts_at
    assert "starts in 6\N{NO-BREAK SPACE}months" in html
    assert f"{local:%H:%M} {local.tzname()}" in html


def test_a_new_event_with_its_agenda_is_checked_in_one_go(admin_client, db):
    agenda = {
        "agenda_items-TOTAL_FORMS": "2",
        "agenda_items-0-start_time": "12:30",
        "agenda_items-0-end_time": "12:45",
        "agenda_items-0-title": "Opening remarks",
        "agenda_items-0-position": "0",
        "agenda_items-1-start_time": "14:00",
        "agenda_items-1-title": "Too late",
        "agenda_items-1-position": "1",
    }
    response = admin_client.post("/en/admin/events/event/add/", admin_post_data(**agenda))
    assert response.status_code == 200
    assert (
        "Agenda items must be within the event's time, 25 Jun 2030, 12:30\N{EN DASH}14:00 EDT."
        in errors(response)
    )
    agenda["agenda_items-1-start_time"] = "13:45"
    response = admin_client.post("/en/admin/events/event/add/", admin_post_data(**agenda))
    assert response.status_code == 302
    event = Event.objects.get()
    assert [i.starts_at for i in event.agenda_items.all()] == [START, END - timedelta(minutes=15)]
