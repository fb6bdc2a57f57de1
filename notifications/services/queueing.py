"""What is due for whom: Delivery rows inserted in the transaction of the change they
announce, and enqueued for the send task once it commits."""

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, QuerySet
from django.utils import timezone

from config.celery import app as celery_app
from config.celery import enqueue_logged
from config.celery import enqueue_on_commit as enqueue_task_on_commit
from events import services as event_services
from events.models import Event
from notifications.models import Delivery
from registration.models import Registration
from registration.verification import awaits_verification, expired_hold

Kind = Delivery.Kind
Status = Delivery.Status
RegStatus = Registration.Status

# Registration statuses told that their event was cancelled, or that its time changed. A
# seat held for an unverified address counts: that person asked to come, and may yet click
# the link (a waiting-list place awaiting verification is WAITLISTED, so counts too). Not
# invitations: the invitation email is all that an invitee hears before registering.
REGISTERED = [
    RegStatus.CONFIRMED,
    RegStatus.HELD,
    RegStatus.WAITLISTED,
    RegStatus.PENDING_APPROVAL,
]


def batch_size() -> int:
    """Rows per bulk insert and per send task (settings.NOTIFICATIONS_BATCH_SIZE)."""
    return settings.NOTIFICATIONS_BATCH_SIZE


def enqueue(ids: Iterable[int]) -> None:
    """Hands row ids to the send task in batches (the task claims them, so repeats are safe)."""
    from notifications.tasks import send_deliveries

    ids = list(ids)
    size = batch_size()
    for start in range(0, len(ids), size):
        send_deliveries.delay(ids[start : start + size])


def enqueue_on_commit(ids: Iterable[int]) -> None:
    """As enqueue(), once the caller's transaction commits; a broker outage is only logged
    (the scan re-enqueues pending rows)."""
    from notifications.tasks import send_deliveries

    ids = list(ids)
    size = batch_size()
    for start in range(0, len(ids), size):
        enqueue_task_on_commit(send_deliveries, ids[start : start + size])


def stream(queryset: QuerySet, size: int | None = None) -> Iterator[list[int]]:
    """Primary keys of `queryset` in batches (default: the send batch size), by keyset:
    never loads all rows at once."""
    size = size or batch_size()
    last = 0
    while True:
        batch = list(
            queryset.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:size]
        )
        if not batch:
            return
        yield batch
        last = batch[-1]


def _insert_for(registration_ids, *, event_id, kind, version=0, context=None):
    """Inserts one pending row per registration (existing ones untouched); returns the ids
    of the rows still waiting to be sent for these registrations."""
    Delivery.objects.bulk_create(
        [
            Delivery(
                event_id=event_id,
                registration_id=registration_id,
                kind=kind,
                version=version,
                context=context or {},
            )
            for registration_id in registration_ids
        ],
        ignore_conflicts=True,
    )
    return list(
        Delivery.objects.filter(
            registration_id__in=registration_ids,
            kind=kind,
            version=version,
            status=Status.PENDING,
        ).values_list("pk", flat=True)
    )


def reachable(event: Event, **filters: Any) -> QuerySet[Registration]:
    """Registrations of `event` that may still be emailed: address not bounced, not
    anonymised; `filters` narrow them further."""
    return Registration.objects.filter(
        event=event, email_bounced_at__isnull=True, anonymised_at__isnull=True, **filters
    )


def queue_all(
    registrations: QuerySet[Registration],
    *,
    event: Event,
    kind: str,
    version: int = 0,
    page: int | None = None,
    after_commit: bool = False,
) -> int:
    """One pending `kind` row per registration in `registrations`, inserted page by page
    and enqueued (after the caller's transaction commits, with `after_commit`). Returns how
    many rows were queued."""
    queued = 0
    for batch in stream(registrations, size=page):
        ids = _insert_for(batch, event_id=event.pk, kind=kind, version=version)
        (enqueue_on_commit if after_commit else enqueue)(ids)
        queued += len(ids)
    return queued


