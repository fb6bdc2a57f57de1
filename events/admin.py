"""The organisers' admin for events, agenda items, speakers and documents.

Extension points for the apps above events (which events must not import):

- `event_admin_panels`: callables `(request, event) -> safe HTML`, each rendered as a panel
  on the event's change page (registration counts, meeting-link delivery status, ...).
  Append to it from your AppConfig.ready().
- `register_event_action(func)`: add an admin action (a normal `@admin.action` function
  `(modeladmin, request, queryset)`) to the event changelist.
- `change_notice_counters`: callables `(*, event) -> int`, called right after a change of a
  published event's time or meeting link was saved: how many people its notices will email
  (the organiser is told the sum).

Times: every date and time on the event form, agenda items included, is typed and shown in
the event's own time zone (the form says which), whatever the organiser's or the server's
zone. A zone changed in the same submission applies to the times of that submission.
"""

import copy
import difflib
import uuid
import zoneinfo
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import PurePath
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers, widgets
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Count, Q
from django.forms.models import ModelFormMetaclass
from django.http import HttpRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.formats import get_format
from django.utils.functional import lazy
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import capfirst, get_valid_filename
from django.utils.timesince import timeuntil
from django.utils.translation import check_for_language, gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.utils.translation.trans_real import parse_accept_lang_header

from events import cache as event_cache
from events import rules, services
from events.languages import UN_LANGUAGES
from events.models import AccessCode, AgendaItem, Document, Event, Speaker
from events.zones import canonical_zone, offered_zones, zone_names

event_admin_panels: list[Callable[[HttpRequest, Event], str]] = []
change_notice_counters: list[Callable[..., int]] = []
_extra_actions: list[Callable[..., Any]] = []


def register_event_action[F: Callable[..., Any]](func: F) -> F:
    """Add an admin action to the Event changelist; returns func, so it works as a decorator."""
    if func not in _extra_actions:
        _extra_actions.append(func)
    return func


# --- Translations of organiser text ---------------------------------------------------------
# English is in the model's own fields; the other five languages in Translatable.translations,
# edited through one optional field per (language, field), grouped per language.
OTHER_LANGUAGES = [(code, name) for code, name in UN_LANGUAGES if code != "en"]


def translation_field_name(field, code):
    return f"{field}_{code.replace('-', '_')}"


def _label(verbose_name, language_name):
    return gettext("%(field)s (%(language)s)") % {
        "field": str(verbose_name).capitalize(),
        "language": language_name,
    }


_lazy_label = lazy(_label, str)


def _translation_form_fields(model):
    fields = {}
    for code, language_name in OTHER_LANGUAGES:
        for name in model.translatable_fields:
            model_field = model._meta.get_field(name)
            is_text = model_field.get_internal_type() == "TextField"
            fields[translation_field_name(name, code)] = forms.CharField(
                label=_lazy_label(model_field.verbose_name, language_name),
                required=False,
                max_length=None if is_text else model_field.max_length,
                widget=(
                    forms.Textarea(attrs={"rows": 3, "lang": code})
                    if is_text
                    else forms.TextInput(attrs={"lang": code, "class": "vTextField"})
                ),
            )
    return fields


