"""Bounce reports (anymail's tracking webhook): the message's row is marked bounced and its
address gets no more mail."""

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from notifications.models import Delivery
from registration.models import Registration

logger = logging.getLogger(__name__)


def record_bounce(*, message_id: str, reason: str, now: datetime | None = None) -> int:
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
        deliveries.update(status=Delivery.Status.BOUNCED, last_error=reason[:2000], updated_at=now)
        return Registration.objects.filter(
            pk__in=registration_ids, email_bounced_at__isnull=True
        ).update(email_bounced_at=now)
