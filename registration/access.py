"""People the organisers add themselves (speakers, VIPs, staff): one, or a CSV of them.

They skip the public form and its mode (verification, access code): the organiser vouches for
the address. Afterwards they are ordinary registrants: they can manage and cancel through
their link, get the meeting link when it is due, and move with the usual services.
"""

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from events.languages import UN_LANGUAGE_CODES
from events.models import Event
from registration.addresses import canonical_email
from registration.availability import place_for, seats_left
from registration.models import Registration
from registration.services import NoSeatLeft, _announce

Status = Registration.Status
# The CSV's columns: email and name required, the language for emails optional.
CSV_COLUMNS = ("email", "name", "language")


@dataclass
class Added:
    registrations: list[Registration] = field(default_factory=list)
    # Addresses that already had an active registration: left as they were.
    already: list[str] = field(default_factory=list)


def parse_people(text: str) -> list[dict[str, str]]:
    """Rows of `email, name[, language]` (a header row is skipped), checked: ValidationError
    names the first bad line. Addresses come back canonical (registration.addresses)."""
    people, refused = read_people(text)
    if refused:
        raise refused[0]
    return people


def read_people(text: str) -> tuple[list[dict[str, str]], list[ValidationError]]:
    """parse_people() that goes on past bad lines: (the good rows, an error per bad line,
    each naming its line), for callers that report every line (`manage.py invite`)."""
    people, refused, seen = [], [], set()
    for number, row in enumerate(csv.reader(io.StringIO(text.lstrip("\ufeff"))), start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if cells[0].lower() == "email":  # a header row
            continue
        try:
            person = _person(number, cells)
        except ValidationError as error:
            refused.append(error)
            continue
        if person["email"] not in seen:
            seen.add(person["email"])
            people.append(person)
    return people, refused


def _person(number: int, cells: list[str]) -> dict[str, str]:
    if len(cells) < 2 or not cells[1]:
        raise ValidationError(
            _("Line %(line)s: give an email address and a name."), params={"line": number}
        )
    try:
        email = canonical_email(cells[0])
    except ValidationError as error:
        raise ValidationError(
            _("Line %(line)s: %(problem)s"),
            params={"line": number, "problem": " ".join(error.messages)},
        ) from None
    language = (cells[2] if len(cells) > 2 else "").lower().replace("_", "-") or "en"
    if language not in UN_LANGUAGE_CODES:
        raise ValidationError(
            _("Line %(line)s: the language must be one of %(codes)s."),
            params={"line": number, "codes": ", ".join(UN_LANGUAGE_CODES)},
        )
    return {"email": email, "name": cells[1][:200], "language": language}


def add_registrants(
    *,
    event: Event,
    people: Iterable[Mapping[str, str]],
    outside_capacity: bool = False,
    notify: bool = True,
) -> Added:
    """Registers each person the organiser gives ({email, name, language}), all or none.

    Each gets a free seat, else a place on the waiting list; `outside_capacity=True` confirms
    them whatever the count (the seats left never go below zero). NoSeatLeft, and nothing is
    stored, when someone has no place. `notify=False` sends no confirmation (the meeting link
    still goes out when due). Safe to run twice: a person registered already is left alone.
    """
    added = Added()
    now = timezone.now()
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=event.pk)
        for person in people:
            email = canonical_email(person["email"])
            existing = (
                Registration.objects.filter(event=event, email=email)
                .exclude(status=Status.CANCELLED)
                .first()
            )
            # An invitation not accepted yet becomes the registration (registration.invitations);
            # any other row is left as it is.
            if existing is not None and existing.status != Status.INVITED:
                added.already.append(email)
                continue
            status = (
                Status.CONFIRMED
                if outside_capacity
                else place_for(seats_left=seats_left(event), waitlist=event.waitlist_enabled)
            )
            if status is None:
                raise NoSeatLeft()
            registration = existing or Registration(
                event=event, email=email, preferred_language=person.get("language") or "en"
            )
            registration.event = event
            registration.name = person["name"]
            registration.status = status
            # The organiser vouches for the person's agreement, as for the address.
            registration.consent_at = now
            registration.confirmed_at = now if status == Status.CONFIRMED else None
            registration.save()
            _announce(
                registration,
                old_status=None if existing is None else Status.INVITED,
                quiet=not notify,
            )
            added.registrations.append(registration)
    return added
