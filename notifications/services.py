"""The outbox: what to send to whom (queueing), and sending it (claim, build, send, record).

Every email goes through a Delivery row. Rows are inserted in the transaction of the change
they announce and enqueued after it commits; the send task claims its rows, so a message
enqueued twice, a task run twice or a scan racing a task still sends each row once. The
database is the source of truth: Redis only carries lists of row ids.
"""

import logging
import random
import smtplib
import socket
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import cache

from anymail.exceptions import AnymailAPIError, AnymailError, AnymailRecipientsRefused
from django.conf import settings
from django.core.mail import mailers
from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    connections,
    router,
    transaction,
)
from django.db.models import Exists, F, Max, OuterRef, Q
from django.utils import timezone

from config.celery import enqueue_on_commit as enqueue_task_on_commit
from events.models import Event
from notifications.emails import build_message, needs_manage_link
from notifications.models import Delivery
from registration.models import Registration
from registration.services import issue_manage_tokens, withdraw_manage_tokens
from registration.verification import awaits_verification, expired_hold

logger = logging.getLogger(__name__)

Kind = Delivery.Kind
Status = Delivery.Status
RegStatus = Registration.Status

# A pending row this old was enqueued and then lost (broker restart, killed worker).
STALE_PENDING = timedelta(minutes=1)
RETRY_CAP_SECONDS = 3600
# Registration statuses told that their event was cancelled.
REGISTERED = [RegStatus.CONFIRMED, RegStatus.WAITLISTED, RegStatus.PENDING_APPROVAL]
# What became of a message that never reached the person.
NOT_DELIVERED = [Status.FAILED, Status.BOUNCED, Status.SKIPPED]
# Messages that state the event's time: one queued after a change told the new time.
TIME_BEARING = [
    Kind.CONFIRMATION,
    Kind.APPROVED,
    Kind.WAITLIST_PROMOTED,
    Kind.TIME_CHANGED,
    Kind.MEETING_LINK,
    Kind.EVENT_CHANGED,
]


def batch_size():
    """Rows per bulk insert and per send task (settings.NOTIFICATIONS_BATCH_SIZE)."""
    return settings.NOTIFICATIONS_BATCH_SIZE


def lease_duration():
    return timedelta(seconds=settings.NOTIFICATIONS_LEASE_SECONDS)


# --- Enqueueing -----------------------------------------------------------------------------


def enqueue(ids):
    """Hands row ids to the send task in batches (the task claims them, so repeats are safe)."""
    from notifications.tasks import send_deliveries

    ids = list(ids)
    size = batch_size()
    for start in range(0, len(ids), size):
        send_deliveries.delay(ids[start : start + size])


def enqueue_on_commit(ids):
    """As enqueue(), once the caller's transaction commits; a broker outage is only logged
    (the scan re-enqueues pending rows)."""
    from notifications.tasks import send_deliveries

    ids = list(ids)
    size = batch_size()
    for start in range(0, len(ids), size):
        enqueue_task_on_commit(send_deliveries, ids[start : start + size])


def _stream(queryset, size=None):
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


def _reachable(event, **filters):
    """Registrations of `event` that may still be emailed: address not bounced, not
    anonymised; `filters` narrow them further."""
    return Registration.objects.filter(
        event=event, email_bounced_at__isnull=True, anonymised_at__isnull=True, **filters
    )


def _queue_all(registrations, *, event, kind, version=0, page=None, after_commit=False):
    """One pending `kind` row per registration in `registrations`, inserted page by page
    and enqueued (after the caller's transaction commits, with `after_commit`). Returns how
    many rows were queued."""
    queued = 0
    for batch in _stream(registrations, size=page):
        ids = _insert_for(batch, event_id=event.pk, kind=kind, version=version)
        (enqueue_on_commit if after_commit else enqueue)(ids)
        queued += len(ids)
    return queued


def queue_delivery(*, registration, kind, version=0, context=None, new=False):
    """Queues one message in the caller's transaction, sent after it commits. Safe to call
    twice: the second call finds the row and queues nothing. Bounced addresses get nothing.

    `new=True`: the registration was inserted in this very transaction, so it has no rows
    yet and one INSERT does (the lookup and savepoint of get_or_create were a fifth of a
    registration POST)."""
    if registration.email_bounced_at or registration.anonymised_at:
        return None
    if new:
        delivery = Delivery.objects.create(
            registration=registration,
            event_id=registration.event_id,
            kind=kind,
            version=version,
            context=context or {},
        )
    else:
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


