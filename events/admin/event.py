"""The Event admin: its list (with the upcoming/past filter) and its change page, with the
panels, inlines and actions the hooks add, the agenda and documents, and the team scoping."""

import copy
from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, Q
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import conditional_escape, format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from events import access, audit, rules, services
from events import cache as event_cache
from events.admin.actions import (
    _cancel,
    _cancel_confirmation,
    cancel_events,
    publish_events,
    unpublish_events,
)
from events.admin.forms import AgendaItemInline, EventAdminForm
from events.admin.hooks import _extra_actions, event_admin_inlines, event_admin_panels
from events.admin.notices import _change_notice, _duration
from events.admin.teams import managed_teams
from events.admin.times import _submitted_zone, _zone_from_request, date_input_formats
from events.admin.translations import translation_fieldsets
from events.admin.uploads import DocumentForm, DocumentInline
from events.models import AccessCode, AuditEntry, Event


class AccessCodeInline(access.EventScopedInline, admin.TabularInline):
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


@admin.register(Event)
class EventAdmin(access.EventScopedAdmin, admin.ModelAdmin):
    event_path = ""  # the rows are the events themselves
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
                    "teams",
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
                    "proof_of_work",
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

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "teams":
            # A manager adds the event to the teams they manage only; co-organising teams
            # they are not a manager of are kept as they are (see save_related).
            kwargs["widget"] = forms.CheckboxSelectMultiple
            if not access.is_site_admin(request.user):
                kwargs["queryset"] = managed_teams(request.user)
                kwargs["required"] = True
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        # A new event verifies emails unless the organiser says otherwise (issue 18): one
        # address cannot then fill its seats with invented ones. Existing events kept "open".
        initial.setdefault("registration_mode", Event.RegistrationMode.VERIFY_EMAIL)
        teams = list(managed_teams(request.user)[:2])
        if len(teams) == 1 and not access.is_site_admin(request.user):
            initial.setdefault("teams", teams)
        return initial

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

    def get_inlines(self, request, obj):
        return [*super().get_inlines(request, obj), *event_admin_inlines]

    def get_fieldsets(self, request, obj=None):
        fieldsets = copy.deepcopy(super().get_fieldsets(request, obj))
        when = next(options for name, options in fieldsets if name == _("When"))
        if _submitted_zone(request, obj):
            when["fields"].insert(1, "zone_change")
        if obj is not None and obj.agenda_items.exists():
            when["fields"].append("move_agenda")
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not access.is_site_admin(request.user):
            # Proof of work costs every registrant a delay and needs JavaScript: a site-wide
            # defence, so the site administrators decide, not each event's organisers.
            readonly.append("proof_of_work")
        return readonly

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
        time_or_link = []
        if change:
            fields = sorted(set(form.changed_data) & services.ANNOUNCED_FIELDS)
            stored = Event.objects.filter(pk=obj.pk).values(*fields).first() if fields else {}
            time_or_link = [f for f in fields if stored and stored[f] != getattr(obj, f)]
        changes = services.save_event(event=obj, changed_fields=form.changed_data)
        if time_or_link:
            audit.record(
                events=[obj],
                user=request.user,
                action=AuditEntry.Action.CHANGED_TIME_OR_LINK,
                detail=", ".join(time_or_link),
            )
        if changes:
            self.message_user(request, _change_notice(obj), messages.INFO)
        for _field, warning in rules.event_warnings(obj):
            self.message_user(request, warning, messages.WARNING)

    def save_related(self, request, form, formsets, change):
        kept_teams = []
        if change and not access.is_site_admin(request.user):
            kept_teams = list(
                form.instance.teams.exclude(pk__in=managed_teams(request.user).values("pk"))
            )
        super().save_related(request, form, formsets, change)
        event = form.instance
        event.teams.add(*kept_teams)
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