class TranslationsFormMixin:
    """Maps the per-language fields to and from the model's `translations` JSON."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stored = self.instance.translations or {}
        for code, _name in OTHER_LANGUAGES:
            for field in self._meta.model.translatable_fields:
                value = stored.get(code, {}).get(field, "")
                self.initial.setdefault(translation_field_name(field, code), value)

    def _collect_translations(self):
        result = {
            code: dict(texts)
            for code, texts in (self.instance.translations or {}).items()
            if isinstance(texts, dict)
        }
        for code, _name in OTHER_LANGUAGES:
            texts = result.setdefault(code, {})
            for field in self._meta.model.translatable_fields:
                value = (self.cleaned_data.get(translation_field_name(field, code)) or "").strip()
                if value:
                    texts[field] = value
                else:
                    texts.pop(field, None)
        return {code: texts for code, texts in result.items() if texts}

    def _post_clean(self):
        if hasattr(self, "cleaned_data"):
            self.instance.translations = self._collect_translations()
        super()._post_clean()


def translation_fieldsets(model, *, per_language=True):
    """The collapsed fieldsets of `model`'s translation fields: one per language, or one for
    all five (an inline, where each row repeats them)."""
    if per_language:
        groups = [(name, [code]) for code, name in OTHER_LANGUAGES]
    else:
        groups = [(_("Translations"), [code for code, _name in OTHER_LANGUAGES])]
    return [
        (
            title,
            {
                "classes": ["collapse"],
                "description": _("Optional. Where a field is blank the English text is shown."),
                "fields": [
                    translation_field_name(field, code)
                    for code in codes
                    for field in model.translatable_fields
                ],
            },
        )
        for title, codes in groups
    ]


# --- Times in the event's own zone ----------------------------------------------------------
EVENT_DATETIME_FIELDS = [
    "starts_at",
    "ends_at",
    "registration_opens_at",
    "registration_closes_at",
    "meeting_link_send_at",
]

# What a saved event's new time zone means for the times on the form (asked when it changes).
SAME_INSTANT = "instant"
SAME_CLOCK = "clock"


def _submitted_zone(request, obj):
    """The zone name a POST sets when it is a known one and differs from the stored one."""
    if obj is None or request.method != "POST":
        return None
    name = canonical_zone(request.POST.get("timezone"))
    return name if name and name != obj.timezone else None


def _zone_from_request(request, obj):
    """The zone the form's times are read in: the one being submitted, else the stored one.

    When a saved event moves to another zone and the organiser chose "same moment", the times
    are read in the old zone (the one they were shown in), so the event keeps its instant.
    """
    if request.method == "POST":
        name = canonical_zone(request.POST.get("timezone"))
        if name:
            if _submitted_zone(request, obj) and request.POST.get("zone_change") == SAME_INSTANT:
                return obj.timezone
            return name
    if obj is not None:
        return obj.timezone
    return Event._meta.get_field("timezone").default


def _zone_help(zone):
    # The span is what static/events/admin-event.js rewrites when the zone select changes.
    sentence = conditional_escape(gettext("In the event's time zone, %(zone)s."))
    span = format_html("<span data-event-zone>{}</span>", zone)
    return mark_safe(sentence % {"zone": span})  # noqa: S308 - both parts escaped above


class ZoneInput(forms.TextInput):
    """A text input with every IANA zone and its current UTC offset in a <datalist>, the
    common ones first: the browser filters it as the organiser types ("zurich", "+02")."""

    def __init__(self, attrs=None):
        super().__init__(
            {"list": "timezone-list", "autocomplete": "off", "class": "vTextField", **(attrs or {})}
        )

    def render(self, name, value, attrs=None, renderer=None):
        options = format_html_join(
            "",
            '<option value="{}" data-offset="{}">UTC{} {}</option>',
            ((zone, seconds, offset, zone) for zone, offset, seconds in offered_zones()),
        )
        return format_html(
            '{}<datalist id="timezone-list">{}</datalist>',
            super().render(name, value, attrs, renderer),
            options,
        )


# --- Dates typed the admin user's way ------------------------------------------------------
SAMPLE_DATE = date(2027, 6, 25)


def date_input_formats(request):
    """The date formats the admin user types: those of their browser's regional variant of
    the admin's language where Django has it (en-GB: 25/06/2027), else the language's; ISO
    (2027-06-25, what the calendar writes) always."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    formats = get_format("DATE_INPUT_FORMATS", lang=language)
    preferred = parse_accept_lang_header(request.headers.get("Accept-Language", ""))
    if preferred:
        code = preferred[0][0].lower()
        if (
            code != language
            and code.split("-")[0] == language.split("-")[0]
            and check_for_language(code)
        ):
            formats = get_format("DATE_INPUT_FORMATS", lang=code)
    return list(dict.fromkeys([*formats, "%Y-%m-%d"]))


def date_examples(formats):
    """'25/06/2027 or 2027-06-25': the date written in the first format and the shown one."""
    shown = get_format("DATE_INPUT_FORMATS")[0]
    examples = dict.fromkeys(SAMPLE_DATE.strftime(f) for f in (formats[0], shown))
    return gettext(" or ").join(examples)