def meeting_link_due(event, *, now):
    """True while confirmed registrants of `event` should hold the meeting link."""
    return (
        event.status == Event.Status.PUBLISHED
        and event.effective_meeting_link_send_at <= now < event.ends_at
    )


def queue_for_registration_change(
    *, registration, old_status, new_status, resend=False, message="", now=None
):
    """Queues what the person must hear about a registration change (registration_changed),
    in the caller's transaction; one row per (registration, kind, version), so nothing twice.

    Someone confirmed once the meeting link is due gets ONE email that says so and carries
    the link (a meeting_link row whose context names what it also announces): two emails
    sent by two workers would arrive in either order, the link before the confirmation."""
    now = now or timezone.now()
    status = {"status": new_status}
    new = old_status is None
    announcement = None  # (kind, context) of the message this change calls for
    unverified = awaits_verification(registration)
    if resend:
        kind = Kind.VERIFY_EMAIL if unverified else Kind.CONFIRMATION
        latest = Delivery.objects.filter(registration=registration, kind=kind).aggregate(
            latest=Max("version")
        )["latest"]
        version = 0 if latest is None else latest + 1
        queue_delivery(registration=registration, kind=kind, version=version, context=status)
        return
    if new:
        announcement = (Kind.VERIFY_EMAIL if unverified else Kind.CONFIRMATION, status)
    elif new_status == RegStatus.CANCELLED and expired_hold(registration):
        pass  # an address never proven is not written to again
    elif old_status in (RegStatus.HELD, RegStatus.CANCELLED) and new_status in (
        RegStatus.CONFIRMED,
        RegStatus.WAITLISTED,
    ):
        # Verified (registration.verification): the confirmation, with the calendar file.
        announcement = (Kind.CONFIRMATION, status)
    elif new_status == RegStatus.CANCELLED:
        announcement = (Kind.CANCELLED, None)
    elif new_status == RegStatus.REJECTED:
        announcement = (Kind.REJECTED, {"message": message or ""})
    elif old_status == RegStatus.WAITLISTED and new_status == RegStatus.CONFIRMED:
        announcement = (Kind.WAITLIST_PROMOTED, None)
    elif old_status in (RegStatus.PENDING_APPROVAL, RegStatus.REJECTED) and new_status in (
        RegStatus.CONFIRMED,
        RegStatus.WAITLISTED,
    ):
        announcement = (Kind.APPROVED, status)

    if new_status == RegStatus.CONFIRMED and meeting_link_due(registration.event, now=now):
        announces = {**status, "announces": announcement[0]} if announcement else None
        if queue_delivery(
            registration=registration, kind=Kind.MEETING_LINK, context=announces, new=new
        ):
            return
        # The link went out before (this registration was confirmed once already): the
        # announcement goes on its own.
    if announcement:
        kind, context = announcement
        queue_delivery(registration=registration, kind=kind, context=context, new=new)


def queue_event_cancelled(*, event):
    """Queues the cancellation notice for everyone registered (confirmed, waitlisted,
    awaiting approval), in the caller's transaction; safe to run twice."""
    _queue_all(
        _reachable(event, status__in=REGISTERED),
        event=event,
        kind=Kind.EVENT_CANCELLED,
        version=event.sequence,
        after_commit=True,
    )


# --- The scan (Celery beat, every minute) ---------------------------------------------------


def queue_meeting_links(*, event):
    """Queues the meeting link for every confirmed registrant of `event` who lacks one and
    enqueues the sends in batches; safe to run twice or concurrently. Returns rows queued."""
    lacking = _reachable(event, status=RegStatus.CONFIRMED).exclude(
        Exists(Delivery.objects.filter(registration=OuterRef("pk"), kind=Kind.MEETING_LINK))
    )
    # Pages of ten send batches: a tenth of the statements of one page per batch, and the
    # first sends still start within a few milliseconds.
    return _queue_all(lacking, event=event, kind=Kind.MEETING_LINK, page=batch_size() * 10)


def due_meeting_link_events(*, now):
    """Published events whose meeting-link send time has passed and which have not ended."""
    lead = timedelta(hours=settings.MEETING_LINK_LEAD_HOURS)
    return Event.objects.filter(status=Event.Status.PUBLISHED, ends_at__gt=now).filter(
        Q(meeting_link_send_at__lte=now)
        | Q(meeting_link_send_at__isnull=True, starts_at__lte=now + lead)
    )


