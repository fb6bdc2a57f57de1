"""Calendar files and "add to calendar" links for an event.

One builder serves both callers: the public download (METHOD:PUBLISH, never the meeting
link) and the notifications app (a registrant's invitation: METHOD:REQUEST with the
registrant as ATTENDEE, and METHOD:CANCEL to take the entry away again).

One UID per event, shared by the public file and every registrant's invitation. A calendar
keeps one entry per UID, so someone who downloads the public file and then registers ends
up with one entry, which the invitation updates (with the meeting link) instead of adding a
second one; that is also how any meeting invitation works: one UID, many attendees, each
receiving their own copy. Removing one attendee is a CANCEL to that attendee only
(RFC 5546, 3.2.5), so a registrant's cancellation takes the entry out of their calendar
without touching anyone else's.

SEQUENCE tells a calendar which copy of an entry is newer. The public file carries the
event's own counter (`event.sequence`, a few units: it grows with every change of time or
link and with the cancellation). Invitations carry the seconds elapsed since 2020 when the
file was built (INVITATION_EPOCH): always far above the public counter, so the invitation
outranks a downloaded public file and a later download cannot strip the meeting link from
the entry; and rising with every message, so a change, a cancellation and a new
registration after a cancellation each replace what came before, whatever the message kind.

VTIMEZONE blocks are generated from zoneinfo (timezone_component): each STANDARD or
DAYLIGHT onset is the local time before the switch with the offset before it, as RFC 5545
defines DTSTART there; onsets that follow a yearly rule are written as an RRULE (Outlook
handles RDATE-only blocks poorly), the others as RDATEs.
"""

import calendar as calendar_module
import functools
import zoneinfo
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from typing import NamedTuple
from urllib.parse import urlencode, urlsplit

import icalendar
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext
from icalendar.parser import param_value

PRODID = "-//Convene//Event registration//EN"
INVITATION_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# A zone changes its offset at most a few times a year: looking day by day finds each
# change, and halving the day down to the second finds its exact instant.
SCAN_STEP = timedelta(days=1)
# How far before the first covered year to look for the change in force on 1 January.
LOOK_BACK = timedelta(days=3 * 366)
PLACEHOLDER_ATTENDEE = ("attendee@placeholder.invalid", "attendee")


def event_uid(event):
    """The UID of every calendar file about `event`: the public download and each
    registrant's invitation (see the module docstring for why they share it)."""
    return f"event-{event.pk}@{urlsplit(settings.SITE_URL).hostname or 'localhost'}"


def invitation_sequence(now=None):
    """SEQUENCE of an invitation built at `now`: seconds since INVITATION_EPOCH."""
    now = now or timezone.now()
    return max(int((now - INVITATION_EPOCH).total_seconds()), 0)


def organizer(event):
    """(address, name) of the ORGANIZER: the event's contact, or the sender of the emails."""
    name, address = parseaddr(str(settings.DEFAULT_FROM_EMAIL))
    return (event.contact_email or address, event.organiser or name or settings.SITE_NAME)


# --- VTIMEZONE from zoneinfo ----------------------------------------------------------------


class Transition(NamedTuple):
    """One change of a zone's offset or abbreviation, at a UTC instant."""

    at: datetime
    offset_from: timedelta
    offset_to: timedelta
    name: str
    dst: bool

    @property
    def local_onset(self):
        """The wall-clock time of the change, read on the clock before it (RFC 5545 DTSTART
        of a STANDARD or DAYLIGHT block), without a zone."""
        return (self.at + self.offset_from).replace(tzinfo=None)


def _state(zone, instant):
    local = instant.astimezone(zone)
    return local.utcoffset(), bool(local.dst()), local.tzname()


def _exact_change(zone, before, after):
    """The first whole second after `before` at which the zone's state differs from its
    state at `before` (one change lies between the two instants)."""
    old = _state(zone, before)
    low, high = 0, int((after - before).total_seconds())
    while high - low > 1:
        middle = (low + high) // 2
        if _state(zone, before + timedelta(seconds=middle)) == old:
            low = middle
        else:
            high = middle
    return before + timedelta(seconds=high)


