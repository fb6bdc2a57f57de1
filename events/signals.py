"""Facts about an event that other apps act on. Sent only by events.services, inside the
transaction that made the change: a receiver that writes rows (the notifications outbox) writes
them in that same transaction, so the change and its messages commit or roll back together.
Receivers must not do slow work (no sending); enqueue with transaction.on_commit.

`event_changed` -- the start/end time, time zone or meeting link/details of a PUBLISHED event
changed (events.services.save_event, called by the admin after every edit).

    sender   the Event class
    event    the Event, saved; `event.sequence` already bumped (use it as the message version
             and the .ics SEQUENCE) and `event.changed_at` set to now
    changes  frozenset of the field names that changed, a subset of
             {"starts_at", "ends_at", "timezone", "meeting_url", "meeting_details"}

`event_cancelled` -- a PUBLISHED event was cancelled (events.services.cancel_event). Sent once:
cancelling again does nothing. Drafts cancelled are not announced (nobody registered).

    sender   the Event class
    event    the Event, saved with status "cancelled" and `sequence` bumped (so a METHOD:CANCEL
             .ics replaces the calendar entry)
"""

from django.dispatch import Signal

event_changed = Signal()
event_cancelled = Signal()