def accept_date_formats(form, formats):
    """Let every date on `form` be typed in `formats`, and say how in its help and error."""
    if not formats:
        return
    examples = date_examples(formats)
    invalid = gettext("Enter a valid date, like %(examples)s.") % {"examples": examples}
    for field in form.fields.values():
        if isinstance(field, forms.SplitDateTimeField):
            field.error_messages = {**field.error_messages, "invalid_date": invalid}
            field = field.fields[0]
        if isinstance(field, forms.DateField):
            field.input_formats = formats
            field.error_messages = {**field.error_messages, "invalid": invalid}


def _date_help(formats):
    if not formats:
        return ""
    return gettext("Dates like %(examples)s.") % {"examples": date_examples(formats)}


# Made by the metaclass, as a class statement would, because the translation fields differ per
# model; `Any` for the type checker, which cannot see fields added at run time.
EventFormBase: Any = ModelFormMetaclass(
    "EventFormBase", (TranslationsFormMixin, forms.ModelForm), _translation_form_fields(Event)
)


def _agenda_inside(event):
    """True when every agenda item of the saved event lies within its start and end."""
    outside = Q(starts_at__lt=event.starts_at) | Q(starts_at__gte=event.ends_at)
    return not event.agenda_items.filter(outside | Q(ends_at__gt=event.ends_at)).exists()


