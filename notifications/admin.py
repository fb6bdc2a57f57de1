"""What organisers see of the outbox: the Delivery list, the meeting-link panel on each event,
"send meeting links now" on the event list and "resend meeting link" on the registration list.
"""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.exceptions import NotRegistered
from django.db.models import Count
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from events.admin import event_admin_panels, register_event_action
from notifications import services
from notifications.models import Delivery
from registration.models import Registration

Status = Delivery.Status


@admin.action(description=_("Try the selected failed messages again"), permissions=["change"])
def retry_failed(modeladmin, request, queryset):
    ids = list(queryset.filter(status=Status.FAILED).values_list("pk", flat=True))
    Delivery.objects.filter(pk__in=ids, status=Status.FAILED).update(
        status=Status.PENDING, attempts=0, next_attempt_at=None, updated_at=timezone.now()
    )
    services.enqueue(ids)
    modeladmin.message_user(
        request,
        ngettext(
            "%(count)d message will be tried again.",
            "%(count)d messages will be tried again.",
            len(ids),
        )
        % {"count": len(ids)},
        messages.SUCCESS,
    )


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "recipient",
        "event",
        "kind",
        "version",
        "status",
        "attempts",
        "sent_at",
        "error",
    )
    list_filter = ("kind", "status", "event")
    search_fields = ("registration__email", "registration__name", "esp_message_id")
    list_select_related = ("registration", "event")
    list_per_page = 100
    show_full_result_count = False
    ordering = ("-created_at", "-pk")
    actions = [retry_failed]
    fields = (
        "event",
        "registration",
        "kind",
        "version",
        "status",
        "attempts",
        "last_error",
        "esp_message_id",
        "context",
        "next_attempt_at",
        "lease_expires_at",
        "sent_at",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    @admin.display(description=_("recipient"), ordering="registration__email")
    def recipient(self, obj):
        return obj.registration.email

    @admin.display(description=_("last error"))
    def error(self, obj):
        return Truncator(obj.last_error).chars(80)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # Rows change only by sending; the list stays editable for the retry action.
        return obj is None and super().has_change_permission(request)


# --- The event page -------------------------------------------------------------------------


def meeting_link_panel(request, event):
    """The meeting-link status of `event`: send time, counts by status, progress, bounces."""
    counts = dict.fromkeys(Status.values, 0)
    for row in (
        Delivery.objects.filter(event=event, kind=Delivery.Kind.MEETING_LINK)
        .values("status")
        .annotate(n=Count("pk"))
    ):
        counts[row["status"]] = row["n"]
    total = sum(counts.values())
    finished = total - counts[Status.PENDING] - counts[Status.SENDING]
    bounced = Registration.objects.filter(event=event, email_bounced_at__isnull=False)
    now = timezone.now()
    changelist = reverse("admin:notifications_delivery_changelist")
    return render_to_string(
        "admin/notifications/event_panel.html",
        {
            "event": event,
            "send_at": event.effective_meeting_link_send_at,
            "default_send_time": event.meeting_link_send_at is None,
            "due": event.effective_meeting_link_send_at <= now,
            "counts": [(value, label, counts[value]) for value, label in Status.choices],
            "total": total,
            "finished": finished,
            "running": counts[Status.PENDING] + counts[Status.SENDING] > 0,
            "bounced_count": bounced.count(),
            "bounced": list(bounced.order_by("email_bounced_at")[:20]),
            "deliveries_url": f"{changelist}?event__id__exact={event.pk}",
        },
        request=request,
    )


event_admin_panels.append(meeting_link_panel)


@register_event_action
@admin.action(description=_("Send meeting links now"), permissions=["change"])
def send_meeting_links_now(modeladmin, request, queryset):
    """Asks for confirmation first, then sends to every confirmed registrant lacking the link."""
    events = list(queryset)
    if request.POST.get("confirmed") != "yes":
        return TemplateResponse(
            request,
            "admin/notifications/send_meeting_links_confirmation.html",
            {
                **modeladmin.admin_site.each_context(request),
                "title": gettext("Send the meeting links now?"),
                "events": [
                    (
                        event,
                        event.registrations.filter(status=Registration.Status.CONFIRMED).count(),
                    )
                    for event in events
                ],
                "opts": modeladmin.model._meta,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "action": request.POST.get("action", "send_meeting_links_now"),
            },
        )
    now = timezone.now()
    for event in events:
        if event.status != event.Status.PUBLISHED or event.ends_at <= now:
            modeladmin.message_user(
                request,
                gettext("“%(event)s” is not published or has ended: nothing was sent.")
                % {"event": event},
                messages.WARNING,
            )
            continue
        queued = services.send_meeting_links_now(event=event, now=now)
        modeladmin.message_user(
            request,
            ngettext(
                "“%(event)s”: %(count)d meeting link is on its way.",
                "“%(event)s”: %(count)d meeting links are on their way.",
                queued,
            )
            % {"event": event, "count": queued},
            messages.SUCCESS,
        )
    return None


# --- The registration list ------------------------------------------------------------------


@admin.action(description=_("Resend the meeting link to selected"), permissions=["change"])
def resend_meeting_link(modeladmin, request, queryset):
    queued = services.resend_meeting_link(registrations=queryset)
    skipped = queryset.count() - queued
    modeladmin.message_user(
        request,
        ngettext(
            "The meeting link is on its way to %(count)d person.",
            "The meeting link is on its way to %(count)d people.",
            queued,
        )
        % {"count": queued},
        messages.SUCCESS,
    )
    if skipped:
        modeladmin.message_user(
            request,
            ngettext(
                "%(count)d selected registration is not confirmed or its address bounced: "
                "nothing was sent to it.",
                "%(count)d selected registrations are not confirmed or their addresses "
                "bounced: nothing was sent to them.",
                skipped,
            )
            % {"count": skipped},
            messages.WARNING,
        )


def _add_registration_action():
    """registration.admin has no hook for actions from above; add ours to its ModelAdmin
    through the public admin-site lookup (notifications.admin is imported after it)."""
    try:
        registration_admin = admin.site.get_model_admin(Registration)
    except NotRegistered:
        return
    if resend_meeting_link not in registration_admin.actions:
        registration_admin.actions = [*registration_admin.actions, resend_meeting_link]


_add_registration_action()
