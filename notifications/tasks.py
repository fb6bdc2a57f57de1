"""Celery tasks: thin wrappers that take ids, read the rows again and call a service."""

from celery import shared_task
from django.utils import timezone

from events.models import Event
from notifications import services


@shared_task
def send_deliveries(ids: list[int]) -> None:
    """Safe to run twice (acks_late may redeliver): only rows it claims are sent, once each;
    transient failures are tried again after their backoff."""
    retry_at = services.send_deliveries(ids=ids)
    if retry_at is not None:
        # The scan would also find these rows; this gets them out without waiting for it.
        send_deliveries.apply_async(args=[ids], eta=retry_at)


@shared_task
def scan() -> dict[str, int]:
    """Safe to run any number of times: due meeting links, settled change notices and lost
    sends end up enqueued, each row sent once."""
    return services.scan(now=timezone.now())


@shared_task
def queue_change_notices(event_id: int) -> None:
    """Safe to run twice: one change notice per registrant and event sequence."""
    event = Event.objects.filter(pk=event_id).first()
    if event is not None:
        services.queue_change_notices(event=event, now=timezone.now())
