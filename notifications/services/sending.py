"""Sending: claim due rows, build each message, hand it to the mail provider, record what
became of it. No database transaction is open while the provider is talking."""

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, mailers
from django.db import DatabaseError, transaction
from django.db.models import F, Q
from django.utils import timezone

from events.models import Event
from notifications import message_rules
from notifications.emails import build_message, needs_manage_link, shared_cache
from notifications.fast import outcome
from notifications.models import Delivery
from notifications.services import queueing
from notifications.services.errors import Failure, classify, describe, retry_delay
from notifications.services.pipeline import Answer, ProviderThread
from registration.models import Registration
from registration.services import issue_manage_tokens, withdraw_manage_tokens
from registration.verification import awaits_verification

logger = logging.getLogger(__name__)

Kind = Delivery.Kind
Status = Delivery.Status
RegStatus = Registration.Status


def lease_duration() -> timedelta:
    """How long a worker owns the rows it claimed (settings.NOTIFICATIONS_LEASE_SECONDS)."""
    return timedelta(seconds=settings.NOTIFICATIONS_LEASE_SECONDS)


def send_deliveries(*, ids: Iterable[int], now: datetime | None = None) -> datetime | None:
    """Sends each claimable row among `ids` at most once and records the outcome. Safe to run
    twice: finished or claimed rows are skipped. No database transaction is open while the
    mail provider is talking. Returns when to try again for transient failures, or None."""
    now = now or timezone.now()
    claimed = claim(ids=ids, now=now)
    if not claimed:
        return None
    sendable = _skip_inapplicable(claimed, now=now)
    if not sendable:
        return None
    mailer = mailers.default
    try:
        mailer.open()
    except Exception as error:
        logger.warning("Mail provider unavailable, %s messages wait: %r", len(sendable), error)
        if classify(error) is Failure.PERMANENT:
            for delivery in sendable:
                finish(delivery, status=Status.FAILED, error=describe(error))
            return None
        return _release([d.pk for d in sendable], error=describe(error), attempted=True)
    try:
        # Half the lease: past it, the rest of the batch goes back to the queue rather than
        # risk the scan handing this worker's rows to another one while it is still sending.
        return _send_all(sendable, mailer, deadline=now + lease_duration() / 2)
    finally:
        mailer.close()


# The messages of a sign-up, sent by a task shared with the sign-ups close to it.
SIGN_UP_KINDS = queueing.SIGN_UP_KINDS


def claim(*, ids: Iterable[int], now: datetime) -> list[int]:
    """Marks the claimable rows among `ids` as sending under a lease and returns their ids;
    rows another worker holds, or already finished, are left alone.

    A batch smaller than queueing.batch_size() is topped up with sign-up messages waiting
    for their own task (SIGN_UP_KINDS, pending, never tried): under a flash crowd the
    confirmations queue up one task each, and sending those that wait in one batch spares
    each its own claim, reads, provider connection and helper thread (a confirmation sent
    alone cost about three times a message of a batch). Their own tasks then find nothing
    left to claim. With no queue, a task sends just its own rows, as before."""
    ids = list(ids)
    claimable = Q(status=Status.PENDING) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    ) | Q(status=Status.SENDING, lease_expires_at__lte=now)
    with transaction.atomic():
        claimed = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(claimable, pk__in=ids)
            .values_list("pk", flat=True)
        )
        room = queueing.batch_size() - len(claimed)
        if room > 0:
            claimed += (
                Delivery.objects.select_for_update(skip_locked=True)
                .filter(
                    kind__in=SIGN_UP_KINDS,
                    status=Status.PENDING,
                    attempts=0,
                    next_attempt_at__isnull=True,
                )
                .exclude(pk__in=claimed)
                .order_by("pk")
                .values_list("pk", flat=True)[:room]
            )
        Delivery.objects.filter(pk__in=claimed).update(
            status=Status.SENDING,
            lease_expires_at=now + lease_duration(),
            attempts=F("attempts") + 1,
            updated_at=now,
        )
    return claimed