def queue_delivery(
    *, registration: Registration, kind: str, version: int = 0, context: dict | None = None
) -> Delivery | None:
    """Queues one message in the caller's transaction, sent after it commits. Safe to call
    twice: the second call finds the row and queues nothing (returns None). Bounced
    addresses get nothing."""
    if registration.email_bounced_at or registration.anonymised_at:
        return None
    delivery, created = Delivery.objects.get_or_create(
        registration=registration,
        kind=kind,
        version=version,
        defaults={"event_id": registration.event_id, "context": context or {}},
    )
    if not created:
        return None
    enqueue_on_commit([delivery.pk])
    return delivery


def _queue_for_new(
    *, registration: Registration, kind: str, context: dict | None = None
) -> Delivery | None:
    """queue_delivery() for a registration inserted in this very transaction (old_status
    None in registration_changed): it has no rows yet, so one INSERT does, without
    get_or_create's lookup and savepoint (three of a registration POST's eight queries)."""
    if registration.email_bounced_at or registration.anonymised_at:
        return None
    delivery = Delivery.objects.create(
        registration=registration,
        event_id=registration.event_id,
        kind=kind,
        context=context or {},
    )
    if kind in SIGN_UP_KINDS:
        transaction.on_commit(lambda: _enqueue_sign_up(delivery.pk))
    else:
        enqueue_on_commit([delivery.pk])
    return delivery


# The messages of a sign-up, sent by a task shared with the sign-ups close to it.
SIGN_UP_KINDS = (Kind.CONFIRMATION, Kind.VERIFY_EMAIL)
SIGN_UP_TASK_KEY = "notifications:sign-up-task"


def _enqueue_sign_up(delivery_id: int) -> None:
    """One send task per window of NOTIFICATIONS_SIGN_UP_WINDOW_SECONDS for a crowd's sign-up
    emails, instead of one each: the first sign-up of a window schedules a task at its end,
    the others of the window only commit their row, and the task's claim takes every sign-up
    row waiting (sending.claim tops small batches up with them). A task of its own costs a
    confirmation about as much again as sending it (the task, the claim, the reads, the
    provider connection).

    The cache key lives half as long as the countdown, so a row committed while the key
    exists is committed well before the task claims. Should anything still be missed (a
    window of more sign-ups than a batch holds, a lost task), the scan re-enqueues rows
    pending over a minute: an email can be late, never lost. A cache outage answers "added",
    so every sign-up gets its own task, as it did before; eager tasks (tests) run at once."""
    window = settings.NOTIFICATIONS_SIGN_UP_WINDOW_SECONDS
    if not window or celery_app.conf.task_always_eager:
        enqueue([delivery_id])
        return
    if cache.add(SIGN_UP_TASK_KEY, delivery_id, timeout=window):
        from notifications.tasks import send_deliveries

        enqueue_logged(send_deliveries, [delivery_id], countdown=window * 1.5)


def meeting_link_due(event: Event, *, now: datetime) -> bool:
    """True while confirmed registrants of `event` should hold the meeting link."""
    return (
        event.status == Event.Status.PUBLISHED
        and event.effective_meeting_link_send_at <= now < event.ends_at
    )


def _next_version(registration, kind):
    latest = Delivery.objects.filter(registration=registration, kind=kind).aggregate(
        latest=Max("version")
    )["latest"]
    return 0 if latest is None else latest + 1


def _announcement(*, registration, old_status, new_status, message):
    """(kind, context) of the message a registration's change of status calls for, or None."""
    status = {"status": new_status}
    if new_status == RegStatus.INVITED:
        return Kind.INVITATION, None
    if old_status in (RegStatus.INVITED, RegStatus.REVOKED):
        # Accepted (registration.invitations): the usual confirmation. Withdrawn or cancelled
        # before it was accepted: the person never registered, so nothing to tell.
        return (Kind.CONFIRMATION, status) if new_status in REGISTERED else None
    if old_status is None:
        # An email-verified sign-up is first asked to prove its address.
        unverified = awaits_verification(registration)
        return (Kind.VERIFY_EMAIL if unverified else Kind.CONFIRMATION), status
    if new_status == RegStatus.CANCELLED and expired_hold(registration):
        return None  # an address never proven is not written to again
    if old_status in (RegStatus.HELD, RegStatus.CANCELLED) and new_status in (
        RegStatus.CONFIRMED,
        RegStatus.WAITLISTED,
    ):
        # Verified (registration.verification): the confirmation, with the calendar file.
        return Kind.CONFIRMATION, status
    if new_status == RegStatus.CANCELLED:
        return Kind.CANCELLED, None
    if new_status == RegStatus.REJECTED:
        return Kind.REJECTED, {"message": message or ""}
    if old_status == RegStatus.WAITLISTED and new_status == RegStatus.CONFIRMED:
        return Kind.WAITLIST_PROMOTED, None
    if old_status in (RegStatus.PENDING_APPROVAL, RegStatus.REJECTED) and new_status in (
        RegStatus.CONFIRMED,
        RegStatus.WAITLISTED,
    ):
        return Kind.APPROVED, status
    return None


