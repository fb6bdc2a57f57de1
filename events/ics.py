"""Calendar files and "add to calendar" links for an event.

One builder serves both callers: the public download (a per-event UID, never the meeting
link) and the notifications app (a per-registration UID, with the meeting link for people
who registered). Calendars match entries by UID and replace them when SEQUENCE grows, so the
caller keeps the UID stable and passes `event.sequence`.
"""

from datetime import UTC
from urllib.parse import urlencode, urlsplit

import icalendar
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext

PRODID = "-//Convene//Event registration//EN"


def public_uid(event):
    """The UID of the public download: the same for every visitor and every download."""
    return f"event-{event.pk}@{urlsplit(settings.SITE_URL).hostname or 'localhost'}"


def _description(event, *, url, meeting_url, meeting_details):
    parts = [event.translated("summary")]
    if meeting_url:
        parts.append(gettext("Meeting link: %(url)s") % {"url": meeting_url})
    if meeting_url and meeting_details:
        parts.append(meeting_details)
    if url:
        parts.append(gettext("Event page: %(url)s") % {"url": url})
    return "\n\n".join(part for part in parts if part)


def build_calendar(
    *,
    event,
    uid,
    sequence,
    method="PUBLISH",
    cancelled=False,
    meeting_url="",
    meeting_details="",
    language=None,
    url=None,
):
    """An iCalendar file (bytes) with the event's VTIMEZONE and one VEVENT.

    The meeting link and details appear only when `meeting_url` is passed: the public
    download never passes it.
    """
    with translation.override(language or translation.get_language() or "en"):
        calendar = icalendar.Calendar()
        calendar.add("prodid", PRODID)
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("method", "CANCEL" if cancelled else method)

        vevent = icalendar.Event()
        vevent.add("uid", uid)
        vevent.add("sequence", sequence)
        vevent.add("dtstamp", timezone.now().astimezone(UTC))
        vevent.add("dtstart", event.local_starts_at)
        vevent.add("dtend", event.local_ends_at)
        vevent.add("summary", event.translated("title"))
        description = _description(
            event, url=url, meeting_url=meeting_url, meeting_details=meeting_details
        )
        if description:
            vevent.add("description", description)
        if url:
            vevent.add("url", url)
        # A calendar shows LOCATION on the entry; the link is the place of a virtual event.
        if meeting_url:
            vevent.add("location", meeting_url)
        elif event.venue:
            vevent.add("location", event.venue)
        vevent.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        calendar.add_component(vevent)
        # VTIMEZONE for event.timezone, covering only the years around the event.
        year = event.local_starts_at.year
        calendar.add_missing_timezones(
            first_date=event.local_starts_at.date().replace(year=year - 1, month=1, day=1),
            last_date=event.local_starts_at.date().replace(year=year + 2, month=1, day=1),
        )
        return calendar.to_ical()


def _utc_stamp(value):
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _link_details(event, url):
    summary = event.translated("summary")
    return f"{summary}\n\n{url}" if summary and url else summary or url or ""


def google_calendar_url(event, url):
    """Google Calendar's "create event" link, prefilled (no meeting link: it is public)."""
    query = {
        "action": "TEMPLATE",
        "text": event.translated("title"),
        "dates": f"{_utc_stamp(event.starts_at)}/{_utc_stamp(event.ends_at)}",
        "ctz": event.timezone,
        "details": _link_details(event, url),
    }
    if url:
        query["location"] = url
    return "https://calendar.google.com/calendar/render?" + urlencode(query)


def outlook_calendar_url(event, url):
    """Outlook on the web's "new event" link, prefilled (no meeting link: it is public)."""
    query = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": event.translated("title"),
        "startdt": event.starts_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "enddt": event.ends_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "body": _link_details(event, url),
    }
    if url:
        query["location"] = url
    return "https://outlook.office.com/calendar/0/deeplink/compose?" + urlencode(query)