def not_applicable(delivery: Delivery, *, now: datetime) -> str:
    """Why this message must not go out any more, or "" when it still should."""
    registration, event = delivery.registration, delivery.event
    if registration.email_bounced_at:
        return "The address bounced earlier."
    if registration.anonymised_at:
        return "The registration was anonymised."
    if delivery.kind == Kind.MESSAGE:
        return message_rules.not_applicable(delivery, now=now)
    if delivery.kind == Kind.VERIFY_EMAIL and not awaits_verification(registration):
        return f"The registration is {registration.status}, verified or expired."
    if delivery.kind == Kind.INVITATION:
        if registration.status != RegStatus.INVITED:
            return f"The invitation is {registration.status}: accepted or withdrawn."
        if event.status != Event.Status.PUBLISHED:
            return f"The event is {event.status}."
    if delivery.kind in (Kind.MEETING_LINK, Kind.EVENT_CHANGED):
        if registration.status != RegStatus.CONFIRMED:
            return f"The registration is {registration.status}, not confirmed."
        if event.status != Event.Status.PUBLISHED:
            return f"The event is {event.status}."
        if event.ends_at <= now:
            return "The event has ended."
    elif delivery.kind in (
        Kind.CONFIRMATION,
        Kind.VERIFY_EMAIL,
        Kind.INVITATION,
        Kind.APPROVED,
        Kind.WAITLIST_PROMOTED,
        Kind.TIME_CHANGED,
    ) and (event.status == Event.Status.CANCELLED or event.ends_at <= now):
        return "The event was cancelled or has ended."
    elif delivery.kind == Kind.TIME_CHANGED and registration.status not in queueing.REGISTERED:
        return f"The registration is {registration.status}."
    return ""


def _skip_inapplicable(claimed, *, now):
    """The claimed rows, read with their registration and event, in order; those that no
    longer apply are recorded as skipped and left out."""
    deliveries = list(
        Delivery.objects.filter(pk__in=claimed).select_related("registration").order_by("pk")
    )
    # One Event object per event, not one per row: a batch is almost always one event, and
    # per-row copies would decode its JSON translations once per row.
    events = Event.objects.in_bulk({delivery.event_id for delivery in deliveries})
    message_rules.attach_messages(deliveries)
    sendable = []
    for delivery in deliveries:
        delivery.event = delivery.registration.event = events[delivery.event_id]
        reason = not_applicable(delivery, now=now)
        if reason:
            finish(delivery, status=Status.SKIPPED, error=reason)
        else:
            sendable.append(delivery)
    return sendable


def _send_all(sendable, mailer, *, deadline):
    """Sends `sendable` through `mailer`, with one manage link per registration issued for
    the batch in one INSERT; those of messages never handed to the provider are withdrawn."""
    registrations = {d.registration_id: d.registration for d in sendable if needs_manage_link(d)}
    tokens = issue_manage_tokens(registrations=registrations.values())
    handed_over: set[int] = set()  # registrations whose manage link went out in a message
    try:
        with ProviderThread(mailer) as provider:
            return _send_in_order(sendable, provider, tokens, handed_over, deadline=deadline)
    finally:
        unused = [token for pk, token in tokens.items() if pk not in handed_over]
        try:
            withdraw_manage_tokens(tokens=unused)
        except DatabaseError as error:  # the database went away: the error on its way matters
            logger.warning("Could not withdraw %s unused manage links: %r", len(unused), error)


def _send_in_order(sendable, provider, tokens, handed_over, *, deadline):
    """Builds each message while the provider answers the one before, hands it over, then
    records the previous outcome (ProviderThread explains the crash bound). A transient
    error stops the batch: the row and the rest wait for the backoff (returns when to try
    again). Past `deadline`, what is left is handed back to the queue."""
    cache = shared_cache()  # what messages share, computed once per process
    for index, delivery in enumerate(sendable):
        if timezone.now() >= deadline:
            previous = provider.answer()
            if _transient(previous):
                return _give_back(previous.delivery, previous.error, untried=sendable[index:])
            _record(previous)
            _hand_back(sendable[index:])
            return None
        message, build_error = _build(
            delivery, token=tokens.get(delivery.registration_id), cache=cache
        )
        previous = provider.answer()
        if _transient(previous):
            return _give_back(previous.delivery, previous.error, untried=sendable[index:])
        if build_error is None:
            provider.hand_over(delivery, message)
            handed_over.add(delivery.registration_id)
        _record(previous)
        if build_error is not None:
            if classify(build_error) is Failure.TRANSIENT:
                return _give_back(delivery, build_error, untried=sendable[index + 1 :])
            _fail(delivery, None, build_error)
    last = provider.answer()
    if _transient(last):
        return _give_back(last.delivery, last.error, untried=[])
    _record(last)
    return None


