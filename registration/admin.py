"""The organisers' registration list, its actions, the CSV export and the event-page panel.

Every state change goes through registration.services, so the person is told (the services
announce it and notifications writes the message) exactly as when they act themselves.

Extension point for the apps above registration (which registration must not import):

- `register_registration_action(func)`: add an admin action (a normal `@admin.action`
  function `(modeladmin, request, queryset)`) to the registration list. Call it from your
  AppConfig.ready().
"""

import csv
import unicodedata
from collections.abc import Callable
from datetime import UTC, timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.db.models.functions import TruncHour
from django.http import HttpRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from events.languages import UN_LANGUAGES
from events.models import Event
from registration import access, services
from registration.addresses import canonical_email_or_none
from registration.availability import free_seats, seats_taken_in
from registration.countries import country_name
from registration.forms import TEXT_VALIDATORS, CountryField
from registration.models import PROFILE_FIELDS, Registration

Status = Registration.Status
_extra_actions: list[Callable[..., Any]] = []


def register_registration_action[F: Callable[..., Any]](func: F) -> F:
    """Add an admin action to the registration list; returns func (works as a decorator)."""
    if func not in _extra_actions:
        _extra_actions.append(func)
    return func


# --- CSV export -----------------------------------------------------------------------------
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection): =, +,
# - and @ start formulas, | and % DDE and macro tricks in some spreadsheets, and a tab or line
# break may hide the real first character.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "|", "%", "\t", "\r", "\n")
CSV_BATCH = 2000


def csv_cell(value):
    """The value as a CSV cell, quoted with a leading ' when a spreadsheet would run it."""
    text = "" if value is None else str(value)
    # NFKC folds look-alikes a spreadsheet may treat alike (the full-width equals, plus, minus,
    # at, bar and percent signs, the small equals sign...) into the triggers; spaces before a
    # trigger do not hide it.
    head = unicodedata.normalize("NFKC", text[:16])
    if head.startswith(FORMULA_TRIGGERS) or head.lstrip().startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


class _Echo:
    def write(self, value):
        return value


def _csv_rows(queryset):
    languages = dict(UN_LANGUAGES)
    affiliations = dict(Registration.Affiliation.choices)
    statuses = dict(Status.choices)
    yield [
        gettext("Event"),
        gettext("Registered at (UTC)"),
        gettext("Status"),
        gettext("Full name"),
        gettext("Email address"),
        gettext("Organisation"),
        gettext("Job title"),
        gettext("Country"),
        gettext("Affiliation"),
        gettext("Language for emails"),
        gettext("Listening language"),
        gettext("Time zone"),
    ]
    for row in (
        queryset.select_related("event")
        .order_by("event", "created_at", "pk")
        .iterator(chunk_size=CSV_BATCH)
    ):
        yield [
            row.event.title,
            row.created_at.astimezone(timezone.UTC).strftime("%Y-%m-%d %H:%M:%S"),
            statuses.get(row.status, row.status),
            row.name,
            row.email,
            row.organisation,
            row.job_title,
            country_name(row.country),
            affiliations.get(row.affiliation, row.affiliation),
            languages.get(row.preferred_language, row.preferred_language),
            languages.get(row.interpretation_language, row.interpretation_language),
            row.timezone,
        ]


