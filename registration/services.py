"""Every change to a registration: views, admin actions, commands and tests call these.

Locking order, everywhere: the event row first, then registration rows. Every service that
changes a status announces it with `registration_changed` inside its transaction (see
registration/signals.py), so the outbox row and the change commit together.
"""

import hmac
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from events import cache as event_cache
from events.models import AccessCode, AuditEntry, Event, normalise_access_code
from registration.addresses import canonical_email
from registration.availability import (
    SEAT_STATUSES,
    State,
    event_availability,
    place_for,
    seats_left,
)
from registration.models import (
    PROFILE_FIELDS,
    ManageToken,
    Registration,
    hash_token,
    new_token,
)
from registration.questions import erase_personal_answers
from registration.signals import registration_changed

Status = Registration.Status

# A duplicate sign-up re-sends the confirmation at most once per this interval (the
# check-your-email page, templates/registration/check_email.html, states it).
RESEND_INTERVAL = timedelta(minutes=10)
# What secrets.token_urlsafe(32) produces; anything else is not worth a database lookup.
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{43}")
# The fields a registrant may change through the manage link (and an organiser in the admin).
UPDATABLE_FIELDS = ("name", *PROFILE_FIELDS)
# Who is next on the waiting list: the longest-waiting first.
WAITLIST_ORDER = ("created_at", "pk")
OPTIONAL_FIELDS = ("organisation", "job_title", "country", "interpretation_language", "timezone")
# Registrations whose address was not verified yet, in an event that verifies emails.
AWAITING_VERIFICATION = Q(hold_expires_at__isnull=False, email_verified_at__isnull=True)


class RegistrationError(Exception):
    """A change the current state does not allow; `message` is safe to show the user."""

    def __init__(self, message: str | Promise) -> None:
        super().__init__(str(message))
        self.message = message


class Unavailable(RegistrationError):
    """The event takes no registration now. `reason` is the State registration.availability
    found (one of the constants below)."""

    NOT_PUBLISHED = State.NOT_PUBLISHED
    CANCELLED = State.CANCELLED
    NOT_OPEN = State.NOT_YET_OPEN
    CLOSED = State.CLOSED
    FULL = State.FULL
    BY_INVITATION = State.BY_INVITATION

    MESSAGES = {
        NOT_PUBLISHED: _("This event is not open for registration."),
        CANCELLED: _("This event has been cancelled, so registration is closed."),
        NOT_OPEN: _("Registration for this event has not opened yet."),
        CLOSED: _("Registration for this event has closed."),
        FULL: _("This event is full and has no waiting list."),
        BY_INVITATION: _(
            "Registration for this event is by invitation only: the people invited register "
            "through the personal link in their invitation email."
        ),
    }

    def __init__(self, reason: State, *, event: Event) -> None:
        super().__init__(self.MESSAGES[reason])
        self.reason = reason
        self.event = event


class NoSeatLeft(RegistrationError):
    def __init__(self) -> None:
        super().__init__(_("There is no seat left: raise the capacity or cancel someone first."))


class AccessCodeRefused(RegistrationError):
    """No access code of the event matches, or the one that does is used up. The message
    says neither which: it must not help anyone guess codes."""

    def __init__(self) -> None:
        super().__init__(_("This access code is not valid for this event, or it is used up."))


class NotAllowed(RegistrationError):
    """The registration's status does not allow this change."""


@dataclass(frozen=True)
class RegistrationResult:
    registration: Registration
    created: bool
    # The raw manage-link token of a new registration (None for a duplicate): only its
    # hash is stored, so this is the one chance to read it.
    token: str | None = None


