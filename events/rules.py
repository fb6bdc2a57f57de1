"""The rules an event and its agenda must keep, whoever edits them.

One place, asked by the models' clean() (so by the admin's forms and by `import_event`, which
runs full_clean() and names the JSON key of the first error) and, for what is allowed but
risky, by both entry points through `event_warnings()`: the admin shows the warnings as
messages after saving, `import_event` prints them.

Times in messages are written in the event's own zone, the one the organiser thinks in.
"""

from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils import dateformat, timezone
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from events.zones import known_timezone

if TYPE_CHECKING:  # the models ask these rules from their clean()
    from events.models import AgendaItem, Event

# What a rule says about a field: a message, or a ValidationError with its parameters.
FieldErrors = dict[str, str | Promise | ValidationError]

# A meeting link sent closer to the start than this may not be read in time.
SEND_WARNING_LEAD = timedelta(hours=1)


def _local(value: datetime, tz: tzinfo) -> datetime:
    return timezone.localtime(value, tz)


def format_moment(value: datetime, tz: tzinfo) -> str:
    """'25 Jun 2027, 12:30 EDT': a time as an organiser reads it, in the event's zone (month
    names in the active language)."""
    local = _local(value, tz)
    return f"{dateformat.format(local, 'j M Y, H:i')} {local.tzname()}"


def format_span(starts_at: datetime, ends_at: datetime, tz: tzinfo) -> str:
    """'25 Jun 2027, 12:30-14:00 EDT' (with an en dash; the end's date when it differs)."""
    start, end = _local(starts_at, tz), _local(ends_at, tz)
    if start.date() == end.date():
        day = dateformat.format(start, "j M Y, H:i")
        return f"{day}\N{EN DASH}{dateformat.format(end, 'H:i')} {end.tzname()}"
    return f"{format_moment(starts_at, tz)} \N{EN DASH} {format_moment(ends_at, tz)}"


def event_errors(event: "Event") -> FieldErrors:
    """{field: message} for every rule the event breaks (empty: it may be saved)."""
    errors: FieldErrors = {}
    starts_at, ends_at = event.starts_at, event.ends_at
    timed = starts_at is not None and ends_at is not None
    tz = event.tz if timed and _known_zone(event) else timezone.get_current_timezone()
    if timed and ends_at <= starts_at:
        errors["ends_at"] = _("The event must end after it starts.")
    opens_at, closes_at = event.registration_opens_at, event.registration_closes_at
    if opens_at and closes_at and closes_at <= opens_at:
        errors["registration_closes_at"] = _("Registration must close after it opens.")
    elif timed and closes_at and closes_at > ends_at:
        errors["registration_closes_at"] = ValidationError(
            _(
                "Registration must close by the end of the event (%(end)s); "
                "blank closes it at the start."
            ),
            params={"end": format_moment(ends_at, tz)},
        )
    send_at = event.meeting_link_send_at
    if timed and send_at and send_at >= starts_at:
        errors["meeting_link_send_at"] = ValidationError(
            _(
                "The meeting link must go out before the event starts (%(start)s), "
                "or registrants cannot join in time."
            ),
            params={"start": format_moment(starts_at, tz)},
        )
    return errors


def event_warnings(event: "Event") -> list[tuple[str, str]]:
    """What is allowed but probably a mistake: [(field, sentence for the organiser)]."""
    warnings: list[tuple[str, str]] = []
    if event.registration_mode == event.RegistrationMode.INVITATION and not event.contact_email:
        # registration/by_invitation.html names this address to ask for an invitation.
        warnings.append(
            (
                "contact_email",
                gettext(
                    "Registration is by invitation only and the event has no contact email: "
                    "people who were not invited have nobody to ask."
                ),
            )
        )
    if event.starts_at is None or event.meeting_link_send_at is None or not _known_zone(event):
        return warnings
    send_at, starts_at = event.meeting_link_send_at, event.starts_at
    if starts_at - SEND_WARNING_LEAD < send_at < starts_at:
        minutes = int((starts_at - send_at).total_seconds() // 60)
        warnings.append(
            (
                "meeting_link_send_at",
                gettext(
                    "The meeting link goes out at %(send)s, only %(minutes)d minutes before the "
                    "start: some registrants may not see it in time."
                )
                % {"send": format_moment(send_at, event.tz), "minutes": minutes},
            )
        )
    return warnings


def agenda_item_errors(item: "AgendaItem", *, event: "Event") -> FieldErrors:
    """{field: message} for an agenda item that does not fit in its event's time."""
    errors: FieldErrors = {}
    if item.starts_at is None or event.starts_at is None or event.ends_at is None:
        return errors
    if item.ends_at is not None and item.ends_at <= item.starts_at:
        errors["ends_at"] = _("An agenda item must end after it starts.")
        return errors
    tz = event.tz if _known_zone(event) else timezone.get_current_timezone()
    params = {"span": format_span(event.starts_at, event.ends_at, tz)}
    outside = _("Agenda items must be within the event's time, %(span)s.")
    if not event.starts_at <= item.starts_at < event.ends_at:
        errors["starts_at"] = ValidationError(outside, params=params)
    elif item.ends_at is not None and item.ends_at > event.ends_at:
        errors["ends_at"] = ValidationError(outside, params=params)
    return errors


def _known_zone(event: "Event") -> bool:
    return known_timezone(event.timezone)
