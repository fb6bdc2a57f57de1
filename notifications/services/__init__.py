"""The outbox: what to send to whom, and sending it.

Every email goes through a Delivery row. Rows are inserted in the transaction of the change
they announce and enqueued after it commits; the send task claims its rows, so a message
enqueued twice, a task run twice or a scan racing a task still sends each row once. The
database is the source of truth: Redis only carries lists of row ids.

    queueing   what is due for whom: rows for a registration's change, an event's
               cancellation, the meeting link; enqueueing row ids for the send task
    changes    notices of an event's change of time or link, once the edits have settled
    messages   organisers' messages: due times, audiences, catch-up, send now, cancel
    scan       the every-minute beat job: due meeting links and messages, settled changes,
               lost sends
    sending    claim, build, hand to the provider, record (and give back on trouble)
    pipeline   the one helper thread that talks to the provider while the next is built
    errors     what a provider's error means (Failure.TRANSIENT / PERMANENT), backoff
    bounces    the provider's bounce reports

Callers import from here; the modules are the place to read.
"""

from notifications.services.bounces import record_bounce
from notifications.services.changes import (
    count_change_notice_recipients,
    queue_change_notices,
    queue_time_notices,
)
from notifications.services.errors import Failure, classify, describe, retry_delay
from notifications.services.messages import (
    cancel_message,
    catch_up_messages,
    count_message_recipients,
    message_progress,
    message_recipients,
    queue_due_messages,
    queue_message,
    schedule_message,
    send_message_now,
)
from notifications.services.queueing import (
    batch_size,
    enqueue,
    enqueue_on_commit,
    meeting_link_due,
    queue_delivery,
    queue_event_cancelled,
    queue_for_registration_change,
    queue_meeting_links,
    resend_meeting_link,
    send_meeting_links_now,
)
from notifications.services.scan import (
    due_meeting_link_events,
    queue_due_change_notices,
    queue_due_meeting_links,
    requeue_stuck,
    scan,
)
from notifications.services.sending import claim, not_applicable, send_deliveries

__all__ = [
    "Failure",
    "batch_size",
    "cancel_message",
    "catch_up_messages",
    "claim",
    "classify",
    "count_change_notice_recipients",
    "count_message_recipients",
    "describe",
    "due_meeting_link_events",
    "enqueue",
    "enqueue_on_commit",
    "meeting_link_due",
    "message_progress",
    "message_recipients",
    "not_applicable",
    "queue_change_notices",
    "queue_delivery",
    "queue_due_change_notices",
    "queue_due_meeting_links",
    "queue_due_messages",
    "queue_event_cancelled",
    "queue_for_registration_change",
    "queue_meeting_links",
    "queue_message",
    "queue_time_notices",
    "record_bounce",
    "requeue_stuck",
    "resend_meeting_link",
    "retry_delay",
    "scan",
    "schedule_message",
    "send_deliveries",
    "send_meeting_links_now",
    "send_message_now",
]
