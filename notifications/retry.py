"""Trying failed deliveries again: the organisers' retry (notifications.admin) calls this.

It belongs with the outbox's services; it sits in its own module only while
notifications/services.py is being split into a package (issue 14), and moves there then.
"""

from django.db.models import QuerySet
from django.utils import timezone

from notifications import services
from notifications.models import Delivery

Status = Delivery.Status


def retry_failed_deliveries(*, deliveries: QuerySet[Delivery]) -> list[int]:
    """Puts the failed ones among `deliveries` back in the queue, as if new (no attempts, no
    backoff), and hands them to the send task (which claims them, so a repeat is safe).
    Others are left alone. Returns the ids queued again."""
    ids = list(deliveries.filter(status=Status.FAILED).values_list("pk", flat=True))
    Delivery.objects.filter(pk__in=ids, status=Status.FAILED).update(
        status=Status.PENDING, attempts=0, next_attempt_at=None, updated_at=timezone.now()
    )
    services.enqueue(ids)
    return ids
