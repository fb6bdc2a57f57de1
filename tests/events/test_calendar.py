from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from urllib.parse import parse_qs, urlsplit

import icalendar
import pytest

from events import ics, services
from events.ics import build_calendar, google_calendar_url, outlook_calendar_url
from tests.calendars import read_consistently, zoneinfo_changes
from tests.events.conftest import SECRET_MEETING_URL, make_event

ZONES = ["America/New_York", "Europe/Zurich", "Asia/Kolkata", "Australia/Lord_Howe"]

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


def test_public_calendar_file_is_published_by_the_organiser(client, june_event, settings):
    """RFC 5546 wants an ORGANIZER in PUBLISH; ATTENDEE has no place in it."""
    june_event.contact_email = "side-events@example.org"
    june_event.organiser = "UNODC"
    june_event.save()
    calendar, vevent = parse(client.get("/en/events/june-event/calendar.ics").content)
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(vevent["ORGANIZER"]) == "mailto:side-events@example.org"
    assert vevent["ORGANIZER"].params["CN"] == "UNODC"
    assert "ATTENDEE" not in vevent
    june_event.contact_email = ""
    june_event.save()
    _, vevent = parse(client.get("/en/events/june-event/calendar.ics").content)
    assert str(vevent["ORGANIZER"]) == "mailto:" + parseaddr(settings.DEFAULT_FROM_EMAIL)[1]


def test_summary_is_in_the_visitors_language(client, june_event):
    june_event.translations = {"ru": {"title": "Гражданское общество и тюрьмы"}}
    june_event.save()
    _, vevent = parse(client.get("/ru/events/june-event/calendar.ics").content)
    assert str(vevent["SUMMARY"]) == "Гражданское общество и тюрьмы"


def test_registrants_invitation_carries_the_meeting_link(june_event):
    body = build_calendar(
        event=june_event,
        sequence=3,
        method="REQUEST",
        attendee=("ana@example.org", "Ana"),
        meeting_url=june_event.meeting_url,
        meeting_details=june_event.meeting_details,
    )
    calendar, vevent = parse(body)
    assert str(calendar["METHOD"]) == "REQUEST"
    assert SECRET_MEETING_URL in str(vevent["DESCRIPTION"])
    assert str(vevent["LOCATION"]) == SECRET_MEETING_URL
    assert vevent["SEQUENCE"] == 3
    assert str(vevent["ATTENDEE"]) == "mailto:ana@example.org"
    assert vevent["ATTENDEE"].params["PARTSTAT"] == "ACCEPTED"
    assert vevent["ATTENDEE"].params["RSVP"] == "FALSE"
    assert str(vevent["UID"]) == f"event-{june_event.pk}@127.0.0.1"


def test_a_cancelled_event_stays_published_with_status_cancelled(client, june_event):
    """A PUBLISH file cannot cancel (CANCEL is for attendees, RFC 5546): it says the event
    is cancelled, and its higher SEQUENCE replaces the entry of an earlier download."""
    services.cancel_event(event=june_event)
    calendar, vevent = parse(client.get("/en/events/june-event/calendar.ics").content)
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(vevent["STATUS"]) == "CANCELLED"
    assert vevent["SEQUENCE"] == 1


@pytest.mark.parametrize("zone_name", ZONES)
def test_vtimezone_matches_zoneinfo_at_every_change_for_every_parser(client, zone_name):
    """Each STANDARD/DAYLIGHT onset is the local time before the switch; three parsers that
    share no code with icalendar find exactly zoneinfo's changes of the event's years."""
    event = make_event(
        slug="dst-day",
        timezone=zone_name,
        starts_at=datetime(2026, 3, 8, 7, 30, tzinfo=UTC),
        ends_at=datetime(2027, 1, 2, 9, 0, tzinfo=UTC),
    )
    body = client.get("/en/events/dst-day/calendar.ics").content
    read = read_consistently(body, first_year=2026, last_year=2027, zone_name=zone_name)
    assert read["start"] == event.starts_at
    assert read["end"] == event.ends_at
    assert read["method"] == "PUBLISH"


def test_new_york_switches_at_seven_utc_not_eight():
    """The report: DAYLIGHT DTSTART 03:00 with TZOFFSETFROM -0500 put the switch at 08:00Z,
    so 07:30Z read as 02:30, a time that does not exist that day."""
    zone = ics.timezone_component("America/New_York", 2026, 2026)
    daylight = zone.walk("DAYLIGHT")[0]
    assert daylight["DTSTART"].dt == datetime(2026, 3, 8, 2, 0)
    assert daylight["TZOFFSETFROM"].td == timedelta(hours=-5)
    assert daylight["RRULE"]["BYDAY"] == ["2SU"] and daylight["RRULE"]["BYMONTH"] == [3]
    standard = zone.walk("STANDARD")[0]
    assert standard["DTSTART"].dt == datetime(2025, 11, 2, 2, 0)
    assert zoneinfo_changes("America/New_York", 2026, 2026) == [
        (datetime(2026, 3, 8, 7, 0, tzinfo=UTC), timedelta(hours=-5), timedelta(hours=-4)),
        (datetime(2026, 11, 1, 6, 0, tzinfo=UTC), timedelta(hours=-4), timedelta(hours=-5)),
    ]


