import zoneinfo
from datetime import timedelta
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from events import rules
from events.documents import validate_document
from events.languages import UN_LANGUAGE_CODES, UN_LANGUAGES
from events.zones import known_timezone


def validate_timezone(value):
    if not known_timezone(value):
        raise ValidationError(
            _("%(value)s is not a known IANA time zone (e.g. America/New_York)."),
            params={"value": value},
        )


def validate_languages(value):
    if not isinstance(value, list) or any(code not in UN_LANGUAGE_CODES for code in value):
        raise ValidationError(
            _("Choose from the six UN languages: %(codes)s."),
            params={"codes": ", ".join(UN_LANGUAGE_CODES)},
        )


def normalise_access_code(value):
    return value.strip().upper() if isinstance(value, str) else value


def validate_access_code(value):
    if not normalise_access_code(value) or any(char.isspace() for char in value.strip()):
        raise ValidationError(_("Use letters, digits and dashes, without spaces."))


# /events/past/ is the list of past events, not an event.
RESERVED_SLUGS = {"past"}


class Translatable(models.Model):
    """Organiser-written text in the six UN languages.

    English lives in the ordinary fields (required); other languages in one JSON column,
    {"fr": {"title": "..."}, ...}. One column instead of a translation table keeps every page
    at a constant number of queries and the admin a single form; the price, no database-level
    search in other languages, does not matter for a handful of events.
    """

    translations = models.JSONField(_("translations"), default=dict, blank=True)
    translatable_fields: tuple[str, ...] = ()

    class Meta:
        abstract = True

    def translated(self, field, language=None):
        return self.translated_with_language(field, language)[0]

    def translated_with_language(self, field, language=None):
        """(text, language code of that text): the visitor's language where the organiser gave
        it, else the English text with "en", so a page can mark the fallback (WCAG 3.1.2)."""
        return translated_value(self.translations, field, getattr(self, field), language)


def translated_value(translations, field, english, language=None):
    """Translatable's lookup on plain values (rows read with .values())."""
    language = language or get_language() or "en"
    text = (translations or {}).get(language, {}).get(field)
    return (text, language) if text else (english, "en")


