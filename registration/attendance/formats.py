"""The participant reports of Zoom, Microsoft Teams and Webex: which one a file is (from its
header row, never its name) and who was there for how long.

What each product writes, as documented or as its exports read (the samples in
tests/registration/samples/ follow these):

- Zoom meeting, "Participants" report (Reports > Usage > Participants > Export, Zoom support
  "Getting meeting and webinar usage reports"): with "Export with meeting data" a header
  block `Meeting ID,Topic,Start Time,End Time,User Email,Duration (Minutes),Participants`,
  one line of values and a blank line come first; then
  `Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest[,...]`,
  one row per connection (a person who drops and rejoins has several rows). With "Show
  unique users" the rows are per person: `Name (original name),Email,Total duration
  (minutes),Guest`. Older exports say `Name` and `Duration(Minutes)`.
- Zoom webinar, "Attendee report" (Reports > Webinar > Attendee report): sections titled
  "Host Details", "Panelist Details", "Attendee Details", each with its own header, e.g.
  `Attended,User Name (Original Name),First Name,Last Name,Email,...,Join Time,Leave Time,
  Time in Session (minutes),Is Guest,...`; registrants who never came are listed with
  `Attended` = No.
- Microsoft Teams, attendance report (Microsoft Learn "Manage the attendance report for
  meetings and events in Microsoft Teams"; downloaded as .csv it is UTF-16 LE with a BOM,
  tab-separated): sections "1. Summary", "2. Participants" with
  `Name, First Join, Last Leave, In-Meeting Duration, Email, Participant ID (UPN), Role`
  (durations as "1h 27m 51s") and "3. In-Meeting Activities", whose per-connection rows we
  leave: "2. Participants" already totals them. Before 2021 Teams wrote an event list:
  `Full Name, User Action, Timestamp` with "Joined" / "Left" rows and no address.
- Webex Meetings, meeting attendee report (Control Hub / site reports; the fields of the
  Webex API "List Meeting Attendee Reports", GET /meetingReports/attendees: displayName,
  email, joinedTime, leftTime, duration in minutes, participantType, registered, invited):
  `Display Name, Email, Joined Time, Left Time, Duration, Participant Type, ...`. Webex
  Events and older site reports say `Name`/`Attendee Email`, `Join Time`, `Leave Time` and
  `Attendance Duration`; those spellings are accepted too.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from registration.attendance.reading import ReportError, header_key, minutes, moment, rows

# The header row is looked for in the first lines only: a header further down is not a report.
HEADER_SEARCH_LINES = 60


@dataclass(frozen=True)
class Participant:
    """One row of a report: one connection, or one person when the product totals them."""

    name: str
    email: str
    minutes: float | None
    joined: datetime | None = None
    left: datetime | None = None


@dataclass(frozen=True)
class Format:
    key: str
    label: Promise
    # role -> the header keys (reading.header_key) that may hold it; every role must be found.
    required: dict[str, tuple[str, ...]]
    optional: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # At least one of these columns: what tells this product's table from a look-alike.
    marks: tuple[str, ...] = ()
    # The columns as the product spells them, for the message that refuses a file.
    expected: str = ""

    def columns(self, keys: list[str]) -> dict[str, int] | None:
        """Which cell holds each role, or None when this header is not this format's."""
        if self.marks and not set(self.marks) & set(keys):
            return None
        found = {}
        for role, names in (*self.required.items(), *self.optional.items()):
            index = next((keys.index(name) for name in names if name in keys), None)
            if index is None and role in self.required:
                return None
            if index is not None:
                found[role] = index
        return found


JOINED = ("jointime", "joinedtime", "firstjoin", "timejoined")
LEFT = ("leavetime", "lefttime", "lastleave", "timeleft")

ZOOM_WEBINAR = Format(
    "zoom_webinar",
    _("Zoom webinar attendee report"),
    required={
        "attended": ("attended",),
        "name": ("usernameoriginalname", "username"),
        "email": ("email",),
        "minutes": ("timeinsessionminutes",),
    },
    optional={"joined": JOINED, "left": LEFT, "first": ("firstname",), "last": ("lastname",)},
    marks=("timeinsessionminutes",),
    expected="Attended, User Name (Original Name), Email, Join Time, Leave Time, "
    "Time in Session (minutes)",
)
ZOOM_MEETING = Format(
    "zoom_meeting",
    _("Zoom meeting participants report"),
    required={
        "name": ("nameoriginalname", "name"),
        "email": ("useremail", "email"),
        "minutes": ("durationminutes", "totaldurationminutes"),
    },
    optional={"joined": JOINED, "left": LEFT},
    marks=("nameoriginalname", "useremail"),
    expected="Name (Original Name), User Email, Join Time, Leave Time, Duration (Minutes), Guest",
)
TEAMS = Format(
    "teams",
    _("Microsoft Teams attendance report"),
    required={
        "name": ("name", "fullname"),
        "minutes": ("inmeetingduration",),
    },
    optional={
        "email": ("email",),
        "upn": ("participantidupn", "participantid", "upn"),
        "joined": JOINED,
        "left": LEFT,
    },
    marks=("inmeetingduration",),
    expected="Name, First Join, Last Leave, In-Meeting Duration, Email, Participant ID (UPN), Role",
)
TEAMS_EVENTS = Format(
    "teams_events",
    _("Microsoft Teams attendance list (joined and left times)"),
    required={"name": ("fullname", "name"), "action": ("useraction",), "at": ("timestamp",)},
    optional={"email": ("email",), "upn": ("participantidupn", "participantid", "upn")},
    marks=("useraction",),
    expected="Full Name, User Action, Timestamp",
)
WEBEX = Format(
    "webex",
    _("Webex meeting attendee report"),
    required={
        "name": ("displayname", "name", "attendeename", "participantname", "fullname"),
        "email": ("email", "attendeeemail", "emailaddress", "participantemail"),
        "minutes": (
            "attendanceduration",
            "attendancedurationminutes",
            "duration",
            "durationminutes",
            "durationmins",
        ),
    },
    optional={"joined": JOINED, "left": LEFT},
    expected="Display Name, Email, Joined Time, Left Time, Duration",
)
# The order matters where a header could pass two checks: the most specific first.
FORMATS = (ZOOM_WEBINAR, ZOOM_MEETING, TEAMS, TEAMS_EVENTS, WEBEX)


