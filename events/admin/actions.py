"""The event changelist's actions: publish, unpublish, cancel (which asks first)."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from events import services


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