class Event(Translatable):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        CANCELLED = "cancelled", _("Cancelled")

    class Format(models.TextChoices):
        VIRTUAL = "virtual", _("Virtual")
        IN_PERSON = "in_person", _("In person")
        HYBRID = "hybrid", _("Hybrid")

    class Approval(models.TextChoices):
        AUTOMATIC = "automatic", _("Automatic")
        ORGANISER = "organiser", _("Organiser approves each registration")

    class RegistrationMode(models.TextChoices):
        """Who may take a seat (registration.availability and registration.services act on it)."""

        OPEN = "open", _("Open: anyone with an email address")
        VERIFY_EMAIL = (
            "verify_email",
            _("Open, email verified: a seat is held until the link is clicked"),
        )
        CODE = "code", _("With an access code")
        # Only people the organisers invite (registration/invitations.py), each through the
        # personal link of their invitation email; the public form says "by invitation".
        INVITATION = "invitation", _("By invitation only: a personal link for each invitee")

    translatable_fields = ("title", "summary", "description", "expected_outcomes")

    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    title = models.CharField(_("title"), max_length=300)
    summary = models.TextField(_("summary"), blank=True)
    description = models.TextField(_("description"), blank=True, help_text=_("Markdown."))
    expected_outcomes = models.TextField(
        _("expected outcomes"), blank=True, help_text=_("One outcome per line.")
    )
    organiser = models.CharField(_("organiser"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)

    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    timezone = models.CharField(
        _("time zone"),
        max_length=64,
        default="America/New_York",
        validators=[validate_timezone],
        help_text=_("IANA name, e.g. America/New_York. Times are entered and shown in this zone."),
    )
    format = models.CharField(_("format"), max_length=20, choices=Format, default=Format.VIRTUAL)
    venue = models.CharField(_("venue"), max_length=300, blank=True)

    # Secret: only staff and confirmed registrants (by email, at send time) ever see these.
    meeting_url = models.URLField(_("meeting URL"), max_length=500, blank=True)
    meeting_details = models.TextField(
        _("meeting details"), blank=True, help_text=_("Meeting ID, passcode, dial-in numbers.")
    )

    interpretation_languages = models.JSONField(
        _("interpretation languages"), default=list, blank=True, validators=[validate_languages]
    )
    registration_opens_at = models.DateTimeField(_("registration opens"), null=True, blank=True)
    registration_closes_at = models.DateTimeField(
        _("registration closes"), null=True, blank=True, help_text=_("Blank: open until start.")
    )
    capacity = models.PositiveIntegerField(
        _("capacity"), null=True, blank=True, help_text=_("Blank: unlimited.")
    )
    waitlist_enabled = models.BooleanField(_("waiting list"), default=True)
    approval = models.CharField(
        _("approval"), max_length=20, choices=Approval, default=Approval.AUTOMATIC
    )
    # Existing events kept "open" (migration 0004); the admin proposes "verify_email" for new
    # events, and an imported event with a capacity and no "registration_mode" gets it.
    registration_mode = models.CharField(
        _("registration mode"),
        max_length=20,
        choices=RegistrationMode,
        default=RegistrationMode.OPEN,
    )
    verification_hold_minutes = models.PositiveIntegerField(
        _("verification hold (minutes)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_(
            "How long a seat waits for the email link to be clicked. Blank: the site default."
        ),
    )
    # Set by site administrators only (the admin makes it read-only for everyone else): the
    # cost falls on every registrant, so it is for an event under attack. The site-wide
    # switch is settings.REGISTRATION_PROOF_OF_WORK (registration/proof_of_work.py).
    proof_of_work = models.BooleanField(
        _("proof of work"),
        default=False,
        help_text=_(
            "Under attack: the registration form asks the browser to solve a short "
            "calculation (about a second) before it accepts a sign-up. Needs JavaScript."
        ),
    )
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.DRAFT)
    meeting_link_send_at = models.DateTimeField(
        _("send meeting link at"),
        null=True,
        blank=True,
        help_text=_("Blank: 24 hours before the start."),
    )
    # Bumped when the time or the meeting link changes: the .ics SEQUENCE and the version of
    # the event_changed message.
    sequence = models.PositiveIntegerField(_("calendar sequence"), default=0, editable=False)
    # When the time or meeting link last changed (the sequence bump): notices of a change wait
    # a few minutes after the last one, so an organiser still editing sends one, not five.
    changed_at = models.DateTimeField(_("last changed"), null=True, blank=True, editable=False)
    # When the date or time last changed: registrants still waiting for the meeting link are
    # told the new time too (those who have the link hear of any change).
    time_changed_at = models.DateTimeField(
        _("time last changed"), null=True, blank=True, editable=False
    )
    # The date and time registrants were told before the last change of either, so that
    # the notice can say what changed ("was 12:30-14:00, now 13:00-14:30"); a burst of edits
    # keeps the time from before the burst.
    previous_starts_at = models.DateTimeField(
        _("previous start"), null=True, blank=True, editable=False
    )
    previous_ends_at = models.DateTimeField(
        _("previous end"), null=True, blank=True, editable=False
    )
    previous_timezone = models.CharField(
        _("previous time zone"), max_length=64, blank=True, editable=False
    )

    # Who organises it (co-organisers: several teams); their members see its registrations.
    teams: "models.ManyToManyField[Team, Any]" = models.ManyToManyField(
        "Team", related_name="events", blank=True, verbose_name=_("organising teams")
    )

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="event_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(capacity__isnull=True) | Q(capacity__gte=0),
                name="event_capacity_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(registration_closes_at__isnull=True)
                | Q(registration_opens_at__isnull=True)
                | Q(registration_closes_at__gt=F("registration_opens_at")),
                name="event_registration_closes_after_opens",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "starts_at"], name="event_status_start_idx"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("events:detail", kwargs={"slug": self.slug})

    def clean(self):
        if self.slug in RESERVED_SLUGS:
            raise ValidationError({"slug": _("This address is taken by the site; choose another.")})
        errors = rules.event_errors(self)
        if errors:
            raise ValidationError(errors)

    @property
    def tz(self):
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def local_starts_at(self):
        return timezone.localtime(self.starts_at, self.tz)

    @property
    def local_ends_at(self):
        return timezone.localtime(self.ends_at, self.tz)

    @property
    def effective_meeting_link_send_at(self):
        if self.meeting_link_send_at:
            return self.meeting_link_send_at
        return self.starts_at - timedelta(hours=settings.MEETING_LINK_LEAD_HOURS)

    @property
    def effective_verification_hold(self):
        """How long a verification hold keeps its seat (registration.services)."""
        minutes = self.verification_hold_minutes or settings.REGISTRATION_HOLD_MINUTES
        return timedelta(minutes=minutes)

    @property
    def effective_registration_closes_at(self):
        return self.registration_closes_at or self.starts_at

    def interpretation_language_names(self):
        names = dict(UN_LANGUAGES)
        return [names[code] for code in self.interpretation_languages if code in names]


class Speaker(models.Model):
    name = models.CharField(_("name"), max_length=200)
    title = models.CharField(_("title or role"), max_length=200, blank=True)
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    bio = models.TextField(_("short biography"), blank=True)

    class Meta:
        verbose_name = _("speaker")
        verbose_name_plural = _("speakers")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["name", "organisation"], name="speaker_unique_name_organisation"
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.organisation})" if self.organisation else self.name