def queue_due_meeting_links(*, now):
    """Every confirmed registrant of every event past its send time ends up with exactly one
    meeting-link row, enqueued. Safe to run any number of times. Returns rows queued."""
    return sum(queue_meeting_links(event=event) for event in due_meeting_link_events(now=now))


def queue_change_notices(*, event, now):
    """One event_changed row per confirmed registrant who was sent the meeting link before
    the event's last change, per event.sequence, once the change is a few minutes old (a
    burst of edits gives one message), and the new time for everyone else registered
    (queue_time_notices). Safe to run twice. Returns rows queued."""
    delay = timedelta(minutes=settings.EVENT_CHANGE_NOTICE_DELAY_MINUTES)
    if (
        event.status != Event.Status.PUBLISHED
        or not event.changed_at
        or event.changed_at > now - delay
        or event.ends_at <= now
    ):
        return 0
    queued = _queue_all(
        _lacking_change_notice(event), event=event, kind=Kind.EVENT_CHANGED, version=event.sequence
    )
    return queued + queue_time_notices(event=event)


def _lacking_change_notice(event):
    """Confirmed registrants who had the meeting link before the last change and have not
    been sent this change (event.sequence) yet."""
    had_link = Delivery.objects.filter(
        registration=OuterRef("pk"), kind=Kind.MEETING_LINK, created_at__lt=event.changed_at
    ).exclude(status__in=NOT_DELIVERED)
    told = Delivery.objects.filter(
        registration=OuterRef("pk"), kind=Kind.EVENT_CHANGED, version=event.sequence
    )
    return (
        _reachable(event, status=RegStatus.CONFIRMED).filter(Exists(had_link)).exclude(Exists(told))
    )


def _lacking_time_notice(event):
    """Registrants from before the last change of date or time who hold no meeting link and
    were sent nothing stating the time since."""
    has_link = Delivery.objects.filter(registration=OuterRef("pk"), kind=Kind.MEETING_LINK).exclude(
        status__in=NOT_DELIVERED
    )
    told = Delivery.objects.filter(
        registration=OuterRef("pk"),
        kind__in=TIME_BEARING,
        created_at__gte=event.time_changed_at,
    ).exclude(status__in=NOT_DELIVERED)
    queued_already = Delivery.objects.filter(
        registration=OuterRef("pk"), kind=Kind.TIME_CHANGED, version=event.sequence
    )
    return (
        _reachable(event, status__in=REGISTERED, created_at__lt=event.time_changed_at)
        .exclude(Exists(has_link))
        .exclude(Exists(told))
        .exclude(Exists(queued_already))
    )


def queue_time_notices(*, event):
    """One time_changed row per person registered before the event's date or time last
    changed who does not hold the meeting link (link holders get event_changed) and was sent
    nothing stating the time since. Called once the change has settled; safe to run twice."""
    if not event.time_changed_at:
        return 0
    lacking = _lacking_time_notice(event)
    return _queue_all(lacking, event=event, kind=Kind.TIME_CHANGED, version=event.sequence)


def count_change_notice_recipients(*, event):
    """How many people the notices of the event's last change will email once it settles
    (the rows queue_change_notices would queue), for the organiser who just made it."""
    if event.status != Event.Status.PUBLISHED or not event.changed_at:
        return 0
    count = _lacking_change_notice(event).count()
    if event.time_changed_at:
        count += _lacking_time_notice(event).count()
    return count


def queue_due_change_notices(*, now):
    """Change notices for every event whose last change has settled (see queue_change_notices)."""
    delay = timedelta(minutes=settings.EVENT_CHANGE_NOTICE_DELAY_MINUTES)
    events = Event.objects.filter(
        status=Event.Status.PUBLISHED, ends_at__gt=now, changed_at__lte=now - delay
    )
    return sum(queue_change_notices(event=event, now=now) for event in events)


def requeue_stuck(*, now):
    """Re-enqueues rows whose task was lost: pending for over a minute (and due), or sending
    past their lease (a killed worker). The claim makes a duplicate harmless."""
    stuck = Delivery.objects.filter(
        Q(
            status=Status.PENDING,
            updated_at__lte=now - STALE_PENDING,
        )
        & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        | Q(status=Status.SENDING, lease_expires_at__lte=now)
    )
    requeued = 0
    for batch in _stream(stuck):
        enqueue(batch)
        requeued += len(batch)
    return requeued