def transitions(zone, start, end):
    """Every change of the tzinfo `zone` in [start, end) (aware UTC datetimes). Works for any
    tzinfo: the tests read other parsers' zones with it."""
    found = []
    instant, state = start, _state(zone, start)
    while instant < end:
        following = min(instant + SCAN_STEP, end)
        new_state = _state(zone, following)
        if new_state != state:
            at = _exact_change(zone, instant, following)
            offset_to, dst, name = _state(zone, at)
            offset_from = _state(zone, at - timedelta(seconds=1))[0]
            found.append(Transition(at, offset_from, offset_to, name, dst))
        instant, state = following, new_state
    return tuple(found)


@functools.lru_cache(maxsize=64)
def zone_transitions(zone_name, start, end):
    """Every change of the IANA zone `zone_name` in [start, end), from zoneinfo."""
    return transitions(zoneinfo.ZoneInfo(zone_name), start, end)


def _year_start(year):
    return datetime(year, 1, 1, tzinfo=UTC)


def _yearly_rule(onset):
    """The ways of stating `onset`'s day as a yearly rule: its month and n-th weekday,
    the last such weekday of the month, or the day of the month."""
    weekday = WEEKDAYS[onset.weekday()]
    rules = [("BYDAY", f"{(onset.day - 1) // 7 + 1}{weekday}")]
    if onset.day + 7 > calendar_module.monthrange(onset.year, onset.month)[1]:
        rules.append(("BYDAY", f"-1{weekday}"))
    rules.append(("BYMONTHDAY", onset.day))
    return rules


def _rule_of(changes):
    """The one yearly rule all `changes` (one a year, in consecutive years, in the same
    month at the same time of day) follow, as (part, value), or None."""
    onsets = [t.local_onset for t in changes]
    if [onset.year for onset in onsets] != list(
        range(onsets[0].year, onsets[0].year + len(onsets))
    ):
        return None
    if len({(onset.month, onset.time()) for onset in onsets}) > 1:
        return None
    shared = None
    for onset in onsets:
        rules = _yearly_rule(onset)
        shared = rules if shared is None else [rule for rule in shared if rule in rules]
    return shared[0] if shared else None


def _observance(transition, *, rrule=None, rdates=()):
    component = icalendar.TimezoneDaylight() if transition.dst else icalendar.TimezoneStandard()
    component.add("dtstart", transition.local_onset)
    component.add("tzoffsetfrom", transition.offset_from)
    component.add("tzoffsetto", transition.offset_to)
    if rrule:
        component.add("rrule", rrule)
    for rdate in rdates:  # one per line: dateutil reads only the first of a list
        component.add("rdate", rdate)
    component.add("tzname", transition.name)
    return component


def _observances(zone_name, first_year, last_year):
    """(transition, rrule or None, [rdate, ...]) for the VTIMEZONE of `zone_name` over
    first_year..last_year, starting with the change in force on 1 January of first_year."""
    start, end = _year_start(first_year), _year_start(last_year + 1)
    earlier = zone_transitions(zone_name, start - LOOK_BACK, start)
    covered = list(earlier[-1:]) + list(zone_transitions(zone_name, start, end))
    # The year after decides whether a rule goes on (an open RRULE) or stops (RDATEs).
    after = zone_transitions(zone_name, end, _year_start(last_year + 2))
    if not covered:
        offset, dst, name = _state(zoneinfo.ZoneInfo(zone_name), start)
        fixed = Transition(datetime(1970, 1, 1, tzinfo=UTC) - offset, offset, offset, name, dst)
        return [(fixed, None, [])]

    def key(t):
        return (t.dst, t.offset_from, t.offset_to, t.name)

    groups = defaultdict(list)
    for transition in covered:
        groups[key(transition)].append(transition)
    following = {key(t): t for t in after}
    result = []
    for members in groups.values():
        next_one = following.get(key(members[0]))
        # A rule that the year after follows too is an open RRULE. One that stops is
        # written out date by date: an RRULE with UNTIL is correct but some parsers (ical)
        # reject UNTIL in a VTIMEZONE, and a zone that drops its rule has few dates left.
        # The RDATEs repeat DTSTART (RFC 5545 ignores the duplicate): some parsers (ical)
        # read only the RDATEs of a block without RRULE.
        rule = _rule_of([*members, next_one]) if next_one else None
        if rule is None:
            rdates = [t.local_onset for t in members] if len(members) > 1 else []
            result.append((members[0], None, rdates))
            continue
        part, value = rule
        rrule = {"FREQ": "YEARLY", "BYMONTH": members[0].local_onset.month, part: value}
        result.append((members[0], rrule, []))
    result.sort(key=lambda item: item[0].at)
    return result


