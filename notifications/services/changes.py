"""Notices of an event's change of time or meeting link: once a burst of edits has settled,
one message per registrant per change (event.sequence)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet

from events.models import Event
from notifications.models import Delivery
from notifications.services.queueing import REGISTERED, queue_all, reachable
from registration.models import Registration

Kind = Delivery.Kind
Status = Delivery.Status

# What became of a message that never reached the person.
NOT_DELIVERED = [Status.FAILED, Status.BOUNCED, Status.SKIPPED]
# Messages that state the event's time: one queued after a change told the new time.
TIME_BEARING = [
    Kind.CONFIRMATION,
    Kind.VERIFY_EMAIL,
    Kind.APPROVED,
    Kind.WAITLIST_PROMOTED,
    Kind.TIME_CHANGED,
    Kind.MEETING_LINK,
    Kind.EVENT_CHANGED,
]


def queue_change_notices(*, event: Event, now: datetime) -> int:
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
    queued = queue_all(
        _lacking_change_notice(event), event=event, kind=Kind.EVENT_CHANGED, version=event.sequence
    )
    return queued + queue_time_notices(event=event)


def queue_time_notices(*, event: Event) -> int:
    """One time_changed row per person registered before the event's date or time last
    changed who does not hold the meeting link (link holders get event_changed) and was sent
    nothing stating the time since. Called once the change has settled; safe to run twice."""
    if not event.time_changed_at:
        return 0
    lacking = _lacking_time_notice(event)
    return queue_all(lacking, event=event, kind=Kind.TIME_CHANGED, version=event.sequence)


def count_change_notice_recipients(*, event: Event) -> int:
    """How many people the notices of the event's last change will email once it settles
    (the rows queue_change_notices would queue), for the organiser who just made it."""
    if event.status != Event.Status.PUBLISHED or not event.changed_at:
        return 0
    count = _lacking_change_notice(event).count()
    if event.time_changed_at:
        count += _lacking_time_notice(event).count()
    return count


def _lacking_change_notice(event: Event) -> QuerySet[Registration]:
    """Confirmed registrants who had the meeting link before the last change and have not
    been sent this change (event.sequence) yet."""
    had_link = Delivery.objects.filter(
        registration=OuterRef("pk"), kind=Kind.MEETING_LINK, created_at__lt=event.changed_at
    ).exclude(status__in=NOT_DELIVERED)
    told = Delivery.objects.filter(
        registration=OuterRef("pk"), kind=Kind.EVENT_CHANGED, version=event.sequence
    )
    confirmed = reachable(event, status=Registration.Status.CONFIRMED)
    return confirmed.filter(Exists(had_link)).exclude(Exists(told))


def _lacking_time_notice(event: Event) -> QuerySet[Registration]:
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
        reachable(event, status__in=REGISTERED, created_at__lt=event.time_changed_at)
        .exclude(Exists(has_link))
        .exclude(Exists(told))
        .exclude(Exists(queued_already))
    )
