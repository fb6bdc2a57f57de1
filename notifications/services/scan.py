"""The every-minute job (Celery beat): due meeting links, settled change notices, and sends
whose task was lost."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet

from events.models import Event
from notifications.models import Delivery
from notifications.services import queueing
from notifications.services.changes import queue_change_notices
from notifications.services.messages import queue_due_messages

Status = Delivery.Status

# A pending row this old was enqueued and then lost (broker restart, killed worker).
STALE_PENDING = timedelta(minutes=1)


def scan(*, now: datetime) -> dict[str, int]:
    """Due meeting links, settled change notices, due organisers' messages, lost sends: each ends up enqueued, each
    row sent once. Safe to run any number of times. Returns rows queued per kind of work."""
    return {
        "meeting_links": queue_due_meeting_links(now=now),
        "change_notices": queue_due_change_notices(now=now),
        "messages": queue_due_messages(now=now),
        "requeued": requeue_stuck(now=now),
    }


def due_meeting_link_events(*, now: datetime) -> QuerySet[Event]:
    """Published events whose meeting-link send time has passed and which have not ended."""
    lead = timedelta(hours=settings.MEETING_LINK_LEAD_HOURS)
    return Event.objects.filter(status=Event.Status.PUBLISHED, ends_at__gt=now).filter(
        Q(meeting_link_send_at__lte=now)
        | Q(meeting_link_send_at__isnull=True, starts_at__lte=now + lead)
    )


def queue_due_meeting_links(*, now: datetime) -> int:
    """Every confirmed registrant of every event past its send time ends up with exactly one
    meeting-link row, enqueued. Safe to run any number of times. Returns rows queued."""
    return sum(
        queueing.queue_meeting_links(event=event) for event in due_meeting_link_events(now=now)
    )


def queue_due_change_notices(*, now: datetime) -> int:
    """Change notices for every event whose last change has settled (see queue_change_notices)."""
    delay = timedelta(minutes=settings.EVENT_CHANGE_NOTICE_DELAY_MINUTES)
    events = Event.objects.filter(
        status=Event.Status.PUBLISHED, ends_at__gt=now, changed_at__lte=now - delay
    )
    return sum(queue_change_notices(event=event, now=now) for event in events)


def requeue_stuck(*, now: datetime) -> int:
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
    for batch in queueing.stream(stuck):
        queueing.enqueue(batch)
        requeued += len(batch)
    return requeued