def register(
    *, event: Event, data: Mapping[str, Any], locked: bool = False, issue_token: bool = True
) -> RegistrationResult:
    """Safe under any number of concurrent calls: capacity is never exceeded and one email
    gets one active registration; a duplicate re-sends the confirmation (rate limited).

    `data` holds the registration form's cleaned fields. `locked=True` says the caller
    already holds `select_for_update` on `event` in the current transaction (the sign-up view
    does, to read the event once per request). `issue_token=False` skips the manage link of
    the result (the sign-up view shows none: the confirmation email carries a fresh one).
    Raises Unavailable when the event takes no registration, and ValidationError for an
    address registration.addresses.canonical_email() refuses; nothing is stored then.
    """
    if not data.get("consent"):
        raise ValueError("register() needs the person's consent to the privacy notice.")
    now = timezone.now()
    # With the caller's lock we are inside its transaction: no savepoint needed (an
    # exception here rolls back the caller's whole transaction, which holds nothing else).
    with transaction.atomic(savepoint=not locked):
        if not locked:
            event = Event.objects.select_for_update().get(pk=event.pk)
        found = event_availability(event, now=now)
        if not found.accepts_newcomers:
            raise Unavailable(found.state, event=event)
        status: str | None
        if event.approval == Event.Approval.ORGANISER:
            status = Status.PENDING_APPROVAL
        else:
            status = place_for(seats_left=found.seats_left, waitlist=found.waitlist)
        if status is None:  # full without a waiting list: accepts_newcomers said so already
            raise Unavailable(State.FULL, event=event)
        code = None
        if event.registration_mode == Event.RegistrationMode.CODE:
            code = _use_access_code(event, data.get("access_code"))
        hold_expires_at = None
        if event.registration_mode == Event.RegistrationMode.VERIFY_EMAIL and status in (
            Status.CONFIRMED,
            Status.WAITLISTED,
        ):
            # The seat (or the place in the queue) waits for the emailed link to be
            # clicked (registration.verification); the scan releases it after the hold.
            hold_expires_at = now + event.effective_verification_hold
            if status == Status.CONFIRMED:
                status = Status.HELD

        registration = Registration(
            event=event,
            email=canonical_email(data["email"]),
            name=data["name"],
            status=status,
            consent_at=now,
            confirmed_at=now if status == Status.CONFIRMED else None,
            hold_expires_at=hold_expires_at,
            affiliation=data.get("affiliation") or Registration.Affiliation.OTHER,
            preferred_language=data.get("preferred_language") or "en",
            # The form's checked answers (registration/questions.py), in the same INSERT.
            answers=data.get("answers") or {},
            **{field: data.get(field) or "" for field in OPTIONAL_FIELDS},
        )
        try:
            # The constraint registration_one_active_per_event_email decides duplicates; the
            # savepoint keeps the transaction usable when it refuses (cheaper than checking
            # with a SELECT first).
            with transaction.atomic():
                registration.save(force_insert=True)
        except IntegrityError:
            existing = (
                Registration.objects.filter(event=event, email=registration.email)
                .exclude(status=Status.CANCELLED)
                .first()
            )
            if existing is None:
                raise
            if code is not None:  # already registered: the code admitted nobody new
                AccessCode.objects.filter(event=event, code=code).update(uses=F("uses") - 1)
            existing.event = event
            if cache.add(
                f"registration:resend:{existing.pk}", 1, int(RESEND_INTERVAL.total_seconds())
            ):
                _announce(existing, old_status=existing.status, resend=True)
            return RegistrationResult(existing, created=False)

        token = issue_manage_token(registration=registration) if issue_token else None
        _announce(registration, old_status=None)
    return RegistrationResult(registration, created=True, token=token)


def _use_access_code(event: Event, value: object) -> str:
    """Counts one use of the event's code `value` (the caller holds the event's lock, so two
    sign-ups cannot both take a code's last use); AccessCodeRefused if none is left."""
    code = normalise_access_code(value) if isinstance(value, str) else ""
    used = (
        AccessCode.objects.filter(event=event, code=code)
        .filter(Q(max_uses__isnull=True) | Q(uses__lt=F("max_uses")))
        .update(uses=F("uses") + 1)
        if code
        else 0
    )
    if not used:
        raise AccessCodeRefused()
    return code


def cancel(*, registration: Registration) -> Registration:
    """Safe to run twice: a cancelled registration stays cancelled, and a freed seat goes
    to the first person on the waiting list."""
    with transaction.atomic():
        event = _lock(registration)
        if registration.status == Status.CANCELLED:
            return registration
        old_status = registration.status
        registration.cancelled_at = timezone.now()
        _set_status(registration, Status.CANCELLED, old_status=old_status)
        if old_status in SEAT_STATUSES:
            promote_next(event=event)
    return registration


