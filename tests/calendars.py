"""Reading Convene's calendar files as other software does: every .ics the app produces is
read by three parsers that share no code with `icalendar` (which writes them): vobject
(dateutil's VTIMEZONE engine), ical (allenporter's, pydantic-based) and ical.js (Mozilla's,
as in Thunderbird; run with node). Each reading is reduced to the same plain facts, so a
test can demand that all parsers agree with each other and with zoneinfo.

ical.js comes from npm: .ci/run installs it into var/npm; without it (and node) its reading
is left out locally, but under CI=true its absence fails the test, as for the browser tests.
"""

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import vobject
from ical.calendar_stream import IcsCalendarStream
from ical.timezone import IcsTimezoneInfo

from events.ics import transitions

ROOT = Path(__file__).resolve().parent.parent
ICAL_JS = ROOT / "var" / "npm" / "node_modules" / "ical.js" / "dist" / "ical.js"
ICAL_JS_READER = Path(__file__).resolve().parent / "events" / "read_with_icaljs.mjs"


def _span(first_year, last_year):
    return datetime(first_year, 1, 1, tzinfo=UTC), datetime(last_year + 1, 1, 1, tzinfo=UTC)


def _changes(found):
    return [(t.at, t.offset_from, t.offset_to) for t in found]


def _address(value):
    return str(value).removeprefix("mailto:").removeprefix("MAILTO:")


def _forget_vobject_zones():
    """vobject keeps the first VTIMEZONE it read for each TZID, across files, and reads
    later files' times with it: each file must be read with its own."""
    zones = vars(vobject.icalendar)["__tzidMap"]
    zones.clear()
    vobject.icalendar.registerTzid("UTC", vobject.icalendar.utc)


def read_with_vobject(body, first_year, last_year):
    _forget_vobject_zones()
    calendar = vobject.readOne(body.decode())
    vevent = calendar.vevent
    zones = [zone.gettzinfo() for zone in calendar.contents.get("vtimezone", [])]
    return {
        "method": calendar.method.value,
        "uid": vevent.uid.value,
        "sequence": int(vevent.sequence.value),
        "status": vevent.status.value,
        "start": vevent.dtstart.value.astimezone(UTC),
        "end": vevent.dtend.value.astimezone(UTC),
        "organizer": _address(vevent.organizer.value) if "organizer" in vevent.contents else None,
        "attendees": [_address(a.value) for a in vevent.contents.get("attendee", [])],
        "transitions": _changes(transitions(zones[0], *_span(first_year, last_year))),
    }


def read_with_ical(body, first_year, last_year):
    calendar = IcsCalendarStream.calendar_from_ics(body.decode())
    event = calendar.events[0]
    zone = IcsTimezoneInfo.from_timezone(calendar.timezones[0])
    return {
        "method": calendar.method,
        "uid": event.uid,
        "sequence": event.sequence,
        "status": str(event.status.value),
        "start": event.dtstart.astimezone(UTC),
        "end": event.dtend.astimezone(UTC),
        "organizer": _address(event.organizer.uri) if event.organizer else None,
        "attendees": [_address(a.uri) for a in event.attendees],
        "transitions": _changes(transitions(zone, *_span(first_year, last_year))),
    }


def read_with_icaljs(body, first_year, last_year):
    node = shutil.which("node")
    if not node or not ICAL_JS.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"ical.js is required under CI=true (node: {node}, {ICAL_JS})")
        return None
    result = subprocess.run(
        [node, str(ICAL_JS_READER), str(ICAL_JS), str(first_year), str(last_year)],
        input=body,
        capture_output=True,
        check=True,
        timeout=60,
    )
    read = json.loads(result.stdout)
    return {
        "method": read["method"],
        "uid": read["uid"],
        "sequence": read["sequence"],
        "status": read["status"],
        "start": datetime.fromtimestamp(read["start"], UTC),
        "end": datetime.fromtimestamp(read["end"], UTC),
        "organizer": _address(read["organizer"]["value"]) if read["organizer"] else None,
        "attendees": [_address(a["value"]) for a in read["attendees"]],
        "transitions": [
            (
                datetime.fromtimestamp(change["at"], UTC),
                timedelta(seconds=change["from"]),
                timedelta(seconds=change["to"]),
            )
            for change in read["changes"]
        ],
    }


def read_everywhere(body, *, first_year, last_year):
    """{parser: facts} for every parser available (see the module docstring)."""
    readings = {
        "vobject": read_with_vobject(body, first_year, last_year),
        "ical": read_with_ical(body, first_year, last_year),
        "ical.js": read_with_icaljs(body, first_year, last_year),
    }
    return {name: facts for name, facts in readings.items() if facts is not None}


def zoneinfo_changes(zone_name, first_year, last_year):
    """Every change of `zone_name` in those years, from zoneinfo (UTC instant, offsets)."""
    from zoneinfo import ZoneInfo

    return _changes(transitions(ZoneInfo(zone_name), *_span(first_year, last_year)))


def read_consistently(body, *, first_year, last_year, zone_name):
    """The facts every parser agrees on; asserts they agree, and that each one's VTIMEZONE
    changes over those years are exactly zoneinfo's."""
    readings = read_everywhere(body, first_year=first_year, last_year=last_year)
    expected = zoneinfo_changes(zone_name, first_year, last_year)
    for name, facts in readings.items():
        assert facts["transitions"] == expected, (name, facts["transitions"], expected)
    first = next(iter(readings.values()))
    for name, facts in readings.items():
        assert facts == first, (name, facts, first)
    return first