def csv_response(queryset, *, filename):
    """Streams UTF-8 with a byte-order mark (so Excel reads Arabic and Chinese correctly),
    with every cell neutralised against formula injection."""
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff"
        for row in _csv_rows(queryset):
            yield writer.writerow([csv_cell(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _today():
    return timezone.now().strftime("%Y%m%d")


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
    return csv_response(queryset, filename=f"registrations-{_today()}.csv")


@admin.action(description=_("Export registrations of selected events (CSV)"), permissions=["view"])
def export_event_registrations(modeladmin, request, queryset):
    """An action on the Event changelist (added through events.admin.register_event_action)."""
    slugs = list(queryset.values_list("slug", flat=True)[:2])
    name = slugs[0] if len(slugs) == 1 else "events"
    registrations = Registration.objects.filter(event__in=queryset)
    return csv_response(registrations, filename=f"registrations-{name}-{_today()}.csv")


# --- The list -------------------------------------------------------------------------------


class RegistrationAdminForm(forms.ModelForm):
    country = CountryField(label=_("Country"), required=False)

    class Meta:
        model = Registration
        fields = services.UPDATABLE_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("name", "organisation", "job_title"):
            self.fields[name].validators.extend(TEXT_VALIDATORS)


class AddPeopleForm(forms.Form):
    """The organiser's list of people to register: pasted, or a CSV file, or both."""

    people = forms.CharField(
        label=_("People"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "dir": "ltr"}),
        help_text=_(
            "One person per line: email, name and optionally the language for emails "
            "(ar, zh-hans, en, fr, ru, es), separated by commas."
        ),
    )
    file = forms.FileField(
        label=_("or a CSV file"), required=False, help_text=_("The same columns, UTF-8.")
    )
    outside_capacity = forms.BooleanField(
        label=_("Confirm them even if the event is full (outside the capacity)"),
        required=False,
    )
    notify = forms.BooleanField(
        label=_("Send each of them the confirmation email"), required=False, initial=True
    )

    def clean(self):
        cleaned = super().clean()
        text = cleaned.get("people") or ""
        upload = cleaned.get("file")
        if upload:
            try:
                text = "\n".join([text, upload.read().decode("utf-8-sig")])
            except UnicodeDecodeError:
                raise forms.ValidationError(_("The file is not UTF-8 text.")) from None
        cleaned["parsed"] = access.parse_people(text)
        if not cleaned["parsed"]:
            raise forms.ValidationError(_("Give at least one person."))
        return cleaned


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
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
        "event",
        "status",
        "affiliation",
        "preferred_language",
        "interpretation_language",
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
        "consent_at",
        "created_at",
        "confirmed_at",
        "cancelled_at",
        "hold_expires_at",
        "email_verified_at",
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
        "consent_at",
        "created_at",
        "confirmed_at",
        "cancelled_at",
        "hold_expires_at",
        "email_verified_at",
        "email_bounced_at",
        "anonymised_at",
        "updated_at",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(waitlist_place=services.waitlist_position())

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

    def has_add_permission(self, request):
        # Registrations come through the public form, which checks capacity and consent, or
        # through "Add people" on the event (add_people_view), which the organiser vouches for.
        return False

    def get_urls(self):
        urls = [
            path(
                "add-people/<int:event_id>/",
                self.admin_site.admin_view(self.add_people_view),
                name="registration_registration_add_people",
            )
        ]
        return urls + super().get_urls()

    def add_people_view(self, request, event_id):
        """Organiser-added registrants (speakers, VIPs, staff): registration.access."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        event = get_object_or_404(Event, pk=event_id)
        form = AddPeopleForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                added = access.add_registrants(
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

    def has_delete_permission(self, request, obj=None):
        # Cancel instead: deleting would lose the counts and the history of messages sent.
        return False


# --- The panel on the event's admin page ----------------------------------------------------

# The sign-ups chart: plot area and margins (for the axis labels), in SVG user units.
CHART_WIDTH = 560
CHART_HEIGHT = 160
CHART_LEFT = 48
CHART_TOP = 12
CHART_BOTTOM = 36
# Up to this span of sign-ups the chart steps by the hour, beyond it by the day: one day of
# data is then 24 steps rather than one block, ninety days 90 steps rather than 2,160.
HOURLY_UP_TO = timedelta(days=3)


def _signups_chart(event):
    """Cumulative sign-ups (every registration ever made, cancelled ones included) by hour
    or day in the event's time zone, against the capacity: a step line as SVG coordinates,
    plus the rows of its table alternative. One query."""
    rows = list(
        Registration.objects.filter(event=event)
        .annotate(hour=TruncHour("created_at", tzinfo=event.tz))
        .values("hour")
        .annotate(count=Count("pk"))
        .order_by("hour")
    )
    if not rows:
        return None
    hourly = rows[-1]["hour"] - rows[0]["hour"] < HOURLY_UP_TO
    if hourly:
        # Whole hours in UTC, so that a daylight-saving change neither drops nor repeats one.
        counts = {row["hour"].astimezone(UTC): row["count"] for row in rows}
        first, last = min(counts), max(counts)
        hours = int((last - first) / timedelta(hours=1)) + 1
        slots = [first + timedelta(hours=n) for n in range(hours + 1)]
        starts = [timezone.localtime(slot, event.tz) for slot in slots]
    else:
        counts = {}
        for row in rows:
            day = row["hour"].date()
            counts[day] = counts.get(day, 0) + row["count"]
        first, last = min(counts), max(counts)
        slots = [first + timedelta(days=n) for n in range((last - first).days + 2)]
        starts = slots
    # slots[-1] is where the last step ends, not a step of its own.
    totals, total = [], 0
    for slot in slots[:-1]:
        total += counts.get(slot, 0)
        totals.append(total)
    top = _nice_ceiling(max(total, event.capacity or 0))

    def x(index):
        return f"{CHART_LEFT + CHART_WIDTH * index / (len(slots) - 1):.1f}"

    def y(value):
        return f"{CHART_TOP + CHART_HEIGHT * (1 - value / top):.1f}"

    path = [f"M{x(0)} {y(0)}"]
    for index, value in enumerate(totals):
        path.append(f"V{y(value)}H{x(index + 1)}")
    table = [
        {"start": start, "count": counts[slot], "total": value}
        for slot, start, value in zip(slots, starts, totals, strict=False)
        if counts.get(slot)
    ]
    return {
        "hourly": hourly,
        "path": "".join(path),
        "first": starts[0],
        # The end of the last hour; the last day itself (its step runs to the right edge).
        "last": starts[-1] if hourly else starts[-2],
        # Days need only the zone's name; hours its abbreviation on that day (EDT in June).
        "zone": starts[0].tzname() if hourly else event.timezone,
        "total": total,
        "capacity": event.capacity,
        "capacity_y": None if event.capacity is None else y(event.capacity),
        "top": top,
        "top_y": y(top),
        "zero_y": y(0),
        "left": CHART_LEFT,
        "right": CHART_LEFT + CHART_WIDTH,
        "label_y": CHART_TOP + CHART_HEIGHT + 16,
        "date_y": CHART_TOP + CHART_HEIGHT + 30,
        "width": CHART_LEFT + CHART_WIDTH + 8,
        "height": CHART_TOP + CHART_HEIGHT + CHART_BOTTOM,
        "rows": table,
    }


def _nice_ceiling(value):
    """The y axis's top: the smallest round number (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a
    power of ten, whole) at least `value`, so the line fills most of the chart's height."""
    scale = 1
    while True:
        for factor in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8):
            top = factor * scale
            if top >= value and top == int(top):
                return int(top)
        scale *= 10