def approve(*, registration: Registration) -> Registration:
    """Confirmed when a seat is free, else waitlisted; NoSeatLeft when full and no list."""
    with transaction.atomic():
        event = _lock(registration)
        if registration.status not in (Status.PENDING_APPROVAL, Status.REJECTED):
            raise NotAllowed(_("Only registrations awaiting approval or rejected can be approved."))
        status = place_for(seats_left=seats_left(event), waitlist=event.waitlist_enabled)
        if status is None:
            raise NoSeatLeft()
        _set_status(registration, status, old_status=registration.status)
    return registration


def reject(*, registration: Registration, message: str = "") -> Registration:
    """Rejected, with the organiser's optional note passed on to the person; a freed seat
    goes to the waiting list."""
    with transaction.atomic():
        event = _lock(registration)
        if registration.status not in (
            Status.PENDING_APPROVAL,
            Status.WAITLISTED,
            Status.HELD,
            Status.CONFIRMED,
        ):
            raise NotAllowed(_("Cancelled or already rejected registrations cannot be rejected."))
        old_status = registration.status
        _set_status(registration, Status.REJECTED, old_status=old_status, message=message)
        if old_status in SEAT_STATUSES:
            promote_next(event=event)
    return registration


def promote(*, registration: Registration) -> Registration:
    """Waiting list -> confirmed, only into a free seat (NoSeatLeft otherwise)."""
    with transaction.atomic():
        event = _lock(registration)
        if registration.status != Status.WAITLISTED:
            raise NotAllowed(_("Only people on the waiting list can be moved from it."))
        if seats_left(event) == 0:
            raise NoSeatLeft()
        _set_status(registration, Status.CONFIRMED, old_status=Status.WAITLISTED)
    return registration


def promote_next(*, event: Event) -> Registration | None:
    """Confirms the longest-waiting person if a seat is free; returns them, or None. People
    whose address still awaits verification wait (verify_email() seats them on the click)."""
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=event.pk)
        if seats_left(event) == 0:
            return None
        registration = (
            Registration.objects.select_for_update()
            .filter(event=event, status=Status.WAITLISTED)
            .exclude(AWAITING_VERIFICATION)
            .order_by(*WAITLIST_ORDER)
            .first()
        )
        if registration is None:
            return None
        registration.event = event
        _set_status(registration, Status.CONFIRMED, old_status=Status.WAITLISTED)
    return registration


