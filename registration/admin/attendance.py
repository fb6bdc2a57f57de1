"""Attendance in the admin: the upload of a participant report (its result page lists who
was not matched), and the attendance part of the registrations panel (the rate and a chart
of minutes present, server-rendered SVG like the panel's other charts)."""

import math

from django import forms
from django.db.models import Count, Q
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from events import access
from registration.admin.charts import bar_chart
from registration.attendance import MAX_REPORT_BYTES, ReportError, import_attendance
from registration.models import Registration

Status = Registration.Status
# The chart's bars: at most this many, each a whole number of quarter hours wide.
MAX_BARS = 8
BAR_STEP_MINUTES = 15


class AttendanceReportForm(forms.Form):
    report = forms.FileField(
        label=_("Participant report"),
        help_text=_(
            "The CSV file exported from Zoom (meeting participants or webinar attendee "
            "report), Microsoft Teams (attendance report) or Webex (meeting attendee report), "
            "as it was downloaded."
        ),
    )

    def clean_report(self):
        report = self.cleaned_data["report"]
        if report.size > MAX_REPORT_BYTES:
            raise forms.ValidationError(
                gettext(
                    "The file is larger than %(size)d MB; a participant report is much smaller."
                )
                % {"size": MAX_REPORT_BYTES // (1024 * 1024)}
            )
        return report


def import_view(model_admin, request, event_id):
    """Only for the event's managers: any other event answers 404. A GET shows the form; a
    POST imports and shows the result (matched counts and the unmatched participants)."""
    event = access.events_for(request.user, manage=True).filter(pk=event_id).first()
    if event is None:
        raise Http404
    form = AttendanceReportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        try:
            result = import_attendance(
                event=event, data=form.cleaned_data["report"].read(), user=request.user
            )
        except ReportError as error:
            form.add_error("report", error.message)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": gettext("Attendance at %(event)s") % {"event": event.title},
        "event": event,
        "form": form,
        "result": result,
        "opts": model_admin.model._meta,
        "changelist": reverse("admin:registration_registration_changelist"),
    }
    return TemplateResponse(request, "admin/registration/import_attendance.html", context)


def attendance_summary(event):
    """The rate among confirmed registrants and the minutes-present chart, or None before
    a report is imported. Two queries."""
    counts = Registration.objects.filter(event=event).aggregate(
        reported=Count("pk", filter=Q(attended__isnull=False)),
        confirmed=Count("pk", filter=Q(status=Status.CONFIRMED)),
        confirmed_attended=Count("pk", filter=Q(status=Status.CONFIRMED, attended=True)),
        attended=Count("pk", filter=Q(attended=True)),
    )
    if not counts["reported"]:
        return None
    confirmed = counts["confirmed"]
    rate = round(100 * counts["confirmed_attended"] / confirmed) if confirmed else 0
    return {
        **counts,
        "rate": rate,
        "others": counts["attended"] - counts["confirmed_attended"],
        "chart": _minutes_chart(event),
    }


def _minutes_chart(event):
    """How long the attendees stayed: a bar per span of minutes (0-15, 15-30 ...), the last
    one open-ended from about the event's scheduled length (whoever stayed to the end)."""
    length = max(1, round((event.ends_at - event.starts_at).total_seconds() / 60))
    step = BAR_STEP_MINUTES * max(1, math.ceil(length / (MAX_BARS * BAR_STEP_MINUTES)))
    # One bar more than the length needs: the last holds those who stayed to the end.
    bars = math.ceil(length / step) + 1
    counts = [0] * bars
    for minutes in Registration.objects.filter(event=event, attended=True).values_list(
        "minutes_attended", flat=True
    ):
        counts[min((minutes or 0) // step, bars - 1)] += 1
    labels = [
        gettext("%(low)d min or more") % {"low": index * step}
        if index == bars - 1
        else gettext("%(low)d to %(high)d min") % {"low": index * step, "high": (index + 1) * step}
        for index in range(bars)
    ]
    return bar_chart(zip(labels, counts, strict=True))