class EventAdminForm(EventFormBase):
    """The event form. Its clean() leaves `agenda_shift` (a timedelta of wall-clock time) on
    the instance when the organiser moves the event with "Move the agenda with the event"
    ticked; the agenda item forms, validated after it, move their items by it."""

    # Six checkboxes instead of the model's raw JSON list.
    interpretation_languages = forms.MultipleChoiceField(
        label=_("interpretation languages"),
        choices=UN_LANGUAGES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    # Shown (and required) only when a saved event's zone changes: see get_fieldsets().
    zone_change = forms.ChoiceField(
        label=_("What the new time zone means"),
        required=False,
        widget=forms.RadioSelect,
        choices=[(SAME_INSTANT, _("Same moment")), (SAME_CLOCK, _("Same clock time"))],
    )
    move_agenda = forms.BooleanField(
        label=_("Move the agenda with the event"),
        required=False,
        help_text=_("When the start changes, every agenda item moves by the same amount."),
    )
    date_formats = None  # set per request by EventAdmin.get_form()

    class Meta:
        model = Event
        exclude = ["translations"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "timezone" in self.fields:
            self.fields["timezone"].widget = ZoneInput()
            self.fields["timezone"].help_text = _(
                "Type to search, e.g. Zurich for Geneva, or +02 for the offset."
            )
        if "status" in self.fields and self.instance.status != Event.Status.CANCELLED:
            # Cancelling emails every registrant: it goes through the "Cancel this event"
            # button or action, which ask first, never through a select saved in passing.
            self.fields["status"].choices = [
                choice
                for choice in self.fields["status"].choices
                if choice[0] != Event.Status.CANCELLED
            ]
        zone = timezone.get_current_timezone_name()
        for name in EVENT_DATETIME_FIELDS:
            if name in self.fields:
                parts = [
                    _date_help(self.date_formats),
                    _zone_help(zone),
                    self.fields[name].help_text,
                ]
                self.fields[name].help_text = format_html_join(
                    " ", "{}", ((part,) for part in parts if part)
                )
        accept_date_formats(self, self.date_formats)
        if self.instance.pk and not self.is_bound:
            self.fields["move_agenda"].initial = _agenda_inside(self.instance)

    def clean_timezone(self):
        """The zone as typed, or its IANA spelling ("europe/zurich"); else close names."""
        name = (self.cleaned_data.get("timezone") or "").strip()
        if canonical_zone(name):
            return canonical_zone(name)
        close = difflib.get_close_matches(name, sorted(zone_names()), n=3, cutoff=0.6)
        message = gettext("%(value)s is not a known IANA time zone (e.g. America/New_York).") % {
            "value": name
        }
        if close:
            message += " " + gettext("Did you mean %(zones)s?") % {"zones": ", ".join(close)}
        raise ValidationError(message)

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk:
            # self.instance still holds the stored values here (the form's go in afterwards).
            self._ask_about_zone_change(cleaned)
            self._shift_agenda(cleaned)
        return cleaned

    def _ask_about_zone_change(self, cleaned):
        old, new = self.instance.timezone, cleaned.get("timezone")
        if not new or new == old:
            return
        starts_at = cleaned.get("starts_at")
        if starts_at is not None:
            typed = timezone.make_naive(starts_at)
            old_tz, new_tz = zoneinfo.ZoneInfo(old), zoneinfo.ZoneInfo(new)
            moment = timezone.make_aware(typed, old_tz)
            clock = timezone.make_aware(typed, new_tz)
            self.fields["zone_change"].choices = [
                (
                    SAME_INSTANT,
                    gettext(
                        "Same moment: it stays at %(old)s in %(old_zone)s, which is %(new)s in "
                        "%(zone)s."
                    )
                    % {
                        "old": rules.format_moment(moment, old_tz),
                        "old_zone": old,
                        "new": rules.format_moment(moment, new_tz),
                        "zone": new,
                    },
                ),
                (
                    SAME_CLOCK,
                    gettext(
                        "Same clock time: it moves to %(new)s in %(zone)s, which is %(old)s in "
                        "%(old_zone)s."
                    )
                    % {
                        "new": rules.format_moment(clock, new_tz),
                        "zone": new,
                        "old": rules.format_moment(clock, old_tz),
                        "old_zone": old,
                    },
                ),
            ]
        if not cleaned.get("zone_change"):
            self.add_error(
                "zone_change",
                gettext(
                    "You changed the time zone from %(old)s to %(new)s. Should the event keep "
                    "its moment or its clock time? Each choice shows where it would be."
                )
                % {"old": old, "new": new},
            )

    def _shift_agenda(self, cleaned):
        starts_at = cleaned.get("starts_at")
        if starts_at is None or not cleaned.get("move_agenda"):
            return
        stored = timezone.make_naive(self.instance.starts_at, self.instance.tz)
        shift = timezone.make_naive(starts_at) - stored
        if shift:
            self.instance.agenda_shift = shift


AgendaFormBase: Any = ModelFormMetaclass(
    "AgendaFormBase", (TranslationsFormMixin, forms.ModelForm), _translation_form_fields(AgendaItem)
)


class AgendaItemForm(AgendaFormBase):
    """An agenda item's date once (blank: the event's) and its times, in the event's zone."""

    date = forms.DateField(
        label=capfirst(_("date")),
        required=False,
        widget=widgets.AdminDateWidget,
        help_text=_("Blank: the event's date."),
    )
    start_time = forms.TimeField(label=capfirst(_("starts at")), widget=widgets.AdminTimeWidget)
    end_time = forms.TimeField(
        label=capfirst(_("ends at")), required=False, widget=widgets.AdminTimeWidget
    )
    # The model's errors about its times belong to these fields here.
    FIELD_FOR_MODEL_ERROR = {"starts_at": "start_time", "ends_at": "end_time"}

    class Meta:
        model = AgendaItem
        exclude = ["translations", "starts_at", "ends_at"]

    def __init__(self, *args, event=None, date_formats=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.event = event
        self.moved = False
        item = self.instance
        if item.pk:
            local = timezone.localtime(item.starts_at)
            self.initial.update({"date": local.date(), "start_time": local.time()})
            if item.ends_at:
                self.initial["end_time"] = timezone.localtime(item.ends_at).time()
        elif event is not None and event.pk:
            self.initial["date"] = timezone.localtime(event.starts_at).date()
        zone = timezone.get_current_timezone_name()
        self.fields["date"].help_text = " ".join(
            filter(None, [_date_help(date_formats), str(self.fields["date"].help_text)])
        )
        self.fields["start_time"].help_text = _zone_help(zone)
        accept_date_formats(self, date_formats)

    def clean(self):
        cleaned = super().clean()
        start_time, end_time = cleaned.get("start_time"), cleaned.get("end_time")
        day = cleaned.get("date")
        if day is None and self.event is not None and self.event.starts_at is not None:
            day = timezone.localtime(self.event.starts_at).date()
        if day is None or start_time is None:
            return cleaned
        starts_at = datetime.combine(day, start_time)
        ends_at = datetime.combine(day, end_time) if end_time else None
        shift = getattr(self.event, "agenda_shift", None)
        typed_anew = {"date", "start_time", "end_time"} & set(self.changed_data)
        if shift and self.instance.pk and not typed_anew:
            starts_at += shift
            ends_at = ends_at + shift if ends_at else None
            self.moved = True
        self.instance.starts_at = timezone.make_aware(starts_at)
        self.instance.ends_at = timezone.make_aware(ends_at) if ends_at else None
        return cleaned

    def has_changed(self):
        # A moved item is saved although nothing was typed into it.
        return self.moved or super().has_changed()

    def _update_errors(self, errors):
        if hasattr(errors, "error_dict"):
            errors = ValidationError(
                {self.FIELD_FOR_MODEL_ERROR.get(f, f): e for f, e in errors.error_dict.items()}
            )
        super()._update_errors(errors)


class AgendaItemInline(admin.StackedInline):
    model = AgendaItem
    form = AgendaItemForm
    extra = 0
    autocomplete_fields = ["speakers"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("date", "start_time", "end_time"),
                    "title",
                    "description",
                    "speakers",
                    "position",
                ]
            },
        ),
        *translation_fieldsets(AgendaItem, per_language=False),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("speakers")


# --- Uploads kept across a failed save ----------------------------------------------------
# A browser cannot put a chosen file back into a re-displayed form, so after a validation
# error anywhere on the page a good upload is kept here and named in a signed hidden field;
# the next submission takes it from here unless another file is chosen.
STASH_DIR = "stash"
STASH_SALT = "events.admin.document-stash"
STASH_MAX_AGE = 24 * 3600


def stash_upload(upload):
    """Keep an uploaded file for the next submission; returns the token naming it."""
    _forget_old_stashes()
    name = default_storage.save(
        f"{STASH_DIR}/{uuid.uuid4().hex}/{get_valid_filename(upload.name)}", upload
    )
    return signing.dumps(name, salt=STASH_SALT)


def stashed_upload(token):
    """The kept file a token names, as an upload (None: unknown, expired or gone)."""
    try:
        name = signing.loads(token, salt=STASH_SALT, max_age=STASH_MAX_AGE)
    except signing.BadSignature:
        return None
    if not default_storage.exists(name):
        return None
    return UploadedFile(
        default_storage.open(name), name=PurePath(name).name, size=default_storage.size(name)
    ), name


def _forget_old_stashes():
    # Kept files of organisers who gave up; checked when something is kept, so no job needed.
    try:
        folders, _files = default_storage.listdir(STASH_DIR)
    except FileNotFoundError:
        return
    cutoff = timezone.now() - timedelta(seconds=STASH_MAX_AGE)
    for folder in folders:
        for file_name in default_storage.listdir(f"{STASH_DIR}/{folder}")[1]:
            path = f"{STASH_DIR}/{folder}/{file_name}"
            if default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)


