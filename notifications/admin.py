"""What organisers see of the outbox: the Delivery list, the meeting-link panel on each event,
"send meeting links now" on the event list and "resend meeting link" on the registration list.
"""

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.csp import CSP
from django.utils.decorators import method_decorator
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csp import csp_override

from events import access, audit
from events.languages import UN_LANGUAGES
from events.models import AuditEntry
from notifications import services
from notifications.emails import build_message
from notifications.models import Delivery
from notifications.retry import retry_failed_deliveries
from registration.models import Registration

Status = Delivery.Status


@admin.action(description=_("Try the selected failed messages again"), permissions=["change"])
def retry_failed(modeladmin, request, queryset):
    ids = retry_failed_deliveries(deliveries=queryset)
    audit.record_per_event(
        Delivery.objects.filter(pk__in=ids),
        user=request.user,
        action=AuditEntry.Action.RESENT,
        what=gettext("failed messages tried again"),
    )
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


# The email preview's page: the email's own <style> block, and nothing that could load, run
# or send anything. It is shown only inside the change page's sandboxed frame.
PREVIEW_CSP: dict[str, list[str]] = {
    "default-src": [CSP.NONE],
    "style-src": [CSP.UNSAFE_INLINE],
    "img-src": ["data:"],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.NONE],
    "frame-ancestors": [CSP.SELF],
}
# Previews must not create manage links (each is a stored hash): a dead placeholder instead.
PREVIEW_TOKEN = "preview"  # noqa: S105 (not a secret: a token no link was issued for)


def _preview_message(delivery):
    """The email for `delivery`, built now from the current event details (once per page)."""
    if not hasattr(delivery, "_preview"):
        delivery._preview = build_message(delivery=delivery, token=PREVIEW_TOKEN)
    return delivery._preview


def _preview_html(delivery):
    message = _preview_message(delivery)
    return next(
        (content for content, mimetype in message.alternatives if mimetype == "text/html"), ""
    )


def status_history(delivery):
    """What happened to `delivery`, oldest first, from the outbox row's own fields (the send
    path records nothing more, and should not pay for a log)."""
    tz = delivery.event.tz
    lines = [format_html(gettext("Queued at {time}."), time=_stamp(delivery.created_at, tz))]
    if delivery.attempts:
        lines.append(
            ngettext(
                "%(count)d attempt to send it.", "%(count)d attempts to send it.", delivery.attempts
            )
            % {"count": delivery.attempts}
        )
    if delivery.sent_at:
        lines.append(format_html(gettext("Sent at {time}."), time=_stamp(delivery.sent_at, tz)))
    status, error = delivery.status, delivery.last_error
    if status == Status.PENDING and delivery.next_attempt_at:
        lines.append(
            format_html(
                gettext("Next attempt at {time} (last error: {error})."),
                time=_stamp(delivery.next_attempt_at, tz),
                error=error,
            )
        )
    elif status == Status.PENDING:
        lines.append(gettext("Waiting to be sent."))
    elif status == Status.SENDING:
        lines.append(gettext("Being sent now."))
    elif status in (Status.FAILED, Status.BOUNCED, Status.SKIPPED):
        # These statuses are final: the row was last written when it got them.
        what = {
            Status.FAILED: gettext("Gave up at {time}: {error}"),
            Status.BOUNCED: gettext("Bounce reported at {time}: {error}"),
            Status.SKIPPED: gettext("Not sent, decided at {time}: {error}"),
        }[status]
        lines.append(format_html(what, time=_stamp(delivery.updated_at, tz), error=error))
    return lines


def _stamp(moment, tz):
    local = timezone.localtime(moment, tz)
    return f"{date_format(local, 'DATETIME_FORMAT')} {local.tzname()}"


@admin.register(Delivery)
class DeliveryAdmin(access.EventScopedAdmin, admin.ModelAdmin):
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
    list_filter = ("kind", "status", ("event", access.ScopedEventFilter))
    search_fields = ("registration__email", "registration__name", "esp_message_id")
    list_select_related = ("registration", "event")
    list_per_page = 100
    show_full_result_count = False
    ordering = ("-created_at", "-pk")
    actions = [retry_failed]
    # What was sent, to whom and what became of it; the outbox's bookkeeping (version,
    # context, lease) stays out of sight.
    fields = (
        "event",
        "recipient_line",
        "language",
        "kind",
        "subject",
        "status",
        "history",
        "esp_message_id",
        "preview",
    )
    readonly_fields = fields

    @admin.display(description=_("recipient"), ordering="registration__email")
    def recipient(self, obj):
        return obj.registration.email

    @admin.display(description=_("last error"))
    def error(self, obj):
        return Truncator(obj.last_error).chars(80)

    @admin.display(description=_("recipient"))
    def recipient_line(self, obj):
        return str(obj.registration)

    @admin.display(description=_("language"))
    def language(self, obj):
        code = obj.registration.preferred_language or settings.LANGUAGE_CODE
        return dict(UN_LANGUAGES).get(code, code)

    @admin.display(description=_("subject"))
    def subject(self, obj):
        return _preview_message(obj).subject

    @admin.display(description=_("status history"))
    def history(self, obj):
        return format_html(
            '<ol class="delivery-history">{}</ol>',
            format_html_join("", "<li>{}</li>", ((line,) for line in status_history(obj))),
        )

    @admin.display(description=_("email as sent"))
    def preview(self, obj):
        url = reverse("admin:notifications_delivery_preview", args=[obj.pk])
        return render_to_string(
            "admin/notifications/delivery_preview.html",
            {"text": _preview_message(obj).body, "preview_url": url},
        )

    def get_urls(self):
        preview = self.admin_site.admin_view(self.preview_view)
        return [
            path("<int:pk>/preview/", preview, name="notifications_delivery_preview"),
            *super().get_urls(),
        ]

    @method_decorator(xframe_options_sameorigin)
    @method_decorator(csp_override(PREVIEW_CSP))
    def preview_view(self, request, pk):
        """The HTML part alone, for the sandboxed frame on the change page: the email's own
        inline styles may apply, nothing else (no scripts, no requests, no forms)."""
        delivery = self.get_object(request, str(pk))
        if delivery is None or not self.has_view_permission(request, delivery):
            raise Http404
        return HttpResponse(_preview_html(delivery), content_type="text/html; charset=utf-8")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # Rows change only by sending; the list stays editable for the retry action.
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        # A deleted row would be queued and sent again: site administrators only.
        return access.is_site_admin(request.user)


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
        audit.record(
            events=[event],
            user=request.user,
            action=AuditEntry.Action.SENT,
            detail=ngettext(
                "meeting link: %(count)d person", "meeting link: %(count)d people", queued
            )
            % {"count": queued},
        )
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
    audit.record_per_event(
        queryset,
        user=request.user,
        action=AuditEntry.Action.RESENT,
        what=gettext("meeting link"),
    )
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
