"""The registration list's actions (approve, reject, promote, resend, cancel, export) and
the event list's registrations export.

Every state change goes through registration.services, so the person is told (the services
announce it and notifications writes the message) exactly as when they act themselves.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from events import audit
from events.models import AuditEntry
from registration import services
from registration.admin.export import _today, csv_response
from registration.models import Registration

# --- Actions --------------------------------------------------------------------------------


def _apply(request, queryset, change, *, done_message):
    """Runs a service over the selection; reports how many changed and why others did not."""
    done = 0
    for registration in queryset.select_related("event").order_by("created_at", "pk"):
        try:
            change(registration)
        except services.RegistrationError as refused:
            messages.warning(
                request,
                gettext("%(person)s: %(reason)s")
                % {"person": registration, "reason": refused.message},
            )
        else:
            done += 1
    if done:
        messages.success(request, done_message(done) % {"count": done})


@admin.action(description=_("Approve selected registrations"), permissions=["change"])
def approve_registrations(modeladmin, request, queryset):
    _apply(
        request,
        queryset,
        lambda registration: services.approve(registration=registration),
        done_message=lambda n: ngettext(
            "%(count)d registration approved.", "%(count)d registrations approved.", n
        ),
    )


class RejectForm(forms.Form):
    message = forms.CharField(
        label=_("Message to the people you reject (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5, "cols": 60}),
        help_text=_("Added to the email that tells them. Leave empty to send the standard text."),
    )


@admin.action(description=_("Reject selected registrations…"), permissions=["change"])
def reject_registrations(modeladmin, request, queryset):
    form = RejectForm(request.POST if "apply" in request.POST else None)
    if form.is_valid():
        message = form.cleaned_data["message"]
        _apply(
            request,
            queryset,
            lambda registration: services.reject(registration=registration, message=message),
            done_message=lambda n: ngettext(
                "%(count)d registration rejected.", "%(count)d registrations rejected.", n
            ),
        )
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": gettext("Reject registrations"),
        "opts": modeladmin.model._meta,
        "form": form,
        "registrations": queryset.select_related("event"),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "action": "reject_registrations",
    }
    return TemplateResponse(request, "admin/registration/reject.html", context)


@admin.action(description=_("Move selected from the waiting list"), permissions=["change"])
def promote_registrations(modeladmin, request, queryset):
    _apply(
        request,
        queryset,
        lambda registration: services.promote(registration=registration),
        done_message=lambda n: ngettext(
            "%(count)d person moved from the waiting list.",
            "%(count)d people moved from the waiting list.",
            n,
        ),
    )


@admin.action(description=_("Resend the confirmation email"), permissions=["change"])
def resend_confirmations(modeladmin, request, queryset):
    audit.record_per_event(
        queryset, user=request.user, action=AuditEntry.Action.RESENT, what=gettext("confirmation")
    )
    _apply(
        request,
        queryset,
        lambda registration: services.resend_confirmation(registration=registration),
        done_message=lambda n: ngettext(
            "%(count)d confirmation queued.", "%(count)d confirmations queued.", n
        ),
    )


@admin.action(description=_("Cancel selected registrations"), permissions=["change"])
def cancel_registrations(modeladmin, request, queryset):
    _apply(
        request,
        queryset,
        lambda registration: services.cancel(registration=registration),
        done_message=lambda n: ngettext(
            "%(count)d registration cancelled.", "%(count)d registrations cancelled.", n
        ),
    )


@admin.action(description=_("Export selected registrations (CSV)"), permissions=["view"])
def export_registrations(modeladmin, request, queryset):
    audit.record_per_event(
        queryset,
        user=request.user,
        action=AuditEntry.Action.EXPORTED,
        what=gettext("selected registrations"),
    )
    return csv_response(queryset, filename=f"registrations-{_today()}.csv")


@admin.action(description=_("Export registrations of selected events (CSV)"), permissions=["view"])
def export_event_registrations(modeladmin, request, queryset):
    """An action on the Event changelist (added through events.admin.register_event_action)."""
    slugs = list(queryset.values_list("slug", flat=True)[:2])
    name = slugs[0] if len(slugs) == 1 else "events"
    registrations = Registration.objects.filter(event__in=queryset)
    audit.record(
        events=queryset,
        user=request.user,
        action=AuditEntry.Action.EXPORTED,
        detail=gettext("all registrations"),
    )
    return csv_response(registrations, filename=f"registrations-{name}-{_today()}.csv")