class KeptFileInput(forms.ClearableFileInput):
    """The file input, saying which earlier upload is kept when there is one."""

    kept_name = ""

    def render(self, name, value, attrs=None, renderer=None):
        html = super().render(name, value, attrs, renderer)
        if not self.kept_name:
            return html
        note = gettext("Kept from your last try: %(name)s. No need to attach it again.") % {
            "name": self.kept_name
        }
        return format_html('{}<p class="help kept-file">{}</p>', html, note)


class DocumentForm(forms.ModelForm):
    kept_file = forms.CharField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Document
        fields = ["kind", "title", "language", "file", "position"]
        widgets = {"file": KeptFileInput}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stash_name = None
        file_key = self.add_prefix("file")
        token = self.data.get(self.add_prefix("kept_file")) if self.is_bound else None
        if token and file_key not in self.files:
            found = stashed_upload(token)
            if found:
                upload, self.stash_name = found
                self.files = self.files.copy()
                self.files[file_key] = upload
                self.fields["file"].widget.kept_name = upload.name

    def keep_upload(self):
        """After a failed save: keep a good new upload for the next try (see stash_upload)."""
        upload = self.files.get(self.add_prefix("file"))
        if upload is None or self.stash_name or self.has_error("file"):
            return
        self.data[self.add_prefix("kept_file")] = stash_upload(upload)
        self.fields["file"].widget.kept_name = upload.name


class DocumentInline(admin.TabularInline):
    model = Document
    form = DocumentForm
    extra = 0
    fields = ["kind", "title", "language", "file", "kept_file", "size_display", "position"]
    readonly_fields = ["size_display"]

    @admin.display(description=_("size"))
    def size_display(self, obj):
        from django.template.defaultfilters import filesizeformat

        return filesizeformat(obj.size) if obj.pk else "—"