def scan(*, now):
    """The every-minute job: due meeting links, settled change notices, lost sends."""
    return {
        "meeting_links": queue_due_meeting_links(now=now),
        "change_notices": queue_due_change_notices(now=now),
        "requeued": requeue_stuck(now=now),
    }


def send_meeting_links_now(*, event, now=None):
    """An organiser's "send now": the send time moves to now (so late sign-ups get theirs at
    once too) and every confirmed registrant without the link is queued. Returns rows queued."""
    now = now or timezone.now()
    if event.status != Event.Status.PUBLISHED or event.ends_at <= now:
        return 0
    if event.effective_meeting_link_send_at > now:
        Event.objects.filter(pk=event.pk).update(meeting_link_send_at=now, updated_at=now)
        event.meeting_link_send_at = now
    return queue_meeting_links(event=event)


def resend_meeting_link(*, registrations):
    """Queues a new version of the meeting link for each confirmed registration given, even
    if one was sent. Returns how many were queued (others are not confirmed or bounced)."""
    queued = 0
    with transaction.atomic():
        for registration in registrations.select_related("event"):
            if registration.status != RegStatus.CONFIRMED:
                continue
            latest = Delivery.objects.filter(
                registration=registration, kind=Kind.MEETING_LINK
            ).aggregate(latest=Max("version"))["latest"]
            version = 0 if latest is None else latest + 1
            if queue_delivery(registration=registration, kind=Kind.MEETING_LINK, version=version):
                queued += 1
    return queued


# --- Sending --------------------------------------------------------------------------------


class Transient(Exception):
    """Worth trying again later (connection refused, timeout, 4xx SMTP, 5xx/429 API)."""


class Permanent(Exception):
    """Will fail the same way again (refused recipient, 5xx SMTP, 4xx API)."""


def classify(error):
    """Transient or Permanent for an exception raised while sending one message."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in error.recipients.values()]
        return Transient if codes and all(400 <= code < 500 for code in codes) else Permanent
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return Transient  # our configuration, not the recipient: retry once it is fixed
    if isinstance(error, smtplib.SMTPResponseException):
        return Transient if 400 <= error.smtp_code < 500 else Permanent
    if isinstance(error, smtplib.SMTPServerDisconnected | ConnectionError | TimeoutError):
        return Transient
    if isinstance(error, OperationalError | InterfaceError):
        return Transient  # our database, e.g. restarting: nothing wrong with the message
    if isinstance(error, AnymailRecipientsRefused):
        return Permanent
    if isinstance(error, AnymailAPIError):
        code = error.status_code
        return Transient if code is None or code == 429 or code >= 500 else Permanent
    if isinstance(error, AnymailError | ValueError):
        return Permanent  # e.g. an invalid address or a feature the ESP lacks
    if isinstance(error, socket.gaierror | OSError):
        return Transient
    return Permanent


def describe(error, message=None):
    """The reason recorded on the row: the exception, the provider's answer, and the
    recipient's status where anymail reports one (e.g. "rejected" for a suppressed address)."""
    text = f"{type(error).__name__}: {error}".strip()
    status = getattr(message, "anymail_status", None)
    if status is not None and status.status:
        text += f" (recipient status: {', '.join(sorted(status.status))})"
    return text


def retry_delay(attempts):
    """Exponential backoff with jitter: base x 2^(attempts-1), capped, between 1/2 and 1x."""
    delay = min(
        RETRY_CAP_SECONDS, settings.NOTIFICATIONS_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    )
    return timedelta(seconds=delay / 2 + random.uniform(0, delay / 2))


def claim(*, ids, now):
    """Marks the claimable rows among `ids` as sending under a lease and returns their ids;
    rows another worker holds, or already finished, are left alone."""
    claimable = Q(status=Status.PENDING) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    ) | Q(status=Status.SENDING, lease_expires_at__lte=now)
    with transaction.atomic():
        claimed = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(claimable, pk__in=ids)
            .values_list("pk", flat=True)
        )
        Delivery.objects.filter(pk__in=claimed).update(
            status=Status.SENDING,
            lease_expires_at=now + lease_duration(),
            attempts=F("attempts") + 1,
            updated_at=now,
        )
    return claimed


