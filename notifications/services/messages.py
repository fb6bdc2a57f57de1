"""Organisers' messages (notifications.models.Message) through the outbox.

Each (registrant, message) is one Delivery row of kind "message" whose version is the
message's id, so the outbox's unique constraint is "once per registrant and message": the
scan, the late-registrant catch-up, "send now" and a second scan all insert the same row
at most once. Times are computed from the event when the scan looks (message_rules.due_at),
so a reminder follows its event when it moves. Subject and body are read when each email is
built: an edit after sending began reaches only those not yet sent. Cancelling skips every
row not yet handed to a worker (rows a worker holds at that moment still go out).

Late registrants: the scan queues every due, still-open message for whoever newly matches
it (until message_rules.catch_up_until). So that someone confirmed after a reminder's time
gets it at once rather than at the next scan, the scan keeps each event's open messages in
the cache, and a registration change matches against that list in memory: a sign-up into
an event with no open message costs no query (tests/test_query_budgets.py).
"""

from datetime import datetime

from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.utils import timezone

from events.models import Event
from notifications.message_rules import audience_filter, catch_up_until, due_at, matches
from notifications.models import Delivery, Message
from notifications.services import queueing
from registration.models import Registration

Kind = Delivery.Kind
State = Message.State
OPEN = [State.SCHEDULED, State.SENDING]
# The scan rewrites the entries every minute; this only bounds a stale one.
OPEN_CACHE_SECONDS = 5 * 60


def message_recipients(message: Message) -> QuerySet[Registration]:
    """Everyone `message` is for today: its audience among those who may be emailed."""
    return queueing.reachable(message.event).filter(audience_filter(message.audience or {}))


def count_message_recipients(message: Message) -> int:
    """How many people match the audience now (the admin shows it before sending)."""
    return message_recipients(message).count()


def message_progress(message: Message) -> dict[str, int]:
    """{delivery status: rows} of `message`, every status present."""
    counts = dict.fromkeys(Delivery.Status.values, 0)
    for row in (
        Delivery.objects.filter(event_id=message.event_id, kind=Kind.MESSAGE, version=message.pk)
        .values("status")
        .annotate(n=Count("pk"))
    ):
        counts[row["status"]] = row["n"]
    return counts


def queue_message(*, message: Message, now: datetime) -> int:
    """Queues `message` for every recipient without a row of it and enqueues the sends;
    marks it sending, or sent once no one can join its audience any more. Safe to run twice
    or concurrently. Returns rows queued."""
    due = due_at(message)
    if message.state not in OPEN or due is None or due > now:
        return 0
    event = message.event
    if event.status != Event.Status.PUBLISHED:
        return 0  # waits: a draft may still be published, a cancelled event says it all
    closes = catch_up_until(message, due)
    queued = 0
    # A reminder whose event ended before it could go out has no one left to remind.
    if not (due < event.ends_at <= now):
        lacking = message_recipients(message).exclude(
            Exists(
                Delivery.objects.filter(
                    registration=OuterRef("pk"), kind=Kind.MESSAGE, version=message.pk
                )
            )
        )
        queued = queueing.queue_all(
            lacking,
            event=event,
            kind=Kind.MESSAGE,
            version=message.pk,
            page=queueing.batch_size() * 10,
        )
    state = State.SENT if now >= closes else State.SENDING
    started_at = message.started_at or now
    Message.objects.filter(pk=message.pk, state__in=OPEN).update(state=state, started_at=started_at)
    message.state, message.started_at = state, started_at
    return queued


def queue_due_messages(*, now: datetime) -> int:
    """The scan's part: every open message past its time is queued for whoever lacks it,
    and each event's open messages are written to the cache for the catch-up. Returns rows
    queued."""
    queued = 0
    by_event: dict[int, list[Message]] = {}
    messages = Message.objects.filter(state__in=OPEN).select_related("event").order_by("pk")
    for message in messages:
        queued += queue_message(message=message, now=now)
        by_event.setdefault(message.event_id, []).append(message)
    for event_id, event_messages in by_event.items():
        _remember(event_id, event_messages)
    return queued


def _remember(event_id: int, messages: list[Message]) -> None:
    """Writes the event's messages that are sending (late registrants still get them) to the
    cache, for catch_up()."""
    entries = []
    for message in messages:
        due = due_at(message)
        if message.state == State.SENDING and due is not None:
            closes = catch_up_until(message, due)
            entries.append(
                (message.pk, message.audience or {}, due.timestamp(), closes.timestamp())
            )
    if entries:
        cache.set(_cache_key(event_id), entries, OPEN_CACHE_SECONDS)
    else:
        cache.delete(_cache_key(event_id))


def catch_up_messages(*, registration: Registration, now: datetime | None = None) -> int:
    """Queues, in the caller's transaction, the open messages that `registration` now matches
    (a late registrant confirmed after a reminder's time gets it at once). No query unless
    the event has an open message. Safe to run twice. Returns rows queued."""
    entries = cache.get(_cache_key(registration.event_id))
    if not entries:
        return 0
    moment = (now or timezone.now()).timestamp()
    queued = 0
    for message_id, audience, due, closes in entries:
        if not (due <= moment < closes and matches(audience, registration)):
            continue
        if queueing.queue_delivery(
            registration=registration, kind=Kind.MESSAGE, version=message_id
        ):
            queued += 1
    return queued


def send_message_now(*, message: Message, now: datetime | None = None) -> int:
    """The organiser's "send now": the message becomes an announcement due now and is queued
    at once for its audience. Returns rows queued (0 when the event is not published)."""
    now = now or timezone.now()
    if message.state in (State.SENT, State.CANCELLED):
        return 0
    message.send, message.send_at, message.state = Message.Send.NOW, now, State.SCHEDULED
    message.save(update_fields=["send", "send_at", "state", "updated_at"])
    queued = queue_message(message=message, now=now)
    _refresh(message.event)
    return queued


def schedule_message(*, message: Message) -> None:
    """A draft becomes scheduled: the scan sends it when it is due."""
    if message.state == State.DRAFT:
        message.state = State.SCHEDULED
        message.save(update_fields=["state", "updated_at"])


def cancel_message(*, message: Message) -> int:
    """Stops `message`: rows not yet claimed by a worker are marked skipped (the send path
    would skip them anyway), and no one else is queued. Returns rows skipped."""
    Message.objects.filter(pk=message.pk).update(state=State.CANCELLED)
    message.state = State.CANCELLED
    skipped = Delivery.objects.filter(
        event_id=message.event_id,
        kind=Kind.MESSAGE,
        version=message.pk,
        status=Delivery.Status.PENDING,
    ).update(
        status=Delivery.Status.SKIPPED,
        last_error="The message was cancelled.",
        updated_at=timezone.now(),
    )
    _refresh(message.event)
    return skipped


def _cache_key(event_id: int) -> str:
    return f"notifications:open-messages:{event_id}"


def _refresh(event: Event) -> None:
    messages = list(Message.objects.filter(event=event, state__in=OPEN))
    for message in messages:
        message.event = event
    _remember(event.pk, messages)