def queue_for_registration_change(
    *,
    registration: Registration,
    old_status: str | None,
    new_status: str,
    resend: bool = False,
    message: str = "",
    now: datetime | None = None,
) -> None:
    """Queues what the person must hear about a registration change (registration_changed),
    in the caller's transaction; one row per (registration, kind, version), so nothing twice.

    Someone confirmed once the meeting link is due gets ONE email that says so and carries
    the link (a meeting_link row whose context names what it also announces): two emails
    sent by two workers would arrive in either order, the link before the confirmation."""
    now = now or timezone.now()
    if resend:
        if new_status == RegStatus.REVOKED:
            return
        if new_status == RegStatus.INVITED:
            kind = Kind.INVITATION
        elif awaits_verification(registration):
            kind = Kind.VERIFY_EMAIL
        else:
            kind = Kind.CONFIRMATION
        queue_delivery(
            registration=registration,
            kind=kind,
            version=_next_version(registration, kind),
            context={"status": new_status},
        )
        return
    announcement = _announcement(
        registration=registration, old_status=old_status, new_status=new_status, message=message
    )
    queue = _queue_for_new if old_status is None else queue_delivery
    if new_status == RegStatus.CONFIRMED and meeting_link_due(registration.event, now=now):
        announces = {"status": new_status, "announces": announcement[0]} if announcement else None
        if queue(registration=registration, kind=Kind.MEETING_LINK, context=announces):
            return
        # The link went out before (this registration was confirmed once already): the
        # announcement goes on its own.
    if announcement:
        kind, context = announcement
        queue(registration=registration, kind=kind, context=context)


def queue_event_cancelled(*, event: Event) -> None:
    """Queues the cancellation notice for everyone registered (confirmed, waitlisted,
    awaiting approval), in the caller's transaction; safe to run twice."""
    queue_all(
        reachable(event, status__in=REGISTERED),
        event=event,
        kind=Kind.EVENT_CANCELLED,
        version=event.sequence,
        after_commit=True,
    )


def queue_meeting_links(*, event: Event) -> int:
    """Queues the meeting link for every confirmed registrant of `event` who lacks one and
    enqueues the sends in batches; safe to run twice or concurrently. Returns rows queued."""
    lacking = reachable(event, status=RegStatus.CONFIRMED).exclude(
        Exists(Delivery.objects.filter(registration=OuterRef("pk"), kind=Kind.MEETING_LINK))
    )
    # Pages of ten send batches: fewer statements per batch, and the first sends still
    # start at once.
    return queue_all(lacking, event=event, kind=Kind.MEETING_LINK, page=batch_size() * 10)


def send_meeting_links_now(*, event: Event, now: datetime | None = None) -> int:
    """An organiser's "send now": the send time moves to now (so late sign-ups get theirs at
    once too) and every confirmed registrant without the link is queued. Returns rows queued."""
    now = now or timezone.now()
    if event.status != Event.Status.PUBLISHED or event.ends_at <= now:
        return 0
    event_services.bring_meeting_link_forward(event=event, now=now)
    return queue_meeting_links(event=event)


def resend_meeting_link(*, registrations: QuerySet[Registration]) -> int:
    """Queues a new version of the meeting link for each confirmed registration given, even
    if one was sent. Returns how many were queued (others are not confirmed or bounced)."""
    queued = 0
    with transaction.atomic():
        for registration in registrations.select_related("event"):
            if registration.status != RegStatus.CONFIRMED:
                continue
            version = _next_version(registration, Kind.MEETING_LINK)
            if queue_delivery(registration=registration, kind=Kind.MEETING_LINK, version=version):
                queued += 1
    return queued
