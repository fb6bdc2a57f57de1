"""Importing a participant report: who of the event's registrants attended, and for how long.

The one writer of Registration.attended and minutes_attended; the import_attendance command
and the admin's upload both call import_attendance().

Rules, so that the follow-up and absentee messages go to the right people:
- A participant is matched to a registration by canonical email (registration.addresses):
  case, spaces, quotes and IDNA spellings of one mailbox are one address. Names are never
  matched: two people share a name more often than a mailbox. Participants without an
  address (phone dial-ins, Zoom guests who were not asked) are reported as unmatched.
- Every registration that is not cancelled gets a value: attended with its minutes, or not
  attended (0 minutes) — including people on the waiting list or awaiting approval, so that
  "registered but absent" is a complete list. Cancelled registrations are reset to "no
  report" (None): they said they would not come, and a cancelled person who came anyway is
  reported as unmatched rather than messaged as an attendee.
- Minutes present: one row is taken as the product reports it. Several rows for one person
  (rejoins, or a phone and a laptop at once) count the time covered by their join-to-leave
  intervals, so overlapping connections are not counted twice; when a row lacks its times,
  the minutes are summed and capped at the event's scheduled length.
- A report without a single email address is refused: storing it would mark everyone absent.
- Importing again replaces the previous import for the event: safe to run twice.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import models, transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from events import audit
from events.models import AuditEntry
from registration.addresses import canonical_email_or_none
from registration.attendance.formats import Participant, parse
from registration.attendance.reading import MAX_REPORT_BYTES, ReportError, decode
from registration.models import Registration

Status = Registration.Status
# Addresses per UPDATE ... WHERE email IN (...): within every database's parameter limit.
UPDATE_BATCH = 500


class Unmatched(models.TextChoices):
    """Why a participant of the report was not matched to a registration."""

    NO_EMAIL = "no_email", _("No usable email address in the report")
    NOT_REGISTERED = "not_registered", _("No registration with this address")
    CANCELLED = "cancelled", _("Their registration was cancelled")


@dataclass(frozen=True)
class UnmatchedParticipant:
    name: str
    email: str
    reason: Unmatched


@dataclass
class ImportResult:
    report: str  # which product's report it was, e.g. "Zoom meeting participants report"
    rows: int
    attended: int = 0
    absent: int = 0
    unmatched: list[UnmatchedParticipant] = field(default_factory=list)

    def summary(self) -> str:
        return gettext(
            "%(report)s: %(attended)d registrants attended, %(absent)d did not; "
            "%(unmatched)d participants not matched to a registration."
        ) % {
            "report": self.report,
            "attended": self.attended,
            "absent": self.absent,
            "unmatched": len(self.unmatched),
        }


def import_attendance(*, event, data: bytes, user=None) -> ImportResult:
    """Reads the report in `data` and stores every registrant's attendance for `event`,
    replacing any earlier import (safe to run twice). Raises ReportError, with a message
    for the organiser, for a file too large or not a report; nothing is written then."""
    if len(data) > MAX_REPORT_BYTES:
        raise ReportError(
            gettext("The file is larger than %(size)d MB; a participant report is much smaller.")
            % {"size": MAX_REPORT_BYTES // (1024 * 1024)}
        )
    report = parse(decode(data))
    by_address, unmatched = _by_address(report.participants)
    if not by_address:
        # Nobody could be matched: storing it would mark every registrant absent.
        raise ReportError(
            gettext(
                "This %(report)s lists no email addresses, so no participant can be matched "
                "to a registration. Export the report with the participants' email addresses."
            )
            % {"report": report.format.label}
        )
    cap = max(event.ends_at - event.starts_at, timedelta(0))
    present = {address: _minutes_present(rows, cap=cap) for address, rows in by_address.items()}
    result = ImportResult(report=str(report.format.label), rows=len(report.participants))

    with transaction.atomic():
        # Locked, so that a registration or cancellation meanwhile waits for the import.
        locked = list(
            Registration.objects.select_for_update()
            .filter(event=event)
            .values_list("email", "status")
        )
        active = {email for email, status in locked if status != Status.CANCELLED}
        cancelled = {email for email, status in locked if status == Status.CANCELLED} - active
        rows_of_event = Registration.objects.filter(event=event)
        active_rows = rows_of_event.exclude(status=Status.CANCELLED)
        rows_of_event.filter(status=Status.CANCELLED).update(attended=None, minutes_attended=None)
        result.absent = active_rows.update(attended=False, minutes_attended=0)
        # One UPDATE per distinct number of minutes (at most the event's length in minutes),
        # not one per person: 5,000 attendees in well under a second.
        by_minutes: dict[int, list[str]] = defaultdict(list)
        for address, minutes_present in present.items():
            if address in active:
                by_minutes[minutes_present].append(address)
        for minutes_present, addresses in by_minutes.items():
            for start in range(0, len(addresses), UPDATE_BATCH):
                result.attended += active_rows.filter(
                    email__in=addresses[start : start + UPDATE_BATCH]
                ).update(attended=True, minutes_attended=minutes_present)
        result.absent -= result.attended
        for address, rows in by_address.items():
            if address not in active:
                reason = Unmatched.CANCELLED if address in cancelled else Unmatched.NOT_REGISTERED
                unmatched.append(UnmatchedParticipant(rows[0].name, address, reason))
        result.unmatched = sorted(unmatched, key=lambda person: (person.reason, person.name))
        audit.record(
            events=[event],
            user=user,
            action=AuditEntry.Action.IMPORTED_ATTENDANCE,
            detail=result.summary(),
        )
    return result


def _by_address(participants: list[Participant]):
    """The report's rows grouped by canonical address, and the people without one (each
    name once: a dial-in who reconnects is one person)."""
    by_address: dict[str, list[Participant]] = defaultdict(list)
    without: dict[tuple[str, str], UnmatchedParticipant] = {}
    for participant in participants:
        address = canonical_email_or_none(participant.email) if participant.email else None
        if address:
            by_address[address].append(participant)
        else:
            key = (participant.name, participant.email)
            without[key] = UnmatchedParticipant(
                participant.name, participant.email, Unmatched.NO_EMAIL
            )
    return by_address, list(without.values())


def _minutes_present(rows: list[Participant], *, cap: timedelta) -> int:
    """Whole minutes (rounded) one person was present; see the module's rules."""
    spans = [(r.joined, r.left) for r in rows if r.joined and r.left and r.left >= r.joined]
    if len(rows) > 1 and len(spans) == len(rows):
        covered = timedelta(0)
        reach = min(joined for joined, _left in spans)
        for joined, left in sorted(spans):
            start = max(joined, reach)
            if left > start:
                covered += left - start
            reach = max(reach, left)
        return round(covered / timedelta(minutes=1))
    total = 0.0
    for row in rows:
        if row.minutes is not None:
            total += row.minutes
        elif row.joined and row.left and row.left >= row.joined:
            total += (row.left - row.joined) / timedelta(minutes=1)
    if len(rows) > 1:
        total = min(total, cap / timedelta(minutes=1))
    return round(total)
