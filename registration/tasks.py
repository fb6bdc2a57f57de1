from celery import shared_task
from django.utils import timezone

from registration import services, verification


@shared_task(name="registration.tasks.purge_personal_data")
def purge_personal_data() -> int:
    """Daily (beat): anonymise registrations past the retention period. Safe to run twice."""
    return services.purge_personal_data(now=timezone.now())


@shared_task(name="registration.tasks.expire_verification_holds")
def expire_verification_holds() -> int:
    """Every minute (beat): release unverified holds, promote the waiting list. Safe to run
    twice: each hold is released once."""
    return verification.expire_holds(now=timezone.now())
