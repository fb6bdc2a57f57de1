"""The one rule for "can this person register, and how many seats are left".

Everything that asks it goes through here: the sign-up (registration.services.register and
the register page), approving and promoting (whether a seat is free), the organisers' panel
(seats left), and the public event page, whose cached snapshot (events/cache.py) gets its
counts and its state through the hook RegistrationConfig.ready() registers, because events
sits below registration and must not know our model or our statuses.

- SEAT_STATUSES says which registrations take a seat; `seats_taken_expression()` and
  `count_seats_taken()` count them (in the event's own query, or under the event's lock).
- `availability()` decides the State and the seats left from an event's facts and that count;
  `place_for()` what a person let in gets: a seat, the waiting list, or nothing.

A new status (a verification hold) that takes a seat goes into SEAT_STATUSES; a new reason to
refuse goes into `availability()` (as "by invitation only" did). Nothing else decides either.
An invitation (status invited) takes no seat: the invitee takes one on registering, by the
same rule as anyone.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import Any

from django.db.models import Case, Count, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from events.models import Event
from registration.models import Registration

# The registrations that hold a seat of the event's capacity.
SEAT_STATUSES = (Registration.Status.CONFIRMED, Registration.Status.HELD)
# The name of the seat count in the event page's snapshot (events/cache.py).
SEATS_TAKEN = "registration_seats_taken"


class State(StrEnum):
    """Whether an event takes registrations now. The values are what the event page's status
    block (templates/events/_registration_status.html) and the "not available" page test."""

    OPEN = "open"
    NOT_PUBLISHED = "not_published"  # a draft: nobody can register, whatever the dates say
    NOT_YET_OPEN = "not_yet_open"
    CLOSED = "closed"
    FULL = "full"  # no seat left; a waiting list takes newcomers if the event has one
    CANCELLED = "cancelled"
    # Open (or full), but only to the people invited, through their personal link
    # (registration/invitations.py); `seats_left` is what an invitee would find.
    BY_INVITATION = "by_invitation"


@dataclass(frozen=True)
class Availability:
    state: State
    # Free seats; None when the capacity is unlimited, or when the state does not depend on
    # seats (cancelled, not published, not yet open, closed): those are not counted.
    seats_left: int | None
    waitlist: bool
    # When registration opens, for a state of NOT_YET_OPEN (None otherwise).
    opens_at: datetime | None = None

    @property
    def accepts_newcomers(self) -> bool:
        """A sign-up now gets a seat, a place on the waiting list or a pending approval."""
        return self.state == State.OPEN or (self.state == State.FULL and self.waitlist)


def availability(
    *,
    status: str,
    capacity: int | None,
    waitlist: bool,
    opens_at: datetime | None,
    closes_at: datetime,
    seats_taken: Callable[[], int],
    now: datetime,
    by_invitation: bool = False,
) -> Availability:
    """The state of registration for an event with these facts at `now`, and its seats left.

    `closes_at` is when registration closes (the event's start unless set earlier).
    `seats_taken` is called only when the answer depends on it (the event has a capacity and
    its registration window is open), so a closed event costs no count. `by_invitation`: the
    event takes invitees only, and the person asking is not one (an open or full event is
    then BY_INVITATION; a cancelled, closed... one keeps the state that says so).
    """
    if status == Event.Status.CANCELLED:
        return Availability(State.CANCELLED, None, waitlist)
    if status != Event.Status.PUBLISHED:
        return Availability(State.NOT_PUBLISHED, None, waitlist)
    if opens_at and now < opens_at:
        return Availability(State.NOT_YET_OPEN, None, waitlist, opens_at=opens_at)
    if now >= closes_at:
        return Availability(State.CLOSED, None, waitlist)
    left = free_seats(capacity=capacity, taken=None if capacity is None else seats_taken())
    if by_invitation:
        return Availability(State.BY_INVITATION, left, waitlist)
    return Availability(State.FULL if left == 0 else State.OPEN, left, waitlist)


def place_for(*, seats_left: int | None, waitlist: bool) -> str | None:
    """The status of a person let in now (signed up, or approved by the organisers): a seat
    while one is free, else the waiting list if the event keeps one, else None (no place)."""
    if seats_left is None or seats_left > 0:
        return Registration.Status.CONFIRMED
    if waitlist:
        return Registration.Status.WAITLISTED
    return None


def free_seats(*, capacity: int | None, taken: int | None) -> int | None:
    """Seats left of `capacity` with `taken` seats taken (None: unlimited)."""
    if capacity is None:
        return None
    return max(capacity - (taken or 0), 0)


def event_availability(
    event: Event, *, now: datetime | None = None, invited: bool = False
) -> Availability:
    """The rule for an Event row: counts its seats with one query when the answer needs it.
    Exact only while the caller holds the event's row lock (registration.services does).
    `invited`: asked for a person the organisers invited (their personal link)."""
    return availability(
        status=event.status,
        capacity=event.capacity,
        waitlist=event.waitlist_enabled,
        opens_at=event.registration_opens_at,
        closes_at=event.effective_registration_closes_at,
        seats_taken=lambda: count_seats_taken(event),
        now=now or timezone.now(),
        by_invitation=invitation_only(event.registration_mode) and not invited,
    )


def invitation_only(registration_mode: str | None) -> bool:
    return registration_mode == Event.RegistrationMode.INVITATION


def seats_left(event: Event) -> int | None:
    """Free seats (None: unlimited). Exact only while the caller holds the event lock."""
    if event.capacity is None:
        return None
    return free_seats(capacity=event.capacity, taken=count_seats_taken(event))


def count_seats_taken(event: Event) -> int:
    return Registration.objects.filter(_takes_seat(), event=event).count()


def seats_taken_in(counts_by_status: Mapping[str, int]) -> int:
    """Seats taken, from counts of an event's registrations by status."""
    return sum(counts_by_status.get(status, 0) for status in SEAT_STATUSES)


@cache
def seats_taken_expression() -> Case:
    """An expression for Event.objects.annotate(): the seats taken, counted in the same
    query, for events with a capacity only (None otherwise: an unlimited event has no seats
    left to show, so its page does not count thousands of rows on every view). A subquery,
    not a join + GROUP BY over the whole event row. Built once: annotate() copies it."""
    taken = (
        Registration._base_manager.filter(_takes_seat(), event=OuterRef("pk"))
        .order_by()
        .values("event")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Case(
        When(capacity__isnull=True, then=Value(None)),
        default=Coalesce(Subquery(taken), 0),
        output_field=IntegerField(),
    )


def snapshot_annotations() -> dict[str, Any]:
    """The event page snapshot's counts (the hook events.cache asks through)."""
    return {SEATS_TAKEN: seats_taken_expression()}


def snapshot_availability(facts: Mapping[str, Any], *, now: datetime) -> Availability:
    """The rule for the event page's snapshot (events/cache.py): its event fields and the
    count snapshot_annotations() added. A draft, which only organisers preview, shows the
    state it will have once published."""
    status = facts["status"]
    return availability(
        status=Event.Status.PUBLISHED if status == Event.Status.DRAFT else status,
        capacity=facts["capacity"],
        waitlist=facts["waitlist_enabled"],
        opens_at=facts["registration_opens_at"],
        closes_at=facts["registration_closes_at"] or facts["starts_at"],
        seats_taken=lambda: facts[SEATS_TAKEN],
        now=now,
        # .get(): a snapshot cached by a release before invitations has no mode.
        by_invitation=invitation_only(facts.get("registration_mode")),
    )


def _takes_seat() -> Q:
    return Q(status__in=SEAT_STATUSES)