def _build(delivery, *, token, cache):
    """(message, None), or (None, the error) when it could not be built."""
    try:
        return build_message(delivery=delivery, cache=cache, token=token), None
    except Exception as error:
        return None, error


def _transient(answer: Answer | None) -> bool:
    return (
        answer is not None
        and answer.error is not None
        and (classify(answer.error) is Failure.TRANSIENT)
    )


def _record(answer: Answer | None) -> None:
    """Records an answer that is final: sent, or failed for good (None: nothing to record)."""
    if answer is None:
        return
    if answer.error is None:
        finish(answer.delivery, status=Status.SENT, message_id=_message_id(answer.message))
    else:
        _fail(answer.delivery, answer.message, answer.error)


def _fail(delivery, message, error):
    reason = describe(error, message)
    logger.info("Delivery %s failed for good: %s", delivery.pk, reason)
    finish(delivery, status=Status.FAILED, error=reason)


def _message_id(message: EmailMessage) -> str:
    status = getattr(message, "anymail_status", None)
    if status is not None and status.message_id is not None:
        return str(status.message_id)
    return message.extra_headers.get("Message-ID", "")


# --- What became of the rows ------------------------------------------------------------------


def finish(delivery: Delivery, *, status: str, error: str = "", message_id: str = "") -> None:
    """Records the outcome, unless another worker re-claimed the row after our lease ran out
    and finished it already (then its outcome stands). The plain way would be
    Delivery.objects.filter(pk=..., status=SENDING).update(...): see notifications.fast.outcome."""
    now = timezone.now()
    outcome.record(
        delivery.pk,
        status=status,
        last_error=error[:2000],
        esp_message_id=message_id[:200],
        sent_at=now if status == Status.SENT else None,
        updated_at=now,
        only_if_status=Status.SENDING,
    )


def _give_back(delivery, error, *, untried):
    """The provider is struggling: this row and the `untried` rest of the batch go back to
    pending, and the backoff decides when to try again, rather than hammering it with the
    rest. Returns the earliest retry time (None when all of them failed for good)."""
    logger.warning("Delivery %s will be retried: %s", delivery.pk, describe(error))
    earliest = _release([delivery.pk], error=describe(error), attempted=True)
    later = _release([d.pk for d in untried], error=describe(error), attempted=False)
    candidates = [at for at in (earliest, later) if at]
    return min(candidates) if candidates else None


def _release(ids, *, error, attempted):
    """Back to pending with a backoff; after NOTIFICATIONS_MAX_ATTEMPTS, failed. Rows that
    were claimed but not tried (`attempted=False`) get their attempt back. Returns the
    earliest next attempt, or None when all of them failed for good."""
    now = timezone.now()
    earliest = None
    for delivery in Delivery.objects.filter(pk__in=ids, status=Status.SENDING):
        attempts = delivery.attempts if attempted else delivery.attempts - 1
        if attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
            fields = {"status": Status.FAILED, "next_attempt_at": None}
        else:
            next_attempt_at = now + retry_delay(max(attempts, 1))
            earliest = min(earliest or next_attempt_at, next_attempt_at)
            fields = {"status": Status.PENDING, "next_attempt_at": next_attempt_at}
        Delivery.objects.filter(pk=delivery.pk, status=Status.SENDING).update(
            **fields,
            attempts=attempts,
            last_error=error[:2000],
            lease_expires_at=None,
            updated_at=now,
        )
    return earliest


def _hand_back(deliveries):
    """Claimed rows not tried yet go back to pending, their attempt returned, and are
    enqueued again at once."""
    ids = [delivery.pk for delivery in deliveries]
    Delivery.objects.filter(pk__in=ids, status=Status.SENDING).update(
        status=Status.PENDING,
        attempts=F("attempts") - 1,
        lease_expires_at=None,
        updated_at=timezone.now(),
    )
    logger.info("Batch ran past half its lease: %s messages handed back", len(ids))
    queueing.enqueue(ids)
