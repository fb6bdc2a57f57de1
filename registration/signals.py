"""The one seam from registration up to notifications.

`registration_changed` is sent by registration.services inside their transaction whenever a
registration is created or changes status. Receivers (notifications) write their outbox rows
in that same transaction, so a registration never exists without its message queued.

    sender       the Registration class
    registration the Registration, already saved
    old_status   the status before, or None for a new registration
    new_status   the status now
    resend       True when the person asked for their confirmation again (duplicate sign-up)
"""

from django.dispatch import Signal

registration_changed = Signal()
