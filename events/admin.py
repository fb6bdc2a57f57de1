"""The organisers' admin for events, agenda items, speakers and documents.

Extension points for the apps above events (which events must not import):

- `event_admin_panels`: callables `(request, event) -> safe HTML`, each rendered as a panel
  on the event's change page (registration counts, meeting-link delivery status, ...).
  Append to it from your AppConfig.ready().
- `register_event_action(func)`: add an admin action (a normal `@admin.action` function
  `(modeladmin, request, queryset)`) to the event changelist.

Times: every date and time on the event form, agenda items included, is typed and shown in
the event's own time zone (the form says which), whatever the organiser's or the server's
zone. A zone changed in the same submission applies to the times of that submission.
"""

import zoneinfo

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.html import conditional_escape, format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from events import cache as event_cache
from events import services
from events.languages import UN_LANGUAGES
from events.models import AgendaItem, Document, Event, Speaker

event_admin_panels = []
_extra_actions = []


def register_event_action(func):
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


def translation_fieldsets(model):
    return [
        (
            name,
            {
                "classes": ["collapse"],
                "description": _("Optional. Where a field is blank the English text is shown."),
                "fields": [
                    translation_field_name(field, code) for field in model.translatable_fields
                ],
            },
        )
        for code, name in OTHER_LANGUAGES
    ]


# --- Times in the event's own zone ----------------------------------------------------------
EVENT_DATETIME_FIELDS = [
    "starts_at",
    "ends_at",
    "registration_opens_at",
    "registration_closes_at",
    "meeting_link_send_at",
]


def _zone_from_request(request, obj):
    """The zone the form's times mean: the one being submitted, else the stored one."""
    if request.method == "POST":
        name = request.POST.get("timezone", "").strip()
        if name in zoneinfo.available_timezones():
            return name
    if obj is not None:
        return obj.timezone
    return Event._meta.get_field("timezone").default


def _zone_help(zone):
    return gettext("In the event's time zone, %(zone)s.") % {"zone": zone}


# Offered first in the time-zone select: where UN side events mostly happen. Every other
# IANA zone follows; the model's validator still checks the value.
COMMON_ZONES = [
    "America/New_York",
    "Europe/Geneva",
    "Europe/Vienna",
    "Africa/Nairobi",
    "Asia/Bangkok",
    "America/Santiago",
    "Asia/Beirut",
    "Europe/Paris",
    "Europe/London",
    "UTC",
]


def _zone_choices():
    zones = sorted(zoneinfo.available_timezones())
    return [
        (_("Common time zones"), [(zone, zone) for zone in COMMON_ZONES]),
        (_("All time zones"), [(zone, zone) for zone in zones]),
    ]


EventFormBase = type(forms.ModelForm)(
    "EventFormBase", (TranslationsFormMixin, forms.ModelForm), _translation_form_fields(Event)
)


class EventAdminForm(EventFormBase):
    # Six checkboxes instead of the model's raw JSON list.
    interpretation_languages = forms.MultipleChoiceField(
        label=_("interpretation languages"),
        choices=UN_LANGUAGES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = Event
        exclude = ["translations"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "timezone" in self.fields:
            self.fields["timezone"].widget = forms.Select(choices=_zone_choices())
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
                model_help = str(self.fields[name].help_text or "")
                self.fields[name].help_text = " ".join(filter(None, [_zone_help(zone), model_help]))


AgendaFormBase = type(forms.ModelForm)(
    "AgendaFormBase", (TranslationsFormMixin, forms.ModelForm), _translation_form_fields(AgendaItem)
)


class AgendaItemForm(AgendaFormBase):
    class Meta:
        model = AgendaItem
        exclude = ["translations"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        zone = timezone.get_current_timezone_name()
        for name in ("starts_at", "ends_at"):
            if name in self.fields:
                self.fields[name].help_text = _zone_help(zone)


class AgendaItemInline(admin.StackedInline):
    model = AgendaItem
    form = AgendaItemForm
    extra = 0
    autocomplete_fields = ["speakers"]
    fieldsets = [
        (
            None,
            {"fields": [("starts_at", "ends_at"), "title", "description", "speakers", "position"]},
        ),
        (
            _("Translations"),
            {
                "classes": ["collapse"],
                "description": _("Optional. Where a field is blank the English text is shown."),
                "fields": [
                    translation_field_name(field, code)
                    for code, _name in OTHER_LANGUAGES
                    for field in AgendaItem.translatable_fields
                ],
            },
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("speakers")


class DocumentInline(admin.TabularInline):
    model = Document
    extra = 0
    fields = ["kind", "title", "language", "file", "size_display", "position"]
    readonly_fields = ["size_display"]

    @admin.display(description=_("size"))
    def size_display(self, obj):
        from django.template.defaultfilters import filesizeformat

        return filesizeformat(obj.size) if obj.pk else "—"


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


@admin.action(description=_("Publish the selected events"), permissions=["change"])
def publish_events(modeladmin, request, queryset):
    done = sum(services.publish(event=event) for event in queryset)
    modeladmin.message_user(
        request,
        ngettext("%(count)d event published.", "%(count)d events published.", done)
        % {"count": done},
        messages.SUCCESS,
    )


@admin.action(
    description=_("Unpublish the selected events (back to draft)"), permissions=["change"]
)
def unpublish_events(modeladmin, request, queryset):
    done = sum(services.unpublish(event=event) for event in queryset)
    modeladmin.message_user(
        request,
        ngettext("%(count)d event unpublished.", "%(count)d events unpublished.", done)
        % {"count": done},
        messages.SUCCESS,
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
    done = sum(services.cancel_event(event=event) for event in events)
    modeladmin.message_user(
        request,
        ngettext("%(count)d event cancelled.", "%(count)d events cancelled.", done)
        % {"count": done},
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
    inlines = [AgendaItemInline, DocumentInline]
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
    list_filter = ["status", UpcomingFilter, "format", "approval", "waitlist_enabled"]
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
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        obj = self.get_object(request, object_id) if object_id else None
        zone = _zone_from_request(request, obj)
        extra_context = dict(extra_context or {})
        extra_context["event_time_zone"] = zone
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
            self.message_user(
                request,
                gettext(
                    "The time or meeting link changed: registrants will be told and their "
                    "calendars updated."
                ),
                messages.INFO,
            )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        event = form.instance
        # Agenda and document edits change the page too; the event row was saved just before.
        transaction.on_commit(lambda: event_cache.bump_event(event.pk))


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
        super().save_model(request, obj, form, change)
        # A speaker appears on several event pages: mark those events edited.
        event_ids = list(
            Event.objects.filter(agenda_items__speakers=obj).values_list("pk", flat=True).distinct()
        )
        Event.objects.filter(pk__in=event_ids).update(updated_at=timezone.now())
        for event_id in event_ids:
            transaction.on_commit(lambda event_id=event_id: event_cache.bump_event(event_id))
