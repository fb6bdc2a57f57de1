"""The registrations panel on the event's admin page: counts, the sign-ups chart, the
affiliations chart, the choice questions' charts and attendance (admin.attendance)."""

from datetime import UTC, timedelta

from django.db.models import Count
from django.db.models.functions import TruncHour
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from events import access
from events.models import Event
from registration.admin.attendance import attendance_summary
from registration.admin.charts import bar_chart
from registration.admin.questions import choice_charts
from registration.availability import free_seats, seats_taken_in
from registration.models import Registration

Status = Registration.Status


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
    """Cumulative sign-ups (every registration ever made, cancelled ones included; not
    invitations nobody accepted) by hour
    or day in the event's time zone, against the capacity: a step line as SVG coordinates,
    plus the rows of its table alternative. One query."""
    rows = list(
        Registration.objects.filter(event=event)
        .exclude(status__in=Registration.INVITATION_STATUSES)
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
        .exclude(status__in=Registration.NOT_REGISTERED)
        .values_list("affiliation")
        .annotate(count=Count("pk"))
    )
    return bar_chart(
        (label, counts.get(value, 0)) for value, label in Registration.Affiliation.choices
    )


def registration_panel(request: HttpRequest, event: Event) -> str:
    """Counts by status and two small charts, server-rendered SVG (no script): shown on the
    event's change page through events.admin.event_admin_panels. Four queries, one more
    once attendance is imported, and one more per choice question (questions.choice_charts)."""
    by_status = dict(
        Registration.objects.filter(event=event).values_list("status").annotate(count=Count("pk"))
    )
    invitation_only = event.registration_mode == Event.RegistrationMode.INVITATION
    # An invitation's statuses only where there are invitations: they are not registrations.
    statuses = [
        (value, label, by_status.get(value, 0))
        for value, label in Status.choices
        if value not in Registration.INVITATION_STATUSES or invitation_only or by_status.get(value)
    ]
    changelist = reverse("admin:registration_registration_changelist")
    invitations = sum(by_status.get(value, 0) for value in Registration.INVITATION_STATUSES)
    context = {
        "event": event,
        "statuses": statuses,
        "total": sum(by_status.values()) - invitations,
        "invitation_only": invitation_only,
        "invite_people": reverse("admin:registration_registration_invite_people", args=[event.pk]),
        "seats_left": free_seats(capacity=event.capacity, taken=seats_taken_in(by_status)),
        "changelist": f"{changelist}?event__id__exact={event.pk}",
        "add_people": reverse("admin:registration_registration_add_people", args=[event.pk]),
        "signups": _signups_chart(event),
        "by_affiliation": _affiliation_chart(event),
        "by_question": choice_charts(event),
        "attendance": attendance_summary(event),
        # The import is for the event's managers (a viewer would get a 404).
        "import_attendance": reverse(
            "admin:registration_registration_import_attendance", args=[event.pk]
        )
        if access.can_change(request.user, event)
        else None,
    }
    return render_to_string("admin/registration/event_panel.html", context, request=request)
