"""Invitation-only events: the organisers invite people by address, each person registers in
one step through the personal link of their invitation email, and nobody else can register.

An invitation is a Registration row with status "invited", which takes no seat and hears
nothing about the event but its invitation: the row holds the address (unique per event), so
inviting it twice finds it, and accepting turns the same row into a registration placed by
the usual rule (a seat, the waiting list, or awaiting approval). Withdrawing an invitation
nobody accepted sets "revoked": the row still holds the address, its link says the invitation
was withdrawn, and inviting the address again restores it.

The invitation email is an outbox row (notifications) of kind "invitation", queued through
registration_changed like every other message: once per version, a resend being the next
version. Its link is a manage link (registration.models.ManageToken), issued by the sender.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from events.models import Event
from registration.addresses import canonical_email
from registration.availability import State, event_availability, place_for
from registration.models import PROFILE_FIELDS, Registration
from registration.services import (
    OPTIONAL_FIELDS,
    NotAllowed,
    RegistrationError,
    Unavailable,
    _announce,
    _lock,
)

Status = Registration.Status
# States of an event in which invitations may go out: its registration is (or will be) open.
INVITING_STATES = (State.BY_INVITATION, State.NOT_YET_OPEN)


class InvitationRefused(RegistrationError):
    """The event cannot take invitations now; `message` says why, for the organiser."""


class InvitationWithdrawn(RegistrationError):
    def __init__(self) -> None:
        super().__init__(_("This invitation was withdrawn by the organisers."))


@dataclass
class Invitations:
    """What invite() did with each address it was given."""

    invited: list[Registration] = field(default_factory=list)
    # Withdrawn earlier, invited again (the same row and link, a new email).
    restored: list[Registration] = field(default_factory=list)
    # Left as they were: an invitation waits already, or the address is registered.
    already_invited: list[str] = field(default_factory=list)
    already_registered: list[str] = field(default_factory=list)


def invite(
    *, event: Event, people: Iterable[Mapping[str, str]], now: datetime | None = None
) -> Invitations:
    """Invites each person given ({email, name, language}), all in one transaction, and
    queues one invitation email each. Safe to run twice: an address invited or registered
    already is left alone (and reported). InvitationRefused, with nothing stored, when the
    event is not invitation-only or its registration is over."""
    now = now or timezone.now()
    result = Invitations()
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=event.pk)
        _check_inviting(event, now=now)
        for person in people:
            email = canonical_email(person["email"])
            existing = (
                Registration.objects.select_for_update()
                .filter(event=event, email=email)
                .exclude(status=Status.CANCELLED)
                .first()
            )
            if existing is None:
                registration = Registration.objects.create(
                    event=event,
                    email=email,
                    name=person["name"],
                    preferred_language=person.get("language") or "en",
                    status=Status.INVITED,
                    invited_at=now,
                )
                _announce(registration, old_status=None)
                result.invited.append(registration)
            elif existing.status == Status.REVOKED:
                existing.event = event
                existing.status = Status.INVITED
                existing.revoked_at = None
                existing.save(update_fields=["status", "revoked_at", "updated_at"])
                # The next version of the invitation: the first one went out already.
                _announce(existing, old_status=Status.REVOKED, resend=True)
                result.restored.append(existing)
            elif existing.status == Status.INVITED:
                result.already_invited.append(email)
            else:
                result.already_registered.append(email)
    return result


def _check_inviting(event: Event, *, now: datetime) -> None:
    if event.registration_mode != Event.RegistrationMode.INVITATION:
        raise InvitationRefused(
            _("Set the event's registration mode to “By invitation only” before inviting people.")
        )
    state = event_availability(event, now=now).state
    if state == State.NOT_PUBLISHED:
        raise InvitationRefused(
            _("Publish the event first: the invitation links open its registration form.")
        )
    if state not in INVITING_STATES:
        raise InvitationRefused(_("Registration for this event is over: nobody can be invited."))


def resend_invitation(*, registration: Registration) -> Registration:
    """Queues the invitation email again (its next version, with a fresh personal link;
    earlier links keep working). NotAllowed unless the invitation is still open."""
    with transaction.atomic():
        _lock(registration)
        if registration.status != Status.INVITED:
            raise NotAllowed(_("Only invitations not accepted yet can be sent again."))
        _announce(registration, old_status=Status.INVITED, resend=True)
    return registration


def revoke_invitation(*, registration: Registration, now: datetime | None = None) -> Registration:
    """Withdraws an invitation nobody accepted: its link then says so and registers nobody,
    and an invitation email still waiting in the outbox is not sent. Nobody is emailed.
    Safe to run twice. NotAllowed for a registration: cancel that instead."""
    with transaction.atomic():
        _lock(registration)
        if registration.status == Status.REVOKED:
            return registration
        if registration.status != Status.INVITED:
            raise NotAllowed(
                _("Only invitations not accepted yet can be withdrawn: cancel the registration.")
            )
        registration.status = Status.REVOKED
        registration.revoked_at = now or timezone.now()
        registration.save(update_fields=["status", "revoked_at", "updated_at"])
        _announce(registration, old_status=Status.INVITED, quiet=True)
    return registration


def accept_invitation(
    *, registration: Registration, data: Mapping[str, Any], now: datetime | None = None
) -> Registration:
    """The invitee registers through their link: the invitation becomes their registration
    (same row, same address), confirmed, waitlisted or awaiting approval by the event's
    usual rule, and the usual confirmation is queued. The link proved the address.

    `data` holds the invitation form's cleaned fields (no email: it is the invitation's).
    InvitationWithdrawn for a revoked invitation, NotAllowed if it was accepted already,
    Unavailable when the event takes nobody now; nothing changes then."""
    if not data.get("consent"):
        raise ValueError("accept_invitation() needs the person's consent to the privacy notice.")
    now = now or timezone.now()
    with transaction.atomic():
        event = _lock(registration)
        if registration.status == Status.REVOKED:
            raise InvitationWithdrawn()
        if registration.status != Status.INVITED:
            raise NotAllowed(_("This invitation was accepted already."))
        found = event_availability(event, now=now, invited=True)
        if not found.accepts_newcomers:
            raise Unavailable(found.state, event=event)
        status: str | None = Status.PENDING_APPROVAL
        if event.approval != Event.Approval.ORGANISER:
            status = place_for(seats_left=found.seats_left, waitlist=found.waitlist)
        if status is None:
            raise Unavailable(State.FULL, event=event)
        registration.name = data["name"]
        registration.affiliation = data.get("affiliation") or Registration.Affiliation.OTHER
        registration.preferred_language = (
            data.get("preferred_language") or registration.preferred_language
        )
        for name in OPTIONAL_FIELDS:
            setattr(registration, name, data.get(name) or "")
        registration.answers = data.get("answers") or {}
        registration.status = status
        registration.consent_at = now
        registration.email_verified_at = now
        registration.confirmed_at = now if status == Status.CONFIRMED else None
        registration.save(
            update_fields=[
                "name",
                *PROFILE_FIELDS,
                "answers",
                "status",
                "consent_at",
                "email_verified_at",
                "confirmed_at",
                "updated_at",
            ]
        )
        _announce(registration, old_status=Status.INVITED)
    return registration
