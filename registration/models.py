import hashlib
import secrets

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower, Trim
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from events.languages import UN_LANGUAGES
from events.models import Event, Translatable


def hash_token(token):
    """SHA-256 is enough here: the token is 256 random bits, not a password to stretch."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token():
    """A manage-link token (256 bits) and the hash that is all we store of it."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


# What a registrant tells about themselves besides their name and email address, in the order
# the sign-up form asks: the form, the manage page, the admin and the services use this list.
PROFILE_FIELDS = (
    "organisation",
    "job_title",
    "country",
    "affiliation",
    "preferred_language",
    "interpretation_language",
    "timezone",
)


class Registration(models.Model):
    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        # A seat held for an address not yet verified (events in "verify_email" mode): it
        # becomes confirmed when the emailed link is clicked, or is released when it expires.
        HELD = "held", _("Seat held, email not verified")
        WAITLISTED = "waitlisted", _("Waiting list")
        PENDING_APPROVAL = "pending_approval", _("Awaiting approval")
        REJECTED = "rejected", _("Rejected")
        CANCELLED = "cancelled", pgettext_lazy("registration status", "Cancelled")
        # Invitation-only events (registration/invitations.py): the organiser invited the
        # address, which has not registered yet. The row keeps the address (a second
        # invitation finds it) and becomes the registration when the person accepts.
        INVITED = "invited", _("Invited, not registered yet")
        # The organiser withdrew an invitation nobody had accepted: its link says so. The row
        # keeps the address, so the person cannot register another way nor be re-added by
        # mistake; inviting the address again restores the invitation.
        REVOKED = "revoked", _("Invitation withdrawn")

    class Affiliation(models.TextChoices):
        MEMBER_STATE = "member_state", _("Member State")
        UN_ENTITY = "un_entity", _("UN entity")
        CSO_NGO = "cso_ngo", _("Civil society / NGO")
        ACADEMIA = "academia", _("Academia")
        PRIVATE_SECTOR = "private_sector", _("Private sector")
        MEDIA = "media", _("Media")
        OTHER = "other", _("Other")

    # Statuses of people who asked to come; cancelled ones free the (event, email) pair, and
    # invited and revoked ones are not registrations (yet): no seat, no message about the event.
    ACTIVE = [
        Status.CONFIRMED,
        Status.HELD,
        Status.WAITLISTED,
        Status.PENDING_APPROVAL,
        Status.REJECTED,
    ]

    # Rows that are no registration (now): left out of the organisers' charts and counts.
    NOT_REGISTERED = [Status.CANCELLED, Status.INVITED, Status.REVOKED]
    # An invitation's own statuses (registration/invitations.py).
    INVITATION_STATUSES = (Status.INVITED, Status.REVOKED)

    event = models.ForeignKey(
        Event, on_delete=models.PROTECT, related_name="registrations", verbose_name=_("event")
    )
    # Always registration.addresses.canonical_email(): one spelling per mailbox.
    email = models.EmailField(_("email"), max_length=254)
    name = models.CharField(_("full name"), max_length=200)
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    job_title = models.CharField(_("job title"), max_length=200, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    affiliation = models.CharField(
        _("affiliation"), max_length=20, choices=Affiliation, default=Affiliation.OTHER
    )
    preferred_language = models.CharField(
        _("language for emails"), max_length=10, choices=UN_LANGUAGES, default="en"
    )
    interpretation_language = models.CharField(
        _("listening language"), max_length=10, choices=UN_LANGUAGES, blank=True
    )
    timezone = models.CharField(_("time zone"), max_length=64, blank=True)
    # None only while invited: the person consents on registering.
    consent_at = models.DateTimeField(
        _("consented to the privacy notice at"), null=True, blank=True
    )
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.CONFIRMED)
    email_bounced_at = models.DateTimeField(_("email bounced at"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    # Set while the address awaits verification (held, or waitlisted unverified): the scan
    # cancels the registration at this time unless the link was clicked. Kept after an expiry.
    hold_expires_at = models.DateTimeField(_("verify email by"), null=True, blank=True)
    email_verified_at = models.DateTimeField(_("email verified at"), null=True, blank=True)
    # Set once for a registration that began as an invitation (registration/invitations.py).
    invited_at = models.DateTimeField(_("invited at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("invitation withdrawn at"), null=True, blank=True)
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True)
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # {question key: answer} for the event's Questions (registration/questions.py): written
    # with the row itself, so a sign-up costs the same statements however many questions.
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    # From the meeting's participant report (Zoom, Teams, Webex): None until one is imported
    # for the event; then True/False for every registrant, and the minutes they were present.
    attended = models.BooleanField(_("attended"), null=True, blank=True)
    minutes_attended = models.PositiveIntegerField(_("minutes present"), null=True, blank=True)

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        ordering = ["event", "created_at", "pk"]
        constraints = [
            # The invariant a form check alone cannot keep: two requests can race.
            models.UniqueConstraint(
                fields=["event", "email"],
                condition=~Q(status="cancelled"),
                name="registration_one_active_per_event_email",
            ),
            models.CheckConstraint(
                condition=Q(email=Lower(Trim("email"))),
                name="registration_email_normalised",
            ),
        ]
        indexes = [
            # Seat counts, waiting-list order and the meeting-link scan.
            models.Index(fields=["event", "status", "created_at"], name="registration_queue_idx"),
            # The scan's expired verification holds: only the few rows awaiting a click.
            models.Index(
                fields=["hold_expires_at"],
                condition=Q(hold_expires_at__isnull=False, email_verified_at__isnull=True)
                & Q(status__in=["held", "waitlisted"]),
                name="registration_hold_expiry_idx",
            ),
        ]

    def __str__(self):
        return f"{self.name} <{self.email}>"


class ManageToken(models.Model):
    """One personal manage link. Every email carries a fresh one (the worker that sends it
    cannot read an older one back: only hashes are stored), and older links keep working."""

    registration = models.ForeignKey(
        Registration,
        on_delete=models.CASCADE,
        related_name="manage_tokens",
        verbose_name=_("registration"),
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("manage link")
        verbose_name_plural = _("manage links")
        ordering = ["registration", "created_at", "pk"]

    def __str__(self):
        return f"{self.registration_id}: {self.token_hash[:8]}…"


class Question(Translatable):
    """A question an organiser asks on one event's registration form (registration/questions.py
    builds the form fields, checks definitions and formats answers).

    Answers live in Registration.answers under `key`, which never changes once people have
    answered; choices keep their keys when their labels change. A removed question is only
    hidden (`active=False`): its answers stay in the export until the personal-data purge.
    """

    class Type(models.TextChoices):
        TEXT = "text", _("Short text")
        LONG_TEXT = "long_text", _("Long text")
        CHOICE = "choice", _("Single choice (radio buttons)")
        SELECT = "select", _("Single choice (drop-down list)")
        MULTIPLE = "multiple", _("Multiple choice")
        YES_NO = "yes_no", _("Yes / no")
        NUMBER = "number", _("Number")
        DATE = "date", _("Date")
        COUNTRY = "country", _("Country")
        EMAIL = "email", _("Email address")
        URL = "url", _("Web address (URL)")

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="questions", verbose_name=_("event")
    )
    key = models.SlugField(
        _("key"),
        max_length=40,
        help_text=_("Stable name of the answers (letters, digits, _ and -); never reuse one."),
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    type = models.CharField(_("type"), max_length=20, choices=Type, default=Type.TEXT)
    label = models.CharField(_("question (English)"), max_length=300)
    help_text = models.CharField(_("help text (English)"), max_length=500, blank=True)
    # [{"key": "member_state", "label": {"en": "Member State", "fr": "État membre"}}, ...]
    choices = models.JSONField(_("choices"), default=list, blank=True)
    required = models.BooleanField(_("required"), default=False)
    show_if_question = models.CharField(
        _("show only if question"),
        max_length=40,
        blank=True,
        help_text=_("Key of a single-choice question on this form, or affiliation."),
    )
    show_if_equals = models.CharField(_("has the answer (key)"), max_length=40, blank=True)
    locked = models.BooleanField(
        _("locked after registration"),
        default=False,
        help_text=_("Registrants cannot change this answer from their personal link."),
    )
    personal = models.BooleanField(
        _("personal"),
        default=False,
        help_text=_("Erased with names and emails when personal data is purged."),
    )
    active = models.BooleanField(
        _("shown"),
        default=True,
        help_text=_("Untick to remove the question; its answers stay in the export until purge."),
    )

    translatable_fields = ("label", "help_text")

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["event", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["event", "key"], name="question_unique_key_per_event"),
        ]

    def __str__(self):
        return self.label

    def save(self, *args, **kwargs):
        from registration.questions import forget_questions

        super().save(*args, **kwargs)
        forget_questions(self.event_id)

    def delete(self, *args, **kwargs):
        from registration.questions import forget_questions

        event_id = self.event_id
        result = super().delete(*args, **kwargs)
        forget_questions(event_id)
        return result
