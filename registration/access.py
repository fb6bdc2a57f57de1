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
    people, seen = [], set()
    for number, row in enumerate(csv.reader(io.StringIO(text.lstrip("\ufeff"))), start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if cells[0].lower() == "email":  # a header row
            continue
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
        if email not in seen:
            seen.add(email)
            people.append({"email": email, "name": cells[1][:200], "language": language})
    return people


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
            if (
                Registration.objects.filter(event=event, email=email)
                .exclude(status=Status.CANCELLED)
                .exists()
            ):
                added.already.append(email)
                continue
            status = (
                Status.CONFIRMED
                if outside_capacity
                else place_for(seats_left=seats_left(event), waitlist=event.waitlist_enabled)
            )
            if status is None:
                raise NoSeatLeft()
            registration = Registration.objects.create(
                event=event,
                email=email,
                name=person["name"],
                preferred_language=person.get("language") or "en",
                status=status,
                # The organiser vouches for the person's agreement, as for the address.
                consent_at=now,
                confirmed_at=now if status == Status.CONFIRMED else None,
            )
            _announce(registration, old_status=None, quiet=not notify)
            added.registrations.append(registration)
    return added
