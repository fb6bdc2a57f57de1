"""The organisers' registration list (RegistrationAdmin) and its change form."""

from django import forms
from django.contrib import admin, messages
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from events import access, audit
from events.models import AuditEntry
from registration import access as registration_access
from registration import services
from registration.addresses import canonical_email_or_none
from registration.admin.actions import (
    approve_registrations,
    cancel_registrations,
    export_registrations,
    promote_registrations,
    reject_registrations,
    resend_confirmations,
)
from registration.admin.attendance import import_view
from registration.admin.hooks import _extra_actions
from registration.admin.invitations import (
    InvitationFilter,
    invite_people_view,
    resend_invitations,
    revoke_invitations,
)
from registration.admin.people import PeopleForm
from registration.admin.questions import AnswerFilter, answers_table
from registration.forms import TEXT_VALIDATORS, CountryField
from registration.models import PROFILE_FIELDS, Registration

# --- The list -------------------------------------------------------------------------------


class RegistrationAdminForm(forms.ModelForm):
    country = CountryField(label=_("Country"), required=False)

    class Meta:
        model = Registration
        fields = services.UPDATABLE_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("name", "organisation", "job_title"):
            if name in self.fields:  # a viewer's form has none: every field is read-only
                self.fields[name].validators.extend(TEXT_VALIDATORS)


class AddPeopleForm(PeopleForm):
    """The people to register (registration.access.add_registrants)."""

    outside_capacity = forms.BooleanField(
        label=_("Confirm them even if the event is full (outside the capacity)"),
        required=False,
    )
    notify = forms.BooleanField(
        label=_("Send each of them the confirmation email"), required=False, initial=True
    )


# When things happened to a registration: shown on its page, set only by the services.
_RECORDED_AT = (
    "consent_at",
    "created_at",
    "confirmed_at",
    "cancelled_at",
    "hold_expires_at",
    "email_verified_at",
    "invited_at",
    "revoked_at",
    "email_bounced_at",
    "anonymised_at",
    "updated_at",
)


@admin.register(Registration)
class RegistrationAdmin(access.EventScopedAdmin, admin.ModelAdmin):
    form = RegistrationAdminForm
    # What an organiser scans for first, so that it stays in view at 1280 px beside the two
    # sidebars; country and languages are filters and CSV columns.
    list_display = (
        "status",
        "name",
        "email",
        "affiliation",
        "registered_at",
        "waitlist_position",
        "organisation",
        "attended",
        "event",
    )
    list_display_links = ("name",)
    list_filter = (
        ("event", access.ScopedEventFilter),
        "status",
        InvitationFilter,
        "affiliation",
        "preferred_language",
        "interpretation_language",
        AnswerFilter,
        "attended",
        "created_at",
    )
    search_fields = ("name", "email", "organisation")
    list_select_related = ("event",)
    list_per_page = 100
    # Filtered lists of a large event would otherwise pay an extra COUNT over the whole table.
    show_full_result_count = False
    ordering = ("-created_at", "-pk")
    own_actions = [
        approve_registrations,
        reject_registrations,
        promote_registrations,
        resend_confirmations,
        cancel_registrations,
        resend_invitations,
        revoke_invitations,
        export_registrations,
    ]

    @property
    def actions(self):
        # Read on every request, so actions registered by other apps after import appear.
        return [*self.own_actions, *_extra_actions]

    fields = (
        "event",
        "status",
        "name",
        "email",
        *PROFILE_FIELDS,
        "answers_given",
        "attended",
        "minutes_attended",
        *_RECORDED_AT,
    )
    # Status changes only through the actions, so the person is told; the email address is
    # the identity the uniqueness constraint keys on.
    readonly_fields = (
        "event",
        "status",
        "email",
        "answers_given",
        # From the participant report only (registration.attendance).
        "attended",
        "minutes_attended",
        *_RECORDED_AT,
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(waitlist_place=services.waitlist_position())

    @admin.display(description=_("answers"))
    def answers_given(self, obj):
        return answers_table(obj)

    @admin.display(description=_("registered at"), ordering="created_at")
    def registered_at(self, obj):
        """In the event's time zone, which the value names (EDT, CET...)."""
        local = timezone.localtime(obj.created_at, obj.event.tz)
        return f"{date_format(local, 'SHORT_DATETIME_FORMAT')} {local.tzname()}"

    @admin.display(description=_("waiting-list place"), ordering="waitlist_place")
    def waitlist_position(self, obj):
        return obj.waitlist_place

    def get_search_results(self, request, queryset, search_term):
        # Addresses are stored canonical: "Ana@Exämple.org" finds ana@xn--exmple-cua.org
        # (within the rows this list may show: `queryset` is already scoped and filtered).
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        address = canonical_email_or_none(search_term) if "@" in search_term else None
        if address:
            results |= queryset.filter(email=address)
        return results, may_have_duplicates

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            registration = self.get_object(request, object_id)
            audit.record(
                events=[registration.event],
                user=request.user,
                action=AuditEntry.Action.VIEWED_REGISTRANT,
                detail=f"#{registration.pk} {registration.name}",
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        urls = [
            path(
                "add-people/<int:event_id>/",
                self.admin_site.admin_view(self.add_people_view),
                name="registration_registration_add_people",
            ),
            path(
                "attendance/<int:event_id>/",
                self.admin_site.admin_view(self.import_attendance_view),
                name="registration_registration_import_attendance",
            ),
            path(
                "invite-people/<int:event_id>/",
                self.admin_site.admin_view(self.invite_people_view),
                name="registration_registration_invite_people",
            ),
        ]
        return urls + super().get_urls()

    def add_people_view(self, request, event_id):
        """Organiser-added registrants (speakers, VIPs, staff): registration.access. Only
        for the event's managers: any other event answers 404."""
        event = access.events_for(request.user, manage=True).filter(pk=event_id).first()
        if event is None:
            raise Http404
        form = AddPeopleForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                added = registration_access.add_registrants(
                    event=event,
                    people=form.cleaned_data["parsed"],
                    outside_capacity=form.cleaned_data["outside_capacity"],
                    notify=form.cleaned_data["notify"],
                )
            except services.NoSeatLeft as error:
                form.add_error(None, error.message)
            else:
                self.message_user(
                    request,
                    ngettext(
                        "%(count)d person registered.",
                        "%(count)d people registered.",
                        len(added.registrations),
                    )
                    % {"count": len(added.registrations)},
                    messages.SUCCESS,
                )
                if added.already:
                    self.message_user(
                        request,
                        gettext("Registered already, left as they were: %(emails)s")
                        % {"emails": ", ".join(added.already)},
                        messages.WARNING,
                    )
                return redirect(reverse("admin:events_event_change", args=[event.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Add people to %(event)s") % {"event": event.title},
            "event": event,
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/registration/add_people.html", context)

    def import_attendance_view(self, request, event_id):
        return import_view(self, request, event_id)

    def invite_people_view(self, request, event_id):
        """Invitations to an invitation-only event: registration.admin.invitations."""
        return invite_people_view(self, request, event_id)

    def has_add_permission(self, request):
        # Registrations come through the public form, which checks capacity and consent, or
        # through "Add people" on the event (add_people_view), which the organiser vouches for.
        return False

    def has_delete_permission(self, request, obj=None):
        # Cancel instead: deleting would lose the counts and the history of messages sent.
        return False
