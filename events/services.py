"""State changes of an event. The admin, the import command and tests all call these."""

import functools
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from events import cache as event_cache
from events.models import Event, Speaker
from events.signals import event_cancelled, event_changed

# What registrants have been told (time, link) and must hear about again when it changes.
ANNOUNCED_FIELDS = frozenset({"starts_at", "ends_at", "timezone", "meeting_url", "meeting_details"})
# Of those, what everyone registered was told in their confirmation.
TIME_FIELDS = frozenset({"starts_at", "ends_at", "timezone"})


def _after_commit_bump(event: Event) -> None:
    transaction.on_commit(lambda: event_cache.bump_event(event.pk))


def _move(event: Event, *, source: str, target: str) -> bool:
    """Moves `event` from status `source` to `target` under its row lock. Returns True when
    it moved (False: it was not in `source`, nothing to do)."""
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=event.pk)
        if event.status != source:
            return False
        event.status = target
        event.save(update_fields=["status", "updated_at"])
        _after_commit_bump(event)
    return True


def publish(*, event: Event) -> bool:
    """Make a draft public. Returns True when the status changed (False: nothing to do)."""
    return _move(event, source=Event.Status.DRAFT, target=Event.Status.PUBLISHED)


def unpublish(*, event: Event) -> bool:
    """Take a published event back to draft (hidden from the public). Registrations stay."""
    return _move(event, source=Event.Status.PUBLISHED, target=Event.Status.DRAFT)


def cancel_event(*, event: Event) -> bool:
    """Cancel an event; when it was published, announce it (once) to the other apps.

    Safe to run twice: an already cancelled event is left alone and nothing is sent again.
    The sequence grows so that calendars replace the entry with the cancelled one.
    """
    with transaction.atomic():
        locked = Event.objects.select_for_update().get(pk=event.pk)
        if locked.status == Event.Status.CANCELLED:
            return False
        was_published = locked.status == Event.Status.PUBLISHED
        locked.status = Event.Status.CANCELLED
        locked.sequence += 1
        locked.save(update_fields=["status", "sequence", "updated_at"])
        event.status, event.sequence = locked.status, locked.sequence
        if was_published:
            event_cancelled.send(sender=Event, event=locked)
        _after_commit_bump(locked)
    return True


def bring_meeting_link_forward(*, event: Event, now: datetime) -> bool:
    """Moves the meeting-link send time to `now` when it was later (an organiser's "send
    now": late sign-ups then get the link at once too). Returns True when it moved."""
    if event.effective_meeting_link_send_at <= now:
        return False
    with transaction.atomic():
        Event.objects.filter(pk=event.pk).update(meeting_link_send_at=now, updated_at=now)
        event.meeting_link_send_at, event.updated_at = now, now
        _after_commit_bump(event)
    return True


def _time_change_pending(event: Event, *, now: datetime) -> bool:
    """True while the last change of date or time has not been announced yet (the notices
    wait EVENT_CHANGE_NOTICE_DELAY_MINUTES after the last edit): registrants still know the
    time from before it."""
    delay = timedelta(minutes=settings.EVENT_CHANGE_NOTICE_DELAY_MINUTES)
    return bool(
        event.time_changed_at
        and event.changed_at
        and event.changed_at > now - delay
        # ...and the time changed within the same burst of edits as the last one.
        and event.changed_at - event.time_changed_at < delay
    )


def save_event(*, event: Event, changed_fields: Iterable[str]) -> set[str]:
    """Save an organiser's edit; when a published event's time or meeting link changed, bump
    its sequence and announce `event_changed` in the same transaction.

    `changed_fields` are the names the form saw change; only those whose stored value really
    differs count. Returns the set of announced changes (empty when nothing was announced).
    """
    with transaction.atomic():
        changes = set(changed_fields) & ANNOUNCED_FIELDS
        stored: Event | None = None
        if event.pk and changes:
            stored = Event.objects.select_for_update().filter(pk=event.pk).first()
            if stored is None:
                changes = set()
            else:
                changes = {f for f in changes if getattr(stored, f) != getattr(event, f)}
        if event.status != Event.Status.PUBLISHED or not event.pk:
            changes = set()
        if changes:
            now = timezone.now()
            pending = _time_change_pending(event, now=now)
            if stored is not None and changes & TIME_FIELDS and not pending:
                event.previous_starts_at = stored.starts_at
                event.previous_ends_at = stored.ends_at
                event.previous_timezone = stored.timezone
            event.sequence += 1
            event.changed_at = now
            if changes & TIME_FIELDS:
                event.time_changed_at = now
        event.save()
        if changes:
            event_changed.send(sender=Event, event=event, changes=frozenset(changes))
        _after_commit_bump(event)
    return changes


def save_speaker(*, speaker: Speaker) -> Speaker:
    """Save a speaker's details. A speaker appears on the pages of every event whose agenda
    names them: those events are marked edited, so their cached pages are rendered again."""
    with transaction.atomic():
        speaker.save()
        event_ids = list(
            Event.objects.filter(agenda_items__speakers=speaker)
            .values_list("pk", flat=True)
            .distinct()
        )
        Event.objects.filter(pk__in=event_ids).update(updated_at=timezone.now())
        for event_id in event_ids:
            transaction.on_commit(functools.partial(event_cache.bump_event, event_id))
    return speaker