class AccessCodeInline(admin.TabularInline):
    """The codes of an event in "code" mode, and how often each was used."""

    model = AccessCode
    extra = 0
    fields = ["code", "max_uses", "uses"]
    readonly_fields = ["uses"]


class UpcomingFilter(admin.SimpleListFilter):
    title = _("when")
    parameter_name = "when"

    def lookups(self, request, model_admin):
        return [("upcoming", _("Upcoming")), ("past", _("Past"))]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "upcoming":
            return queryset.filter(ends_at__gte=now)
        if self.value() == "past":
            return queryset.filter(ends_at__lt=now)
        return queryset


def _apply(modeladmin, request, events, service, message, level=messages.SUCCESS):
    """Runs `service(event=...)` on each event and reports how many changed: `message(count)`
    is the ngettext sentence, with a %(count)d."""
    done = sum(service(event=event) for event in events)
    modeladmin.message_user(request, message(done) % {"count": done}, level)


@admin.action(description=_("Publish the selected events"), permissions=["change"])
def publish_events(modeladmin, request, queryset):
    _apply(
        modeladmin,
        request,
        queryset,
        services.publish,
        lambda n: ngettext("%(count)d event published.", "%(count)d events published.", n),
    )


@admin.action(
    description=_("Unpublish the selected events (back to draft)"), permissions=["change"]
)
def unpublish_events(modeladmin, request, queryset):
    _apply(
        modeladmin,
        request,
        queryset,
        services.unpublish,
        lambda n: ngettext("%(count)d event unpublished.", "%(count)d events unpublished.", n),
    )


def _cancel_confirmation(modeladmin, request, events, *, single):
    """The page that asks before cancelling (Django's delete confirmation, for cancelling)."""
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": gettext("Are you sure?"),
        "opts": modeladmin.model._meta,
        "events": events,
        "single": single,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/events/event/cancel_confirmation.html", context)


def _cancel(modeladmin, request, events):
    _apply(
        modeladmin,
        request,
        events,
        services.cancel_event,
        lambda n: ngettext("%(count)d event cancelled.", "%(count)d events cancelled.", n),
        messages.WARNING,
    )


