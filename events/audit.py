"""The audit log: who exported a registration list, viewed a registrant, sent or resent
messages, or changed an event's time or meeting link, and when (one line per event). Read in
the admin by the event's managers and site administrators; purge_personal_data deletes it with
the registrations."""

from typing import Any

from django.db.models import Count, QuerySet
from django.utils.translation import ngettext

from events.models import AuditEntry


def _actor(user) -> str:
    return (
        (getattr(user, "email", "") or getattr(user, "username", "")) if user else ""
    ) or "system"


def record(*, events, user: Any, action: str, detail: str = "") -> None:
    """Adds one line per event in `events` to its audit log: who, what, when."""
    AuditEntry.objects.bulk_create(
        AuditEntry(
            event_id=event.pk,
            user=user if getattr(user, "pk", None) else None,
            actor=_actor(user),
            action=action,
            detail=detail[:500],
        )
        for event in events
    )


def record_per_event(rows: QuerySet, *, user: Any, action: str, what: str) -> None:
    """One audit line per event among `rows` (registrations, deliveries: anything with an
    `event`), saying what was done to how many people."""
    counts = rows.order_by().values_list("event").annotate(n=Count("pk"))
    AuditEntry.objects.bulk_create(
        AuditEntry(
            event_id=event_id,
            user=user if getattr(user, "pk", None) else None,
            actor=_actor(user),
            action=action,
            detail=ngettext("%(what)s: %(count)d person", "%(what)s: %(count)d people", count)
            % {"what": what, "count": count},
        )
        for event_id, count in counts
    )
