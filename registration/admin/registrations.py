"""The organisers' registration list (RegistrationAdmin) and its change form."""

from django import forms
from django.contrib import admin
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from events import access, audit
from events.models import AuditEntry
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
from registration.admin.hooks import _extra_actions
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
        "event",
    )
    list_display_links = ("name",)
    list_filter = (
        ("event", access.ScopedEventFilter),
        "status",
        "affiliation",
        "preferred_language",
        "interpretation_language",
        AnswerFilter,
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
        "consent_at",
        "created_at",
        "confirmed_at",
        "cancelled_at",
        "email_bounced_at",
        "anonymised_at",
        "updated_at",
    )
    # Status changes only through the actions, so the person is told; the email address is
    # the identity the uniqueness constraint keys on.
    readonly_fields = (
        "event",
        "status",
        "email",
        "answers_given",
        "consent_at",
        "created_at",
        "confirmed_at",
        "cancelled_at",
        "email_bounced_at",
        "anonymised_at",
        "updated_at",
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

    def has_add_permission(self, request):
        # Registrations come through the public form, which checks capacity and consent.
        return False

    def has_delete_permission(self, request, obj=None):
        # Cancel instead: deleting would lose the counts and the history of messages sent.
        return False
