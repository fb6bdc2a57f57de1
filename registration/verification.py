"""Email verification (events in "verify_email" mode): the click, and the expiry of holds.

register() gives a sign-up in such an event a verification hold: a seat (status "held",
which registration.availability counts as taken) or a place on the waiting list, with
`hold_expires_at` set. The emailed link leads to verify_email(); the beat scan runs
expire_holds(), which cancels the holds nobody verified and gives their seats to the waiting
list in order. The meeting link and the calendar invitation go to confirmed registrants only,
so a held seat gets neither until its address is proven.
"""

from collections import defaultdict
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from events.models import Event
from registration.availability import SEAT_STATUSES, event_availability, place_for, seats_left
from registration.models import Registration
from registration.services import (
    AWAITING_VERIFICATION,
    Unavailable,
    _announce,
    _lock,
    _set_status,
    promote_next,
)

Status = Registration.Status
# Statuses that a verification hold can have while it waits for the click.
HOLDING = (Status.HELD, Status.WAITLISTED)


def awaits_verification(registration: Registration) -> bool:
    return (
        registration.hold_expires_at is not None
        and registration.email_verified_at is None
        and registration.status in HOLDING
    )


def expired_hold(registration: Registration) -> bool:
    """Cancelled by expire_holds(): the address was never proven."""
    return (
        registration.status == Status.CANCELLED
        and registration.hold_expires_at is not None
        and registration.email_verified_at is None
    )


def verify_email(*, registration: Registration, now: datetime | None = None) -> Registration:
    """The person clicked the link in the verification email. Safe to run twice: a verified
    address stays verified and is told once.

    A held seat becomes a confirmed one; someone waiting keeps their place and takes a free
    seat if there is one. A click after the hold expired registers the person again by the
    usual rules (a seat, else the waiting list; Unavailable when the event takes nobody)."""
    now = now or timezone.now()
    with transaction.atomic():
        event = _lock(registration)
        if registration.email_verified_at is not None or registration.hold_expires_at is None:
            return registration
        if registration.status == Status.CANCELLED:
            return _reinstate(registration, event=event, now=now)
        if registration.status not in HOLDING:
            return registration
        registration.email_verified_at = now
        registration.save(update_fields=["email_verified_at", "updated_at"])
        if registration.status == Status.HELD:
            _set_status(registration, Status.CONFIRMED, old_status=Status.HELD)
        elif place_for(seats_left=seats_left(event), waitlist=False) == Status.CONFIRMED:
            _set_status(registration, Status.CONFIRMED, old_status=Status.WAITLISTED)
        else:
            # Still waiting, now with a proven address: the confirmation says so.
            _announce(registration, old_status=Status.WAITLISTED, resend=True)
    return registration


def _reinstate(registration: Registration, *, event: Event, now: datetime) -> Registration:
    """A click after expiry: the same registration comes back if nobody took the address
    meanwhile and the event still takes people, placed like a new sign-up."""
    if registration.cancelled_at is None or (
        Registration.objects.filter(event=event, email=registration.email)
        .exclude(status=Status.CANCELLED)
        .exists()
    ):
        return registration
    found = event_availability(event, now=now)
    if not found.accepts_newcomers:
        raise Unavailable(found.state, event=event)
    status = place_for(seats_left=found.seats_left, waitlist=found.waitlist)
    if status is None:
        raise Unavailable(found.state, event=event)
    registration.email_verified_at = now
    registration.cancelled_at = None
    registration.save(update_fields=["email_verified_at", "cancelled_at", "updated_at"])
    _set_status(registration, status, old_status=Status.CANCELLED)
    return registration


def expire_holds(*, now: datetime) -> int:
    """Cancels the verification holds that expired unverified and promotes the waiting list
    into the seats they free, in order. Safe to run twice or concurrently: each event's
    holds are re-read under its lock, so each is released (and each promotion made) once.
    Returns how many holds were released."""
    due = Registration.objects.filter(
        AWAITING_VERIFICATION, status__in=HOLDING, hold_expires_at__lte=now
    ).values_list("event_id", "pk")
    by_event: dict[int, list[int]] = defaultdict(list)
    for event_id, pk in due:
        by_event[event_id].append(pk)
    released = 0
    for event_id, pks in by_event.items():
        with transaction.atomic():
            event = Event.objects.select_for_update().get(pk=event_id)
            holds = (
                Registration.objects.select_for_update()
                .filter(AWAITING_VERIFICATION, pk__in=pks, status__in=HOLDING)
                .filter(hold_expires_at__lte=now)
            )
            freed = False
            for registration in holds:
                registration.event = event
                old_status = registration.status
                registration.cancelled_at = now
                _set_status(registration, Status.CANCELLED, old_status=old_status)
                freed = freed or old_status in SEAT_STATUSES
                released += 1
            while freed and promote_next(event=event) is not None:
                pass
    return released
