"""Organisers' messages in the admin: write one (subject and body in six languages, when, to
whom), see how many people it reaches, preview it in each language with a sample
registrant, send a test to yourself, schedule it, send it now, cancel it, follow its
progress; and the event page's panel listing the event's messages with the built-in
meeting link first."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csp import csp_override

from events import access, audit
from events.admin import TranslationsFormMixin, _translation_form_fields, translation_fieldsets
from events.languages import UN_LANGUAGE_CODES, UN_LANGUAGES
from events.models import AuditEntry, Event
from notifications import services
from notifications.admin import PREVIEW_CSP
from notifications.message_preview import email_for, sample_registrant, send_test
from notifications.message_rules import AUDIENCE_STATUSES, due_at
from notifications.models import Delivery, Message
from registration.models import Registration

State = Message.State
EITHER, ATTENDED, ABSENT = "", "yes", "no"

# Built at run time (one field per language); `Any` for the type checker.
MessageFormBase: Any = type(
    "MessageFormBase",
    (TranslationsFormMixin, forms.ModelForm),
    _translation_form_fields(Message),
)


class OptionalJSONField(forms.JSONField):
    """Blank, not "null", when there is nothing."""

    def prepare_value(self, value):
        return "" if value is None else super().prepare_value(value)


class MessageForm(MessageFormBase):
    """The audience JSON as form fields; the message's rules (Message.clean) on top."""

    status = forms.MultipleChoiceField(
        label=_("Registration status"),
        choices=[(s.value, s.label) for s in AUDIENCE_STATUSES],
        widget=forms.CheckboxSelectMultiple,
        initial=[Registration.Status.CONFIRMED],
    )
    interpretation_language = forms.MultipleChoiceField(
        label=_("Listening language"),
        choices=UN_LANGUAGES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every listening language."),
    )
    affiliation = forms.MultipleChoiceField(
        label=_("Affiliation"),
        choices=Registration.Affiliation.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every affiliation."),
    )
    answers = OptionalJSONField(
        label=_("Answers to choice questions"),
        required=False,
        help_text=_('E.g. {"delegation": ["sn", "ma"]}: the question\'s key and choice keys.'),
    )
    attended = forms.ChoiceField(
        label=_("Attendance"),
        choices=[
            (EITHER, _("Anyone")),
            (ATTENDED, _("Attended")),
            (ABSENT, _("Did not attend")),
        ],
        required=False,
        help_text=_("Known once the meeting's participant report is imported."),
    )

    class Meta:
        model = Message
        exclude = ["audience", "translations", "state", "started_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        audience = self.instance.audience or {}
        for name in ("status", "interpretation_language", "affiliation", "answers"):
            if audience.get(name):
                self.initial[name] = audience[name]
        attended = audience.get("attended")
        self.initial["attended"] = {True: ATTENDED, False: ABSENT}.get(attended, EITHER)
        if self.instance.pk:
            self.fields["key"].disabled = True  # the JSON file refers to it

    def _post_clean(self):
        if hasattr(self, "cleaned_data"):
            data = self.cleaned_data
            audience: dict[str, Any] = {"status": data.get("status") or []}
            for name in ("interpretation_language", "affiliation", "answers"):
                if data.get(name):
                    audience[name] = data[name]
            if data.get("attended") in (ATTENDED, ABSENT):
                audience["attended"] = data["attended"] == ATTENDED
            self.instance.audience = audience
        super()._post_clean()

    def add_error(self, field, error):
        # Message.clean() names the model's audience field: the form shows it at the top.
        if field == "audience":
            field = None
        super().add_error(field, error)


@admin.register(Message)
class MessageAdmin(access.EventScopedAdmin, admin.ModelAdmin):
    form = MessageForm
    change_form_template = "admin/notifications/message/change_form.html"
    list_display = ("key", "event", "when", "state", "recipients", "progress")
    list_filter = ("state", ("event", access.ScopedEventFilter))
    list_select_related = ("event",)
    readonly_fields = ("state", "when", "recipients", "progress", "preview")
    fieldsets = [
        (None, {"fields": ["event", "key", "state"]}),
        (_("When"), {"fields": ["send", "offset", "send_at", "when"]}),
        (
            _("To whom"),
            {
                "fields": [
                    "status",
                    "interpretation_language",
                    "affiliation",
                    "answers",
                    "attended",
                    "recipients",
                ]
            },
        ),
        (
            _("Message (English)"),
            {
                "fields": ["subject", "body", "include_meeting_link"],
                "description": _(
                    "Placeholders: {name}, {event_title}, {event_date}, {manage_link}, and "
                    "{meeting_link} in messages to the confirmed registrants alone."
                ),
            },
        ),
        *translation_fieldsets(Message),
        (_("Preview and progress"), {"fields": ["preview", "progress"]}),
    ]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "event":
            kwargs["queryset"] = access.events_for(request.user, manage=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "event"] if obj is not None else fields

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:  # nothing to preview or count before the first save
            return [
                (
                    name,
                    {
                        **options,
                        "fields": [
                            f
                            for f in options["fields"]
                            if f not in ("preview", "progress", "recipients", "state", "when")
                        ],
                    },
                )
                for name, options in fieldsets
                if name != _("Preview and progress")
            ]
        return fieldsets

    @admin.display(description=_("when"))
    def when(self, obj):
        due = due_at(obj) if obj.event_id else None
        if due is None:
            return gettext("When you send it")
        local = timezone.localtime(due, obj.event.tz)
        return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"

    @admin.display(description=_("recipients now"))
    def recipients(self, obj):
        count = services.count_message_recipients(obj)
        return ngettext("%(count)d person matches.", "%(count)d people match.", count) % {
            "count": count
        }

    @admin.display(description=_("progress"))
    def progress(self, obj):
        counts = services.message_progress(obj)
        url = reverse("admin:notifications_delivery_changelist")
        return render_to_string(
            "admin/notifications/message/progress.html",
            {
                "counts": [(v, label, counts[v]) for v, label in Delivery.Status.choices],
                "total": sum(counts.values()),
                "finished": sum(counts.values()) - counts["pending"] - counts["sending"],
                "message": obj,
                "url": f"{url}?event__id__exact={obj.event_id}&kind__exact=message"
                f"&version={obj.pk}",
            },
        )

    @admin.display(description=_("preview"))
    def preview(self, obj):
        return render_to_string(
            "admin/notifications/message/preview.html",
            {
                "message": obj,
                "languages": [
                    (
                        code,
                        name,
                        reverse("admin:notifications_message_preview", args=[obj.pk, code]),
                    )
                    for code, name in UN_LANGUAGES
                ],
                "sample": sample_registrant(obj, "en"),
            },
        )

    def get_urls(self):
        preview = self.admin_site.admin_view(self.preview_view)
        return [
            path(
                "<int:pk>/preview/<str:language>/",
                preview,
                name="notifications_message_preview",
            ),
            *super().get_urls(),
        ]

    @method_decorator(xframe_options_sameorigin)
    @method_decorator(csp_override(PREVIEW_CSP))
    def preview_view(self, request, pk, language):
        """The HTML of the message in `language` for the sample registrant, for the sandboxed
        frame on the change page (nothing in it can run, load or send anything)."""
        message = self.get_object(request, str(pk))
        if not self.has_view_permission(request, message) or language not in UN_LANGUAGE_CODES:
            raise Http404
        email = email_for(message, sample_registrant(message, language))
        html = next(c for c, mimetype in email.alternatives if mimetype == "text/html")
        return HttpResponse(html, content_type="text/html; charset=utf-8")

    def response_change(self, request, obj):
        return self._act(request, obj) or super().response_change(request, obj)

    def response_add(self, request, obj, post_url_continue=None):
        return self._act(request, obj) or super().response_add(request, obj, post_url_continue)

    def _act(self, request, message):
        """The change form's own buttons, after the edits are saved."""
        here = HttpResponseRedirect(
            reverse("admin:notifications_message_change", args=[message.pk])
        )
        if "_send_test" in request.POST:
            language = request.POST.get("test_language", "en")
            language = language if language in UN_LANGUAGE_CODES else "en"
            send_test(message, user=request.user, language=language)
            self.message_user(
                request,
                gettext("A test is on its way to %(email)s.") % {"email": request.user.email},
                messages.SUCCESS,
            )
            return here
        if "_send_now" in request.POST:
            queued = services.send_message_now(message=message)
            audit.record(
                events=[message.event],
                user=request.user,
                action=AuditEntry.Action.SENT,
                detail=f"{message.key}: {queued}",
            )
            self.message_user(
                request,
                ngettext(
                    "The message is on its way to %(count)d person.",
                    "The message is on its way to %(count)d people.",
                    queued,
                )
                % {"count": queued},
                messages.SUCCESS,
            )
            return here
        if "_schedule" in request.POST:
            services.schedule_message(message=message)
            self.message_user(request, gettext("The message is scheduled."), messages.SUCCESS)
            return here
        if "_cancel" in request.POST:
            skipped = services.cancel_message(message=message)
            self.message_user(
                request,
                ngettext(
                    "The message is cancelled; %(count)d email not yet sent will not go out.",
                    "The message is cancelled; %(count)d emails not yet sent will not go out.",
                    skipped,
                )
                % {"count": skipped},
                messages.SUCCESS,
            )
            return here
        return None


def messages_panel(request, event: Event) -> str:
    """The event's messages, the built-in meeting link first: time, audience, progress."""
    rows = []
    for message in event.messages.order_by("pk"):
        message.event = event
        counts = services.message_progress(message)
        due = due_at(message)
        rows.append(
            {
                "message": message,
                "due": due and timezone.localtime(due, event.tz),
                "sent": counts["sent"],
                "waiting": counts["pending"] + counts["sending"],
                "failed": counts["failed"] + counts["bounced"],
                "skipped": counts["skipped"],
                "url": reverse("admin:notifications_message_change", args=[message.pk]),
            }
        )
    link = Delivery.objects.filter(event=event, kind=Delivery.Kind.MEETING_LINK)
    return render_to_string(
        "admin/notifications/messages_panel.html",
        {
            "event": event,
            "rows": rows,
            "link_due": timezone.localtime(event.effective_meeting_link_send_at, event.tz),
            "link_sent": link.filter(status="sent").count(),
            "link_waiting": link.filter(status__in=["pending", "sending"]).count(),
            "add_url": reverse("admin:notifications_message_add") + f"?event={event.pk}",
            "can_change": access.can_change(request.user, event),
        },
        request=request,
    )