class AgendaItem(Translatable):
    translatable_fields = ("title", "description")

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="agenda_items", verbose_name=_("event")
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    speakers = models.ManyToManyField(
        Speaker, blank=True, related_name="agenda_items", verbose_name=_("speakers")
    )
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        ordering = ["event", "starts_at", "position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=F("starts_at")),
                name="agenda_item_ends_after_start",
            )
        ]

    def __str__(self):
        return self.title

    def clean(self):
        try:
            event = self.event
        except Event.DoesNotExist:  # an inline form's item before its event is known
            return
        errors = rules.agenda_item_errors(self, event=event)
        if errors:
            raise ValidationError(errors)


def document_upload_to(instance, filename):
    return f"documents/{instance.event.slug}/{filename}"


class Document(models.Model):
    class Kind(models.TextChoices):
        CONCEPT_NOTE = "concept_note", _("Concept note")
        AGENDA = "agenda", _("Agenda")
        OTHER = "other", _("Other")

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="documents", verbose_name=_("event")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind, default=Kind.OTHER)
    title = models.CharField(_("title"), max_length=300)
    language = models.CharField(_("language"), max_length=10, choices=UN_LANGUAGES, default="en")
    file = models.FileField(_("file"), upload_to=document_upload_to, max_length=300)
    content_type = models.CharField(_("content type"), max_length=100, editable=False)
    size = models.PositiveBigIntegerField(_("size in bytes"), default=0, editable=False)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["event", "position", "pk"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("events:document", kwargs={"slug": self.event.slug, "pk": self.pk})

    def clean(self):
        # Only a new upload is checked: a stored file was checked when it came in.
        if self.file and not getattr(self.file, "_committed", True):
            try:
                self.content_type = validate_document(self.file)
            except ValidationError as error:
                raise ValidationError({"file": error}) from None
            self.size = self.file.size

    @property
    def download_name(self):
        extension = PurePath(self.file.name).suffix.lower()
        return f"{slugify(self.title) or 'document'}{extension}"


class Team(models.Model):
    """An organising entity (a UN office, a permanent mission, an NGO). Its members see and
    manage its events and their registrations; nobody else but site administrators does."""

    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="Membership",
        related_name="organising_teams",
        verbose_name=_("members"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name", "pk"]

    def __str__(self):
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        MANAGER = "manager", _("Manager")
        VIEWER = "viewer", _("Viewer")

    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("team")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("person"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role, default=Role.MANAGER)
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        verbose_name = _("team member")
        verbose_name_plural = _("team members")
        ordering = ["team", "user__email", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="membership_one_per_team"),
            models.CheckConstraint(
                condition=Q(role__in=["manager", "viewer"]), name="membership_role_known"
            ),
        ]

    def __str__(self):
        return f"{self.user} ({self.get_role_display()}, {self.team})"


class AuditEntry(models.Model):
    """Who did what with an event's registrants, and when. Kept as long as the registrations
    (purge_personal_data removes both)."""

    class Action(models.TextChoices):
        EXPORTED = "exported", _("Exported the registration list")
        VIEWED_REGISTRANT = "viewed_registrant", _("Viewed a registrant")
        SENT = "sent", _("Sent messages")
        RESENT = "resent", _("Resent messages")
        CHANGED_TIME_OR_LINK = "changed", _("Changed the time or the meeting link")
        IMPORTED_ATTENDANCE = "imported_attendance", _("Imported an attendance report")

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="audit_entries", verbose_name=_("event")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    # The name at the time: the entry still says who after the account is gone.
    actor = models.CharField(_("who"), max_length=254)
    action = models.CharField(_("what"), max_length=30, choices=Action)
    detail = models.CharField(_("detail"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("date and time"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["event", "-created_at"], name="audit_event_time_idx")]

    def __str__(self):
        return f"{self.actor}: {self.get_action_display()}"


class AccessCode(models.Model):
    """A code that lets people register for an event in "code" mode, a limited number of
    times or without limit. registration.services counts each use under the event's lock."""

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="access_codes", verbose_name=_("event")
    )
    # Compared without regard to case or surrounding spaces (codes are read out and typed).
    code = models.CharField(_("code"), max_length=64, validators=[validate_access_code])
    max_uses = models.PositiveIntegerField(
        _("maximum uses"), null=True, blank=True, help_text=_("Blank: unlimited.")
    )
    uses = models.PositiveIntegerField(_("uses"), default=0, editable=False)

    class Meta:
        verbose_name = _("access code")
        verbose_name_plural = _("access codes")
        ordering = ["event", "code", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "code"], name="events_access_code_unique_per_event"
            ),
            models.CheckConstraint(
                condition=Q(max_uses__isnull=True) | Q(uses__lte=F("max_uses")),
                name="events_access_code_uses_within_limit",
            ),
        ]

    def __str__(self):
        return self.code

    def save(self, *args, **kwargs):
        self.code = normalise_access_code(self.code)
        super().save(*args, **kwargs)