def _affiliation_chart(event):
    counts = dict(
        Registration.objects.filter(event=event)
        .exclude(status=Status.CANCELLED)
        .values_list("affiliation")
        .annotate(count=Count("pk"))
    )
    peak = max(counts.values(), default=0)
    rows = []
    for index, (value, label) in enumerate(Registration.Affiliation.choices):
        count = counts.get(value, 0)
        rows.append(
            {
                "label": label,
                "count": count,
                "y": index * 22,
                "width": round(300 * count / peak, 1) if peak else 0,
            }
        )
    return {"rows": rows, "height": len(rows) * 22}


def registration_panel(request: HttpRequest, event: Event) -> str:
    """Counts by status and two small charts, server-rendered SVG (no script): shown on the
    event's change page through events.admin.event_admin_panels. Three queries."""
    by_status = dict(
        Registration.objects.filter(event=event).values_list("status").annotate(count=Count("pk"))
    )
    statuses = [(value, label, by_status.get(value, 0)) for value, label in Status.choices]
    changelist = reverse("admin:registration_registration_changelist")
    context = {
        "event": event,
        "statuses": statuses,
        "total": sum(by_status.values()),
        "seats_left": free_seats(capacity=event.capacity, taken=seats_taken_in(by_status)),
        "changelist": f"{changelist}?event__id__exact={event.pk}",
        "add_people": reverse("admin:registration_registration_add_people", args=[event.pk]),
        "signups": _signups_chart(event),
        "by_affiliation": _affiliation_chart(event),
    }
    return render_to_string("admin/registration/event_panel.html", context, request=request)
