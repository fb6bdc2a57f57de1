from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from events.models import Event, Translatable
from registration.models import Registration


class Delivery(models.Model):
    """The outbox: one row per (registration, kind, version). Every email goes through it."""

    class Kind(models.TextChoices):
        CONFIRMATION = "confirmation", _("Registration confirmation")
        # The link that proves the address (events in "verify_email" mode).
        VERIFY_EMAIL = "verify_email", _("Email verification")
        # The personal link that registers an invitee (invitation-only events).
        INVITATION = "invitation", _("Invitation")
        MEETING_LINK = "meeting_link", _("Meeting link")
        WAITLIST_PROMOTED = "waitlist_promoted", _("Moved from waiting list")
        APPROVED = "approved", _("Registration approved")
        REJECTED = "rejected", _("Registration declined")
        CANCELLED = "cancelled", _("Registration cancelled")
        EVENT_CHANGED = "event_changed", _("Event changed")
        # The new time, for registrants who do not have the meeting link yet.
        TIME_CHANGED = "time_changed", _("New time")
        EVENT_CANCELLED = "event_cancelled", _("Event cancelled")
        # An organiser's message (Message); the row's version is the Message's primary key.
        MESSAGE = "message", _("Organiser's message")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        BOUNCED = "bounced", _("Bounced")
        # Queued, then no longer applicable when its turn came (the registration was
        # cancelled, the address bounced, the event ended): nothing was sent.
        SKIPPED = "skipped", _("Not sent (no longer applies)")

    # Every status change rewrites each index of the row, three times per message, so no
    # index here is redundant: delivery_event_kind_idx leads with the event and the unique
    # constraint with the registration, which is all the lookups by either need.
    event = models.ForeignKey(
        Event,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("event"),
        db_index=False,
    )
    registration = models.ForeignKey(
        Registration,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("registration"),
        db_index=False,
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind)
    # Distinguishes repeated messages of one kind: the event's sequence for event_changed,
    # a counter for confirmations re-sent on request, the Message's id for kind "message".
    version = models.PositiveIntegerField(_("version"), default=0)
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.PENDING)
    # Facts fixed when the message was queued, e.g. the registration status a confirmation
    # reports or the organiser's message with a rejection; everything else is read at send time.
    context = models.JSONField(_("context"), default=dict, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    esp_message_id = models.CharField(_("provider message id"), max_length=200, blank=True)
    # A worker that claims a row owns it until this time; past it the scan re-enqueues it.
    lease_expires_at = models.DateTimeField(_("lease expires at"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "kind", "version"], name="delivery_once_per_version"
            )
        ]
        indexes = [
            # The scan's "what is left to send" query only ever looks at unfinished rows.
            models.Index(
                fields=["status", "lease_expires_at"],
                name="delivery_unfinished_idx",
                condition=Q(status__in=["pending", "sending"]),
            ),
            models.Index(fields=["event", "kind", "status"], name="delivery_event_kind_idx"),
            # Sign-up messages waiting for their task, which a smaller batch takes along
            # (notifications.services.sending.claim): a handful of rows, whatever the outbox.
            models.Index(
                fields=["id"],
                name="delivery_signup_waiting_idx",
                condition=Q(
                    status="pending",
                    attempts=0,
                    kind__in=["confirmation", "verify_email"],
                ),
            ),
            # Bounce reports name the provider's message id; rows not sent have none.
            models.Index(
                fields=["esp_message_id"],
                name="delivery_esp_message_idx",
                condition=~Q(esp_message_id=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.registration.email}"


class Message(Translatable):
    """An organiser's message to some of an event's registrants, sent once to each of them
    through the outbox (Delivery kind "message", version = this row's id).

    When: `now` (sent_at is set when the organiser sends it), `at` a fixed time, or
    `before_start` / `after_end` the event by `offset`: relative times are computed from the
    event whenever the scan looks, so they follow the event when it moves. To whom: the
    `audience` filters (notifications.services.messages.AUDIENCE_KEYS). Subject and body are
    read when each email is built, so an edit after sending began reaches only those not
    yet sent."""

    class Send(models.TextChoices):
        NOW = "now", _("Now (an announcement)")
        AT = "at", _("At a date and time")
        BEFORE_START = "before_start", _("Before the start")
        AFTER_END = "after_end", _("After the end")

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        CANCELLED = "cancelled", pgettext_lazy("message state", "Cancelled")

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="messages", verbose_name=_("event")
    )
    key = models.SlugField(
        _("key"),
        max_length=40,
        help_text=_("Stable name of the message in the event's JSON file, e.g. reminder-1h."),
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"), help_text=_("Markdown, as in the event's description."))
    send = models.CharField(_("send"), max_length=20, choices=Send, default=Send.BEFORE_START)
    offset = models.DurationField(
        _("offset"),
        null=True,
        blank=True,
        help_text=_("Before the start or after the end, e.g. 01:00:00 for one hour."),
    )
    send_at = models.DateTimeField(_("send at"), null=True, blank=True)
    audience = models.JSONField(_("audience"), default=dict, blank=True)
    include_meeting_link = models.BooleanField(_("include the meeting link"), default=False)
    state = models.CharField(_("state"), max_length=20, choices=State, default=State.DRAFT)
    started_at = models.DateTimeField(_("sending started at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    translatable_fields = ("subject", "body")

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["event", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["event", "key"], name="message_key_once_per_event")
        ]
        # The scan looks at the messages that may still have someone to send to.
        indexes = [
            models.Index(
                fields=["state"],
                name="message_open_idx",
                condition=Q(state__in=["scheduled", "sending"]),
            )
        ]

    def __str__(self) -> str:
        return f"{self.event.slug}: {self.key}"

    def clean(self) -> None:
        from notifications.message_rules import message_errors

        errors = message_errors(self)
        if errors:
            raise ValidationError(errors)