@admin.action(
    description=_("Cancel the selected events (registrants are told)"), permissions=["change"]
)
def cancel_events(modeladmin, request, queryset):
    """Asks first (every registrant is emailed and it cannot be undone); cancels on "yes"."""
    if request.POST.get("post") != "yes":
        return _cancel_confirmation(modeladmin, request, list(queryset), single=False)
    _cancel(modeladmin, request, queryset)
    return None


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    form = EventAdminForm
    inlines = [AgendaItemInline, DocumentInline, AccessCodeInline]
    list_display = [
        "title",
        "start_in_event_zone",
        "status",
        "format",
        "confirmed_count",
        "waitlisted_count",
        "pending_count",
        "capacity",
        "preview_link",
    ]
    list_filter = [
        "status",
        UpcomingFilter,
        "format",
        "approval",
        "waitlist_enabled",
        "registration_mode",
    ]

    def get_changeform_initial_data(self, request):
        # A new event verifies emails unless the organiser says otherwise (issue 18): one
        # address cannot then fill its seats with invented ones. Existing events kept "open".
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("registration_mode", Event.RegistrationMode.VERIFY_EMAIL)
        return initial

    search_fields = ["title", "slug", "summary", "organiser"]
    prepopulated_fields = {"slug": ["title"]}
    date_hierarchy = "starts_at"
    own_actions = [publish_events, unpublish_events, cancel_events]
    readonly_fields = ["public_page", "sequence", "changed_at", "created_at", "updated_at"]
    save_on_top = True
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "title",
                    "slug",
                    "status",
                    "public_page",
                    "summary",
                    "description",
                    "expected_outcomes",
                ]
            },
        ),
        (
            _("When"),
            {
                "description": _(
                    "Type every date and time in the event's own time zone, "
                    "not your computer's: they are saved in that zone."
                ),
                "fields": ["timezone", ("starts_at", "ends_at")],
            },
        ),
        (
            _("Format and languages"),
            {
                "fields": [
                    "format",
                    "venue",
                    "interpretation_languages",
                    "organiser",
                    "contact_email",
                ]
            },
        ),
        (
            _("Meeting link (secret)"),
            {
                "description": _(
                    "Never shown on a public page; sent by email to confirmed registrants "
                    "before the event."
                ),
                "fields": ["meeting_url", "meeting_details", "meeting_link_send_at"],
            },
        ),
        (
            _("Registration"),
            {
                "fields": [
                    ("registration_opens_at", "registration_closes_at"),
                    "capacity",
                    "waitlist_enabled",
                    "approval",
                    ("registration_mode", "verification_hold_minutes"),
                ]
            },
        ),
        *translation_fieldsets(Event),
        (
            _("History"),
            {
                "classes": ["collapse"],
                "fields": ["sequence", "changed_at", "created_at", "updated_at"],
            },
        ),
    ]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "title":
            # Side-event titles run long: as wide as the description box, not 20 characters.
            formfield.widget.attrs["class"] = "vLargeTextField"
        return formfield

    @property
    def actions(self):
        # Read on every request, so actions registered by other apps after import appear.
        return [*self.own_actions, *_extra_actions]

    # --- changelist ---
    def get_queryset(self, request):
        # Counts per status in the changelist's own query (one query, not one per row).
        return (
            super()
            .get_queryset(request)
            .annotate(
                confirmed_total=Count("registrations", filter=Q(registrations__status="confirmed")),
                waitlisted_total=Count(
                    "registrations", filter=Q(registrations__status="waitlisted")
                ),
                pending_total=Count(
                    "registrations", filter=Q(registrations__status="pending_approval")
                ),
            )
        )

    @admin.display(description=_("starts (event's time zone)"), ordering="starts_at")
    def start_in_event_zone(self, obj):
        local = obj.local_starts_at
        return format_html(
            '<time datetime="{}">{} {}</time>',
            obj.starts_at.isoformat(),
            local.strftime("%Y-%m-%d %H:%M"),
            local.tzname(),
        )

    @admin.display(description=_("confirmed"), ordering="confirmed_total")
    def confirmed_count(self, obj):
        return obj.confirmed_total

    @admin.display(description=_("waiting list"), ordering="waitlisted_total")
    def waitlisted_count(self, obj):
        return obj.waitlisted_total

    @admin.display(description=_("awaiting approval"), ordering="pending_total")
    def pending_count(self, obj):
        return obj.pending_total

    @admin.display(description=_("public page"))
    def preview_link(self, obj):
        label = gettext("Preview") if obj.status == Event.Status.DRAFT else gettext("View")
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>', obj.get_absolute_url(), label
        )

    @admin.display(description=_("public page"))
    def public_page(self, obj):
        if not obj.pk:
            return "—"
        text = (
            gettext("Preview the page (only staff can see a draft)")
            if obj.status == Event.Status.DRAFT
            else gettext("Open the public page")
        )
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>', obj.get_absolute_url(), text
        )

    # --- cancelling one event, from its change form ---
    def get_urls(self):
        urls = [
            path(
                "<path:object_id>/cancel/",
                self.admin_site.admin_view(self.cancel_view),
                name="events_event_cancel",
            )
        ]
        return urls + super().get_urls()

    def cancel_view(self, request, object_id):
        """GET asks (the confirmation page); POST with post=yes cancels and goes back."""
        event = self.get_object(request, object_id)
        if event is None or not self.has_change_permission(request, event):
            raise PermissionDenied
        change_url = reverse("admin:events_event_change", args=[event.pk])
        if event.status == Event.Status.CANCELLED:
            return redirect(change_url)
        if request.method == "POST" and request.POST.get("post") == "yes":
            _cancel(self, request, [event])
            return redirect(change_url)
        return _cancel_confirmation(self, request, [event], single=True)

    # --- change form ---
    class Media:
        js = ["events/admin-event.js"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = copy.deepcopy(super().get_fieldsets(request, obj))
        when = next(options for name, options in fieldsets if name == _("When"))
        if _submitted_zone(request, obj):
            when["fields"].insert(1, "zone_change")
        if obj is not None and obj.agenda_items.exists():
            when["fields"].append("move_agenda")
        return fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        return type(form)(form.__name__, (form,), {"date_formats": date_input_formats(request)})

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, AgendaItemInline):
            kwargs["form_kwargs"] = {"event": obj, "date_formats": date_input_formats(request)}
        return kwargs

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if request.method == "POST":  # shown again after a validation error
            for inline_formset in context.get("inline_admin_formsets", []):
                for form in inline_formset.formset.forms:
                    if isinstance(form, DocumentForm):
                        form.keep_upload()
        return super().render_change_form(request, context, add, change, form_url, obj)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        obj = self.get_object(request, object_id) if object_id else None
        zone = _zone_from_request(request, obj)
        extra_context = dict(extra_context or {})
        extra_context["event_time_zone"] = zone
        extra_context["event_time_zone_html"] = format_html("<span data-event-zone>{}</span>", zone)
        if obj is not None and obj.status != Event.Status.CANCELLED:
            extra_context["cancel_url"] = reverse("admin:events_event_cancel", args=[obj.pk])
        if obj is not None:
            # Panels return safe HTML (format_html & co.); a plain string is shown escaped.
            extra_context["event_panels"] = [
                conditional_escape(panel(request, obj)) for panel in event_admin_panels
            ]
        # The admin parses and shows naive times in the current zone: make that the event's,
        # through the rendering of the response too.
        with timezone.override(zone):
            response = super().changeform_view(request, object_id, form_url, extra_context)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
        return response

    def save_model(self, request, obj, form, change):
        changes = services.save_event(event=obj, changed_fields=form.changed_data)
        if changes:
            self.message_user(request, _change_notice(obj), messages.INFO)
        for _field, warning in rules.event_warnings(obj):
            self.message_user(request, warning, messages.WARNING)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        event = form.instance
        for formset in formsets:
            for item_form in formset.forms:
                stash_name = getattr(item_form, "stash_name", None)
                if stash_name:
                    transaction.on_commit(lambda name=stash_name: default_storage.delete(name))
        moved = [
            item_form
            for formset in formsets
            for item_form in formset.forms
            if getattr(item_form, "moved", False)
        ]
        if moved:
            shift = event.agenda_shift
            self.message_user(
                request,
                ngettext(
                    "%(count)d agenda item moved with the event (%(shift)s %(direction)s).",
                    "%(count)d agenda items moved with the event (%(shift)s %(direction)s).",
                    len(moved),
                )
                % {
                    "count": len(moved),
                    "shift": _duration(abs(shift)),
                    "direction": gettext("later") if shift > timedelta(0) else gettext("earlier"),
                },
                messages.INFO,
            )
        # Agenda and document edits change the page too; the event row was saved just before.
        transaction.on_commit(lambda: event_cache.bump_event(event.pk))


