"""Facts about an event that other apps act on, sent by events.services inside the transaction.

`event_changed(event, changes)`: the start/end time or the meeting link/details of a
published event changed; `changes` is the set of field names. `event.sequence` is already
bumped.

`event_cancelled(event)`: a published event was cancelled.
"""

from django.dispatch import Signal

event_changed = Signal()
event_cancelled = Signal()