def test_zones_that_follow_a_rule_get_rrules_and_one_without_changes_a_fixed_offset():
    for zone_name in ("America/New_York", "Europe/Zurich", "Australia/Lord_Howe"):
        zone = ics.timezone_component(zone_name, 2026, 2026)
        for observance in zone.walk("STANDARD") + zone.walk("DAYLIGHT"):
            assert "RRULE" in observance and "RDATE" not in observance, zone_name
    zurich = ics.timezone_component("Europe/Zurich", 2026, 2026)
    assert [o["RRULE"]["BYDAY"] for o in zurich.walk("DAYLIGHT")] == [["-1SU"]]
    lord_howe = ics.timezone_component("Australia/Lord_Howe", 2026, 2026)
    assert lord_howe.walk("DAYLIGHT")[0]["TZOFFSETTO"].td == timedelta(hours=11)
    assert lord_howe.walk("STANDARD")[0]["TZOFFSETTO"].td == timedelta(hours=10, minutes=30)
    kolkata = ics.timezone_component("Asia/Kolkata", 2026, 2026)
    assert [o["TZOFFSETTO"].td for o in kolkata.walk("STANDARD")] == [
        timedelta(hours=5, minutes=30)
    ]
    assert not kolkata.walk("DAYLIGHT")


def test_a_zone_that_drops_its_rule_gets_an_end_or_dates(client):
    """São Paulo stopped daylight saving in 2019: its last onsets are written as dates
    (RDATE), and every parser still agrees with zoneinfo."""
    make_event(
        slug="sao-paulo",
        timezone="America/Sao_Paulo",
        starts_at=datetime(2018, 12, 1, 15, 0, tzinfo=UTC),
        ends_at=datetime(2019, 12, 1, 16, 0, tzinfo=UTC),
    )
    body = client.get("/en/events/sao-paulo/calendar.ics").content
    read_consistently(body, first_year=2018, last_year=2019, zone_name="America/Sao_Paulo")
    assert b"RDATE:20190217T000000" in body
    assert b"RRULE" not in body


def test_a_batch_of_invitations_equals_building_each_one(june_event, settings):
    """build_invitations swaps only the ATTENDEE line into one file per batch; the result
    is byte for byte what building each invitation gives, whatever the name holds."""
    now = datetime(2021, 6, 20, 12, 0, tzinfo=UTC)
    options = {"event": june_event, "sequence": 7, "method": "REQUEST", "now": now}
    personalise = ics.build_invitations(**options)
    for email, name in [
        ("ana@example.org", "Ana"),
        ("zoe@example.org", 'Zoë <b>O\'Brien</b> & "Ana" Ñúñez 王 عائشة with a long name to fold'),
        ("x@example.org", ""),
    ]:
        merged = personalise(email, name)
        assert merged == build_calendar(attendee=(email, name), **options)
        assert str(parse(merged)[1]["ATTENDEE"]) == f"mailto:{email}"


def test_a_kept_invitation_sent_later_carries_that_moments_stamp_and_sequence(june_event):
    """notifications.emails keeps a built file across batches: a message sent later gets the
    DTSTAMP and SEQUENCE it would have had if built then, byte for byte."""
    built = datetime(2021, 6, 20, 12, 0, tzinfo=UTC)
    options = {"event": june_event, "method": "REQUEST"}
    personalise = ics.build_invitations(
        sequence=ics.invitation_sequence(built), now=built, **options
    )
    later = datetime(2021, 6, 21, 9, 30, 15, 123456, tzinfo=UTC)
    sequence = ics.invitation_sequence(later)
    assert sequence > ics.invitation_sequence(built)
    merged = personalise("zoe@example.org", 'Zoë, "Z" Ñúñez', sequence=sequence, now=later)
    expected = build_calendar(
        attendee=("zoe@example.org", 'Zoë, "Z" Ñúñez'), sequence=sequence, now=later, **options
    )
    assert merged == expected
    assert parse(merged)[1]["SEQUENCE"] == sequence


def test_google_and_outlook_links_carry_the_utc_times(june_event):
    google = parse_qs(urlsplit(google_calendar_url(june_event, "https://x.org/e/")).query)
    assert google["dates"] == ["20210625T163000Z/20210625T180000Z"]
    assert google["ctz"] == ["America/New_York"]
    outlook = parse_qs(urlsplit(outlook_calendar_url(june_event, "https://x.org/e/")).query)
    assert outlook["startdt"] == ["2021-06-25T16:30:00Z"]
    assert outlook["subject"] == ["Civil society and prisons"]
    for url in (google_calendar_url(june_event, ""), outlook_calendar_url(june_event, "")):
        assert SECRET_MEETING_URL not in url


def _icalendars_attendee_line(method, email, name):
    """What icalendar writes for the ATTENDEE property (ics.attendee_line writes it directly)."""
    from icalendar.parser import Contentline

    address = ics._attendee(method, email, name)
    line = Contentline.from_parts("ATTENDEE", address.params, address, sorted=True)
    return line.to_ical() + b"\r\n"


TRICKY_NAMES = [
    "",
    "Ana",
    "Ana Lima",
    "O'Brien",
    "Lima, Ana",
    'Ana "the panel" Lima',
    "Ana; Lima: panel",
    "Ana\u2019s",  # the right single quotation mark: icalendar quotes it
    "a^b\\c",
    "Zoë Ñúñez 王小明 عائشة 😀",
    "王" * 40,
    "😀" * 30,
    "Ana Lima with a name long enough that the attendee line folds more than once, surely",
    *(("x" * n + "^" + "y" * 20) for n in range(50, 80)),
    *(("x" * n + "\\" + "y" * 20) for n in range(50, 80)),
    *(("x" * n + "é" + "y" * 20) for n in range(50, 80)),
]


@pytest.mark.parametrize("method", ["REQUEST", "CANCEL"])
def test_attendee_line_is_icalendars_byte_for_byte(method):
    for name in TRICKY_NAMES:
        for email in ("ana@example.org", "a.very.long.address.for.folding@subdomain.example.org"):
            assert ics.attendee_line(method, email, name) == _icalendars_attendee_line(
                method, email, name
            ), name