def _duration(delta):
    """'1 day, 2 hours', '30 minutes': a shift as a person says it."""
    now = datetime(2000, 1, 1)
    return timeuntil(now + delta, now, depth=2)


def _change_notice(event):
    """What the organiser is told after changing a published event's time or link."""
    minutes = settings.EVENT_CHANGE_NOTICE_DELAY_MINUTES
    if not change_notice_counters:
        return gettext(
            "The time or meeting link changed: registrants will be told and their calendars "
            "updated."
        )
    count = sum(counter(event=event) for counter in change_notice_counters)
    if count == 0:
        return gettext("The time or meeting link changed: nobody needs to be emailed about it.")
    return ngettext(
        "The time or meeting link changed: %(count)d person will be emailed in about "
        "%(minutes)d minutes (after your last change).",
        "The time or meeting link changed: %(count)d people will be emailed in about "
        "%(minutes)d minutes (after your last change).",
        count,
    ) % {"count": count, "minutes": minutes}


@admin.register(Speaker)
class SpeakerAdmin(admin.ModelAdmin):
    list_display = ["name", "title", "organisation", "events"]
    search_fields = ["name", "organisation", "title"]
    # The event count's GROUP BY drops Meta.ordering, so the agenda's speaker autocomplete
    # would page an unordered list (and warn); order explicitly.
    ordering = ["name", "pk"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(event_total=Count("agenda_items__event", distinct=True))
        )

    @admin.display(description=_("events"), ordering="event_total")
    def events(self, obj):
        return obj.event_total

    def save_model(self, request, obj, form, change):
        services.save_speaker(speaker=obj)