def waitlist_position() -> Case:
    """An expression for annotate(): a waitlisted registration's place in the queue
    promote_next serves (1 = next), None for every other status. One indexed count per row,
    inside the same query (registration_queue_idx)."""
    ahead = (
        Registration.objects.filter(event=OuterRef("event"), status=Status.WAITLISTED)
        .filter(
            Q(created_at__lt=OuterRef("created_at"))
            | Q(created_at=OuterRef("created_at"), pk__lt=OuterRef("pk"))
        )
        .order_by()
        .values("event")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Case(
        When(status=Status.WAITLISTED, then=Coalesce(Subquery(ahead), 0) + 1),
        default=None,
        output_field=IntegerField(),
    )


def update_details(*, registration: Registration, data: Mapping[str, Any]) -> Registration:
    """Changes what the person may change themselves (UPDATABLE_FIELDS); the rest stays."""
    changed = [
        field
        for field in UPDATABLE_FIELDS
        if field in data and getattr(registration, field) != (data[field] or "")
    ]
    for field in changed:
        setattr(registration, field, data[field] or "")
    if "answers" in data and data["answers"] != registration.answers:
        registration.answers = data["answers"]
        changed.append("answers")
    if changed:
        registration.save(update_fields=[*changed, "updated_at"])
    return registration


def resend_confirmation(*, registration: Registration) -> Registration:
    """Queues the confirmation again (an organiser's request: not rate limited)."""
    with transaction.atomic():
        _lock(registration)
        if registration.status in (Status.CANCELLED, Status.REVOKED):
            raise NotAllowed(_("A cancelled registration gets no confirmation."))
        _announce(registration, old_status=registration.status, resend=True)
    return registration


def issue_manage_token(*, registration: Registration) -> str:
    """A new working manage link for `registration`; earlier ones keep working."""
    return issue_manage_tokens(registrations=[registration])[registration.pk]


def issue_manage_tokens(*, registrations: Iterable[Registration]) -> dict[int, str]:
    """issue_manage_token for many registrations in one INSERT: {registration pk: token}."""
    tokens, rows = {}, []
    for registration in registrations:
        token, token_hash = new_token()
        tokens[registration.pk] = token
        rows.append(ManageToken(registration=registration, token_hash=token_hash))
    ManageToken.objects.bulk_create(rows)
    return tokens


def withdraw_manage_tokens(*, tokens: Collection[str]) -> None:
    """Forgets tokens that were issued but never sent to anyone."""
    if tokens:
        ManageToken.objects.filter(token_hash__in=[hash_token(t) for t in tokens]).delete()


def registration_for_token(token: object) -> Registration | None:
    """The registration a manage-link token opens, or None (unknown, malformed, erased)."""
    if not isinstance(token, str) or not TOKEN_RE.fullmatch(token):
        return None
    token_hash = hash_token(token)
    found = (
        ManageToken.objects.select_related("registration__event")
        .filter(token_hash=token_hash)
        .first()
    )
    if found is None or not hmac.compare_digest(found.token_hash, token_hash):
        return None
    now = timezone.now()
    if found.last_used_at is None or found.last_used_at < now - timedelta(hours=1):
        ManageToken.objects.filter(pk=found.pk).update(last_used_at=now)
    return found.registration


def purge_personal_data(*, now: datetime, days: int | None = None) -> int:
    """Anonymises registrations of events that ended more than `days` ago (default
    settings.PERSONAL_DATA_RETENTION_DAYS): names, emails, organisations, job titles, time
    zones, manage links and answers to personal questions go; status, affiliation, country,
    languages and other answers stay for the counts.
    Safe to run twice: anonymised rows are skipped. Returns how many were anonymised."""
    if days is None:
        days = settings.PERSONAL_DATA_RETENTION_DAYS
    due = Registration.objects.filter(
        event__ends_at__lt=now - timedelta(days=days), anonymised_at__isnull=True
    )
    with transaction.atomic():
        ManageToken.objects.filter(registration__in=due).delete()
        # Answers the organiser marked personal go too (registration/questions.py).
        erase_personal_answers(registrations=due)
        # The audit log names who was viewed: it goes with the registrations.
        AuditEntry.objects.filter(event__ends_at__lt=now - timedelta(days=days)).delete()
        return due.update(
            # Unique per row, so the one-active-per-email constraint still holds.
            email=Concat(
                Value("anonymised-"),
                Cast("pk", CharField()),
                Value("@invalid"),
                output_field=CharField(),
            ),
            name="",
            organisation="",
            job_title="",
            timezone="",
            anonymised_at=now,
            updated_at=now,
        )


def _lock(registration: Registration) -> Event:
    """Locks the event row, then the registration row, and refreshes `registration`."""
    event = Event.objects.select_for_update().get(pk=registration.event_id)
    registration.refresh_from_db(from_queryset=Registration.objects.select_for_update())
    registration.event = event
    return event


def _set_status(
    registration: Registration, status: str, *, old_status: str | None, message: str = ""
) -> None:
    registration.status = status
    fields = ["status", "cancelled_at", "updated_at"]
    if status == Status.CONFIRMED:
        registration.confirmed_at = timezone.now()
        fields.append("confirmed_at")
    registration.save(update_fields=fields)
    _announce(registration, old_status=old_status, message=message)


def _announce(
    registration: Registration,
    *,
    old_status: str | None,
    resend: bool = False,
    message: str = "",
    quiet: bool = False,
) -> None:
    if registration.status != old_status and registration.event.capacity is not None:
        # Seats left on the cached event page: re-read on the next view, not in 30 s. (Without
        # a capacity the page shows no count: its snapshot does not change with registrations.)
        event_id = registration.event_id
        transaction.on_commit(lambda: event_cache.bump_event(event_id))
    registration_changed.send(
        sender=Registration,
        registration=registration,
        old_status=old_status,
        new_status=registration.status,
        resend=resend,
        message=message,
        quiet=quiet,
    )