@functools.lru_cache(maxsize=64)
def _timezone_ical(zone_name, first_year, last_year):
    component = icalendar.Timezone()
    component.add("tzid", zone_name)
    for transition, rrule, rdates in _observances(zone_name, first_year, last_year):
        component.add_component(_observance(transition, rrule=rrule, rdates=rdates))
    return component.to_ical()


def timezone_component(zone_name, first_year, last_year):
    """The VTIMEZONE of `zone_name` for first_year..last_year, exactly as zoneinfo has it."""
    return icalendar.Timezone.from_ical(_timezone_ical(zone_name, first_year, last_year))


# --- The calendar file ----------------------------------------------------------------------


def _description(event, *, url, meeting_url, meeting_details):
    parts = [event.translated("summary")]
    if meeting_url:
        parts.append(gettext("Meeting link: %(url)s") % {"url": meeting_url})
    if meeting_url and meeting_details:
        parts.append(meeting_details)
    if url:
        parts.append(gettext("Event page: %(url)s") % {"url": url})
    return "\n\n".join(part for part in parts if part)


def _address(email, name, **params):
    address = icalendar.vCalAddress(f"mailto:{email}")
    if name:
        address.params["CN"] = name
    address.params.update(params)
    return address


def _attendee(method, email, name):
    if method == "REQUEST":
        return _address(
            email,
            name,
            CUTYPE="INDIVIDUAL",
            ROLE="REQ-PARTICIPANT",
            PARTSTAT="ACCEPTED",
            RSVP="FALSE",
        )
    return _address(email, name, CUTYPE="INDIVIDUAL", ROLE="REQ-PARTICIPANT")


# The ATTENDEE parameters after CN, in icalendar's (sorted) order.
_ATTENDEE_PARAMS = {
    "REQUEST": ";CUTYPE=INDIVIDUAL;PARTSTAT=ACCEPTED;ROLE=REQ-PARTICIPANT;RSVP=FALSE",
    "other": ";CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT",
}
FOLD_AT = 74  # octets per folded line before its CRLF (and the next one's space): icalendar's


def attendee_line(method, email, name):
    """The ATTENDEE content line (folded, CRLF-terminated bytes) as build_calendar writes it
    through icalendar, written directly: one per message of a batch, where icalendar's
    Parameters, vCalAddress and Contentline objects cost about 0.18 ms. The CN value is
    escaped and quoted by icalendar's own param_value, with its rule for CN (quoted when it
    holds a space or an apostrophe); tests/events/test_calendar.py compares the bytes with
    icalendar's for names with commas, quotes, escapes and non-ASCII letters, folded."""
    if "\r" in email or "\n" in email:
        raise ValueError(f"A CAL-ADDRESS value may not contain CR or LF characters: {email!r}")
    cn = ""
    if name:
        cn = ";CN=" + param_value(name, always_quote=" " in name or "'" in name)
    params = _ATTENDEE_PARAMS["REQUEST" if method == "REQUEST" else "other"]
    return _fold(f"ATTENDEE{cn}{params}:mailto:{email}".encode()) + b"\r\n"