def _finish(delivery, *, status, error="", message_id=""):
    """Records the outcome, unless another worker re-claimed the row after our lease ran out
    and finished it already (then its outcome stands)."""
    now = timezone.now()
    # Once per message on the send path, so one plain statement: building it through the
    # ORM cost more CPU than the database spent running it.
    connection = connections[router.db_for_write(Delivery)]
    with connection.cursor() as cursor:
        cursor.execute(
            _finish_sql(connection.alias),
            [
                status,
                error[:2000],
                message_id[:200],
                now if status == Status.SENT else None,
                now,
                delivery.pk,
                Status.SENDING,
            ],
        )


@cache
def _finish_sql(alias):
    """UPDATE for _finish(), from the model's own table and column names."""
    quote = connections[alias].ops.quote_name
    fields = {field.name: quote(field.column) for field in Delivery._meta.concrete_fields}
    assigned = ["status", "last_error", "esp_message_id", "sent_at", "updated_at"]
    assignments = ", ".join(f"{fields[name]} = %s" for name in assigned)
    # Names from the model, quoted; every value is a parameter.
    table, pk = quote(Delivery._meta.db_table), quote(Delivery._meta.pk.column)
    cleared = f"{fields['lease_expires_at']} = NULL, {fields['next_attempt_at']} = NULL"
    return (
        f"UPDATE {table} SET {assignments}, {cleared} WHERE {pk} = %s AND {fields['status']} = %s"  # noqa: S608
    )


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


def not_applicable(delivery, *, now):
    """Why this message must not go out any more, or "" when it still should."""
    registration, event = delivery.registration, delivery.event
    if registration.email_bounced_at:
        return "The address bounced earlier."
    if registration.anonymised_at:
        return "The registration was anonymised."
    if delivery.kind == Kind.VERIFY_EMAIL and not awaits_verification(registration):
        return f"The registration is {registration.status}, verified or expired."
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
        Kind.APPROVED,
        Kind.WAITLIST_PROMOTED,
        Kind.TIME_CHANGED,
    ) and (event.status == Event.Status.CANCELLED or event.ends_at <= now):
        return "The event was cancelled or has ended."
    elif delivery.kind == Kind.TIME_CHANGED and registration.status not in REGISTERED:
        return f"The registration is {registration.status}."
    return ""


def _message_id(message):
    status = getattr(message, "anymail_status", None)
    if status is not None and status.message_id is not None:
        return str(status.message_id)
    return message.extra_headers.get("Message-ID", "")


def send_deliveries(*, ids, now=None):
    """Sends each claimable row among `ids` at most once and records the outcome. Safe to run
    twice: finished or claimed rows are skipped. No database transaction is open while the
    mail provider is talking. Returns when to try again for transient failures, or None."""
    now = now or timezone.now()
    claimed = claim(ids=ids, now=now)
    if not claimed:
        return None
    deliveries = list(
        Delivery.objects.filter(pk__in=claimed).select_related("registration").order_by("pk")
    )
    # One Event object per event, not one per row: a batch is almost always one event, and
    # the per-row copies (JSON translations decoded each time) cost more than the query.
    events = Event.objects.in_bulk({delivery.event_id for delivery in deliveries})
    for delivery in deliveries:
        delivery.event = delivery.registration.event = events[delivery.event_id]
    sendable = []
    for delivery in deliveries:
        reason = not_applicable(delivery, now=now)
        if reason:
            _finish(delivery, status=Status.SKIPPED, error=reason)
        else:
            sendable.append(delivery)
    if not sendable:
        return None
    mailer = mailers.default
    try:
        mailer.open()
    except Exception as error:
        logger.warning("Mail provider unavailable, %s messages wait: %r", len(sendable), error)
        if classify(error) is Permanent:
            for delivery in sendable:
                _finish(delivery, status=Status.FAILED, error=describe(error))
            return None
        return _release([d.pk for d in sendable], error=describe(error), attempted=True)
    try:
        # Half the lease: past it, the rest of the batch goes back to the queue rather than
        # risk the scan handing this worker's rows to another one while it is still sending.
        return _send_all(sendable, mailer, deadline=now + lease_duration() / 2)
    finally:
        mailer.close()


class _Stop(Exception):
    """The provider is struggling: the rest of the batch waits for its backoff."""

    def __init__(self, retry_at):
        self.retry_at = retry_at


