"""The one seam from registration up to notifications.

`registration_changed` is sent by registration.services inside their transaction whenever a
registration is created or changes status, and when a confirmation is asked for again.
Receivers (notifications) write their outbox rows in that same transaction, so a
registration never exists without its message queued, and a rolled-back change queues
nothing.

    sender       the Registration class
    registration the Registration, already saved (its event is loaded: registration.event)
    old_status   the status before, or None for a new registration
    new_status   the status now (a Registration.Status value)
    resend       True when the confirmation (or the invitation) is asked for again: a
                 duplicate sign-up (already rate limited per registration by register()) or
                 an organiser's "resend"; then old_status == new_status (except when a
                 withdrawn invitation is restored)
    message      the organiser's optional note to the person (reject), else ""
    quiet        True when the organiser added the person and asked for no confirmation
                 (registration.access.add_registrants): nothing to send for this fact

The facts a receiver sees, by service:

    register()             None -> confirmed | held | waitlisted | pending_approval
                           (a duplicate sign-up: status -> same status, resend=True)
    approve()              pending_approval | rejected -> confirmed | waitlisted
    reject()               pending_approval | waitlisted | confirmed -> rejected, message
    promote()              waitlisted -> confirmed (also through promote_next())
    cancel()               any active status -> cancelled (then promote_next() may follow)
    resend_confirmation()  status -> same status, resend=True
    add_registrants()      None -> confirmed | waitlisted (quiet=True: tell nobody)
    verify_email()         held -> confirmed; waitlisted -> confirmed | (same, resend=True);
                           cancelled (expired hold) -> confirmed | waitlisted
    expire_holds()         held | waitlisted -> cancelled (an unverified address: not told)
    invite()               None -> invited; revoked -> invited (same, resend=True: the
                           invitation's next version)
    resend_invitation()    invited -> invited, resend=True
    revoke_invitation()    invited -> revoked (quiet=True: nobody is told)
    accept_invitation()    invited -> confirmed | waitlisted | pending_approval
    add_registrants()      also invited -> confirmed | waitlisted (quiet unless notified)

A receiver must not raise for a fact it does not act on. It needs no raw manage-link token:
the email builder calls registration.services.issue_manage_token() at send time.
"""

from django.dispatch import Signal

registration_changed = Signal()
