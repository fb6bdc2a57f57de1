"""Signal receivers: changes to registrations and events become outbox rows, inserted in the
transaction of the change (see notifications.services for what each fact queues)."""

from typing import Any

from anymail.signals import AnymailTrackingEvent, tracking
from django.conf import settings
from django.dispatch import receiver

from config.celery import enqueue_on_commit
from events.models import Event
from events.signals import event_cancelled, event_changed
from notifications import services
from registration.models import Registration
from registration.signals import registration_changed


@receiver(registration_changed, dispatch_uid="notifications.registration_changed")
def on_registration_changed(
    sender: type,
    registration: Registration,
    old_status: str | None,
    new_status: str,
    resend: bool = False,
    message: str = "",
    quiet: bool = False,
    **kwargs: Any,
) -> None:
    if quiet:
        return
    services.queue_for_registration_change(
        registration=registration,
        old_status=old_status,
        new_status=new_status,
        resend=resend,
        message=message,
    )
    if not resend:
        # A late registrant gets the organisers' messages already sent to people like them.
        services.catch_up_messages(registration=registration)


@receiver(event_cancelled, dispatch_uid="notifications.event_cancelled")
def on_event_cancelled(sender: type, event: Event, **kwargs: Any) -> None:
    services.queue_event_cancelled(event=event)


@receiver(event_changed, dispatch_uid="notifications.event_changed")
def on_event_changed(sender: type, event: Event, changes: frozenset[str], **kwargs: Any) -> None:
    # Notices wait until the organiser has stopped editing; the every-minute scan would find
    # them too, this just avoids depending on beat alone.
    from notifications.tasks import queue_change_notices

    delay = settings.EVENT_CHANGE_NOTICE_DELAY_MINUTES * 60 + 5
    enqueue_on_commit(queue_change_notices, event.pk, countdown=delay)


# What the mail provider reports through anymail's tracking webhook that means "stop mailing
# this address": a hard bounce, a refusal (suppressed address), a spam complaint.
UNDELIVERABLE = {"bounced", "rejected", "complained"}


@receiver(tracking, dispatch_uid="notifications.tracking")
def on_tracking(sender: type, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any) -> None:
    if event.event_type not in UNDELIVERABLE:
        return
    reason = " ".join(
        part
        for part in (event.event_type, event.reject_reason, event.description, event.mta_response)
        if part
    )
    services.record_bounce(message_id=event.message_id or "", reason=f"{esp_name}: {reason}")