def _fold(data):
    """icalendar's folding (parser.string._foldline) on bytes: lines of at most FOLD_AT
    octets, never splitting a UTF-8 character, and a trailing escape character (\\ or ^)
    carried to the next line."""
    parts, start, end_of_data = [], 0, len(data)
    while end_of_data - start > FOLD_AT:
        end = start + FOLD_AT
        while data[end] & 0xC0 == 0x80:  # inside a character: fold before it
            end -= 1
        if data[end - 1] in b"\\^" and end - 1 > start:
            end -= 1
        parts.append(data[start:end])
        start = end
    parts.append(data[start:])
    return b"\r\n ".join(parts)


def build_calendar(
    *,
    event,
    sequence,
    method="PUBLISH",
    cancelled=False,
    attendee=None,
    meeting_url="",
    meeting_details="",
    language=None,
    url=None,
    now=None,
):
    """An iCalendar file (bytes) with the event's VTIMEZONE and one VEVENT, UID event_uid().

    `method` is PUBLISH (the public file; `cancelled` marks a cancelled event), REQUEST (an
    invitation to `attendee`, an (email, name) pair) or CANCEL (takes the entry away from
    `attendee`). The meeting link and details appear only when `meeting_url` is passed: the
    public download never passes it.
    """
    now = now or timezone.now()
    with translation.override(language or translation.get_language() or "en"):
        calendar = icalendar.Calendar()
        calendar.add("prodid", PRODID)
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("method", method)

        starts, ends = event.local_starts_at, event.local_ends_at
        calendar.add_component(timezone_component(event.timezone, starts.year, ends.year))

        vevent = icalendar.Event()
        vevent.add("uid", event_uid(event))
        vevent.add("sequence", sequence)
        vevent.add("dtstamp", now.astimezone(UTC))
        vevent.add("dtstart", starts)
        vevent.add("dtend", ends)
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
        vevent.add("organizer", _address(*organizer(event)))
        if attendee:
            vevent.add("attendee", _attendee(method, *attendee))
        vevent.add("status", "CANCELLED" if cancelled or method == "CANCEL" else "CONFIRMED")
        calendar.add_component(vevent)
        return calendar.to_ical()


def build_invitations(**options):
    """build_calendar(**options) for many attendees at the cost of one: call the returned
    function with (email, name) for each. Only the ATTENDEE line differs between them, and
    content lines fold on their own, so swapping that line gives exactly the file
    build_calendar(attendee=(email, name), **options) writes (tests/events/test_calendar.py
    compares the two).

    The returned function also takes `sequence` and `now`: the file build_calendar would
    write with those instead (SEQUENCE and DTSTAMP are short lines, swapped like ATTENDEE).
    So one built file serves messages sent at different times, each with the SEQUENCE of
    its own moment (notifications.emails keeps them across batches)."""
    method = options.get("method", "PUBLISH")
    options["now"] = built_at = options.get("now") or timezone.now()
    template = build_calendar(attendee=PLACEHOLDER_ATTENDEE, **options)
    placeholder = attendee_line(method, *PLACEHOLDER_ATTENDEE)
    stamp, sequence_line = _stamp_line(built_at), _sequence_line(options["sequence"])
    if template.count(stamp) != 1 or template.count(sequence_line) != 1:
        raise RuntimeError("the calendar's DTSTAMP or SEQUENCE line is not where expected")

    def personalise(email, name, *, sequence=None, now=None):
        body = template.replace(placeholder, attendee_line(method, email, name), 1)
        if now is not None:
            body = body.replace(stamp, _stamp_line(now), 1)
        if sequence is not None:
            body = body.replace(sequence_line, _sequence_line(sequence), 1)
        return body

    return personalise


def _stamp_line(now):
    return f"DTSTAMP:{_utc_stamp(now)}\r\n".encode()


def _sequence_line(sequence):
    return f"SEQUENCE:{int(sequence)}\r\n".encode()


# --- "Add to calendar" links ----------------------------------------------------------------


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
