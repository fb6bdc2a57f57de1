from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import icalendar
import pytest

from events import services
from events.ics import build_calendar, google_calendar_url, outlook_calendar_url
from tests.events.conftest import SECRET_MEETING_URL

pytestmark = pytest.mark.django_db


def parse(body):
    calendar = icalendar.Calendar.from_ical(body)
    return calendar, calendar.walk("VEVENT")[0]


def test_public_calendar_file_has_zone_stable_uid_and_no_meeting_link(client, june_event):
    response = client.get("/en/events/june-event/calendar.ics")
    assert response["Content-Type"].startswith("text/calendar")
    calendar, vevent = parse(response.content)
    assert vevent.start.astimezone(UTC) == datetime(2021, 6, 25, 16, 30, tzinfo=UTC)
    assert str(vevent["DTSTART"].params["TZID"]) == "America/New_York"
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["America/New_York"]
    assert str(vevent["UID"]) == f"event-{june_event.pk}@127.0.0.1"
    assert str(vevent["URL"]) == "http://127.0.0.1:8000/en/events/june-event/"  # SITE_URL
    assert SECRET_MEETING_URL not in response.content.decode()
    again = parse(client.get("/en/events/june-event/calendar.ics").content)[1]
    assert again["UID"] == vevent["UID"]


def test_summary_is_in_the_visitors_language(client, june_event):
    june_event.translations = {"ru": {"title": "Гражданское общество и тюрьмы"}}
    june_event.save()
    _, vevent = parse(client.get("/ru/events/june-event/calendar.ics").content)
    assert str(vevent["SUMMARY"]) == "Гражданское общество и тюрьмы"


def test_registrants_calendar_carries_the_meeting_link(june_event):
    body = build_calendar(
        event=june_event,
        uid="registration-7@example.org",
        sequence=3,
        meeting_url=june_event.meeting_url,
        meeting_details=june_event.meeting_details,
    )
    _, vevent = parse(body)
    assert SECRET_MEETING_URL in str(vevent["DESCRIPTION"])
    assert str(vevent["LOCATION"]) == SECRET_MEETING_URL
    assert vevent["SEQUENCE"] == 3


def test_cancelled_event_calendar_cancels_the_entry(client, june_event):
    services.cancel_event(event=june_event)
    calendar, vevent = parse(client.get("/en/events/june-event/calendar.ics").content)
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(vevent["STATUS"]) == "CANCELLED"
    assert vevent["SEQUENCE"] == 1


def test_google_and_outlook_links_carry_the_utc_times(june_event):
    google = parse_qs(urlsplit(google_calendar_url(june_event, "https://x.org/e/")).query)
    assert google["dates"] == ["20210625T163000Z/20210625T180000Z"]
    assert google["ctz"] == ["America/New_York"]
    outlook = parse_qs(urlsplit(outlook_calendar_url(june_event, "https://x.org/e/")).query)
    assert outlook["startdt"] == ["2021-06-25T16:30:00Z"]
    assert outlook["subject"] == ["Civil society and prisons"]
    for url in (google_calendar_url(june_event, ""), outlook_calendar_url(june_event, "")):
        assert SECRET_MEETING_URL not in url