def _send_all(sendable, mailer, *, deadline):
    """Builds and sends `sendable` in order through `mailer`. The provider talks in a helper
    thread (which never touches the database), so the worker builds the next message and
    records the previous outcome while it waits for an answer (that wait was half of a
    worker's time per message). A message goes out only once the one before it was answered,
    and its outcome is recorded while the next one is sent: a crash repeats at most those
    two. Past `deadline`, what is left of the batch is handed back to the queue."""
    # One INSERT for the batch's manage links; those of messages never handed to the
    # provider are withdrawn at the end.
    registrations = {d.registration_id: d.registration for d in sendable if needs_manage_link(d)}
    tokens = issue_manage_tokens(registrations=registrations.values())
    handed_over = set()  # registrations whose manage link went out in a message
    batch_cache = {}
    sending = None  # (delivery, message, future) the provider has been handed
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mail-provider") as provider:
            for index, delivery in enumerate(sendable):
                if timezone.now() >= deadline:
                    if sending:
                        _record(*_answer(*sending, untried=sendable[index:]))
                        sending = None
                    _hand_back(sendable[index:])
                    return None
                message, error = None, None
                try:
                    token = tokens.get(delivery.registration_id)
                    message = build_message(delivery=delivery, cache=batch_cache, token=token)
                except Exception as failure:
                    error = failure
                answered = None
                if sending:
                    answered = _answer(*sending, untried=sendable[index:])
                    sending = None
                if error is None:
                    future = provider.submit(mailer.send_messages, [message])
                    sending = (delivery, message, future)
                    handed_over.add(delivery.registration_id)
                if answered:
                    _record(*answered)
                if error is not None:
                    _record_failure(delivery, message, error, untried=sendable[index + 1 :])
            if sending:
                _record(*_answer(*sending, untried=[]))
    except _Stop as stop:
        return stop.retry_at
    finally:
        unused = [token for pk, token in tokens.items() if pk not in handed_over]
        try:
            withdraw_manage_tokens(tokens=unused)
        except DatabaseError as error:  # the database went away: the error on its way matters
            logger.warning("Could not withdraw %s unused manage links: %r", len(unused), error)
    return None


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
    enqueue(ids)


def _answer(delivery, message, future, *, untried):
    """Waits for the provider's answer to `message`: (delivery, message, None) when it was
    accepted, (delivery, message, error) when it never will be; a transient error puts the
    row and the `untried` rest back to pending (raises _Stop)."""
    try:
        future.result()
    except Exception as error:
        if classify(error) is not Permanent:
            raise _give_back(delivery, error, untried=untried) from error
        return delivery, message, error
    return delivery, message, None


def _record(delivery, message, error):
    if error is None:
        _finish(delivery, status=Status.SENT, message_id=_message_id(message))
    else:
        _record_failure(delivery, message, error, untried=[])


def _record_failure(delivery, message, error, *, untried):
    """A permanent error fails this row; a transient one puts it and the `untried` rest of
    the batch back to pending with a backoff, and raises _Stop."""
    if classify(error) is not Permanent:
        raise _give_back(delivery, error, untried=untried) from error
    reason = describe(error, message)
    logger.info("Delivery %s failed for good: %s", delivery.pk, reason)
    _finish(delivery, status=Status.FAILED, error=reason)


def _give_back(delivery, error, *, untried):
    """The provider is struggling: this row and the `untried` rest of the batch go back to
    pending, and the backoff decides when to try again, rather than hammering it with the
    rest. Returns the _Stop to raise."""
    logger.warning("Delivery %s will be retried: %s", delivery.pk, describe(error))
    earliest = _release([delivery.pk], error=describe(error), attempted=True)
    later = _release([d.pk for d in untried], error=describe(error), attempted=False)
    candidates = [at for at in (earliest, later) if at]
    return _Stop(min(candidates) if candidates else None)


# --- Bounces (anymail's tracking webhook) ---------------------------------------------------


def record_bounce(*, message_id, reason, now=None):
    """Marks the delivery whose provider message id we recorded as bounced and stops mail to
    its registration. A report matching no delivery is logged and changes nothing: an
    address alone proves nothing about our mail. Safe to receive twice. Returns how many
    registrations were flagged."""
    now = now or timezone.now()
    # Unsent deliveries have no id: an empty one must match nothing.
    deliveries = Delivery.objects.filter(esp_message_id=message_id or None)
    with transaction.atomic():
        registration_ids = list(deliveries.values_list("registration_id", flat=True))
        if not registration_ids:
            logger.warning(
                "Bounce report for no message of ours ignored (%r): %s", message_id, reason
            )
            return 0
        deliveries.update(status=Status.BOUNCED, last_error=reason[:2000], updated_at=now)
        return Registration.objects.filter(
            pk__in=registration_ids, email_bounced_at__isnull=True
        ).update(email_bounced_at=now)