@dataclass(frozen=True)
class Report:
    format: Format
    participants: list[Participant]


def parse(text: str) -> Report:
    """The participants of a report's text. The first header row recognised decides the
    product; a later header row of the same product (Zoom's webinar sections) starts
    another table of it. A blank line or a title line ends a table. Raises ReportError,
    naming the headers expected, for a file that is none of these."""
    table = rows(text)
    chosen: Format | None = None
    tables: list[tuple[dict[str, int], list[list[str]]]] = []
    current: tuple[dict[str, int], list[list[str]]] | None = None
    for number, row in enumerate(table):
        cells = [cell for cell in row if cell]
        keys = [header_key(cell) for cell in row]
        candidates = (chosen,) if chosen else FORMATS if number < HEADER_SEARCH_LINES else ()
        header = next(
            ((fmt, cols) for fmt in candidates if fmt and (cols := fmt.columns(keys))), None
        )
        if header:
            chosen, columns = header
            current = (columns, [])
            tables.append(current)
        elif len(cells) < 2:
            current = None
        elif current is not None:
            current[1].append(row)
    if chosen is None:
        raise ReportError(_unrecognised(table))
    if chosen is TEAMS_EVENTS:
        participants = list(_from_events(tables))
    else:
        participants = [
            person for columns, data in tables for row in data if (person := _row(columns, row))
        ]
    return Report(format=chosen, participants=participants)


def _unrecognised(table):
    first = next((", ".join(cell for cell in row if cell) for row in table if any(row)), "")
    expected = "; ".join(f"{fmt.label}: {fmt.expected}" for fmt in FORMATS)
    return gettext(
        "This is not a participant report from Zoom, Microsoft Teams or Webex. Its first line "
        "is “%(first)s”; a report has a header row with these columns — %(expected)s."
    ) % {"first": first[:200], "expected": expected}


def _cell(row, columns, role):
    index = columns.get(role)
    return row[index] if index is not None and index < len(row) else ""


def _row(columns, row) -> Participant | None:
    if "attended" in columns and _cell(row, columns, "attended").lower() not in ("yes", "y"):
        return None  # a Zoom webinar registrant who never came
    name = _cell(row, columns, "name") or " ".join(
        filter(None, (_cell(row, columns, "first"), _cell(row, columns, "last")))
    )
    email = _cell(row, columns, "email")
    upn = _cell(row, columns, "upn")
    if not email and "@" in upn:
        email = upn  # Teams: a signed-in participant's UPN is their address
    if not (name or email):
        return None
    return Participant(
        name=name,
        email=email,
        minutes=minutes(_cell(row, columns, "minutes")),
        joined=moment(_cell(row, columns, "joined")),
        left=moment(_cell(row, columns, "left")),
    )


def _from_events(tables) -> Iterator[Participant]:
    """Teams' older list: pairs each "Joined" with the person's next "Left"; someone still
    in the meeting when the list was downloaded stays until its last timestamp."""
    entries = []
    for columns, data in tables:
        for row in data:
            at = moment(_cell(row, columns, "at"))
            if at is None:
                continue
            email = _cell(row, columns, "email") or _cell(row, columns, "upn")
            name, action = _cell(row, columns, "name"), _cell(row, columns, "action").lower()
            entries.append((at, name, email if "@" in email else "", action))
    if not entries:
        return
    end = max(at for at, *_rest in entries)
    open_since: dict[tuple[str, str], datetime] = {}
    for at, name, email, action in sorted(entries, key=lambda entry: entry[0]):
        who = (name, email)
        if action.startswith("joined"):
            open_since.setdefault(who, at)
        elif action.startswith("left") and who in open_since:
            joined = open_since.pop(who)
            yield Participant(name, email, (at - joined).total_seconds() / 60, joined, at)
    for (name, email), joined in open_since.items():
        yield Participant(name, email, (end - joined).total_seconds() / 60, joined, end)
