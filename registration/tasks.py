from celery import shared_task
from django.utils import timezone

from registration import services


@shared_task(name="registration.tasks.purge_personal_data")
def purge_personal_data() -> int:
    """Daily (beat): anonymise registrations past the retention period. Safe to run twice."""
    return services.purge_personal_data(now=timezone.now())
