"""Every message Convene sends is built here, from one template trio per kind:
templates/emails/<kind>/subject.txt, body.txt and body.html, rendered in the registrant's
language, with the event's times in its own zone and an .ics where it helps.
"""

import re
from datetime import UTC
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import make_msgid
from django.template import Context
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format, time_format
from django.utils.html import escape

from events.ics import build_calendar
from events.models import AgendaItem, Event
from notifications.mime import OutboxEmail
from notifications.models import Delivery
from registration.models import Registration
from registration.services import issue_manage_token

Kind = Delivery.Kind

# Messages that carry the meeting link and details; no other message ever does.
MEETING_KINDS = {Kind.MEETING_LINK, Kind.EVENT_CHANGED}
# Messages whose .ics removes the entry from the registrant's calendar.
CANCEL_KINDS = {Kind.CANCELLED, Kind.EVENT_CANCELLED}
UID_PLACEHOLDER = "uid-of-the-registrant"


def site_host():
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def calendar_uid(*, event, registration):
    """The same for every message to one registrant, so calendars update one entry."""
    return f"event-{event.pk}-registration-{registration.pk}@{site_host()}"


def calendar_sequence(kind, event):
    """SEQUENCE of the .ics in a message of `kind`. event.sequence grows with every change
    of time or link; on top of it the meeting-link version outranks the confirmation (so the
    entry gains the link), and a cancellation outranks both (so the entry goes away)."""
    if kind in CANCEL_KINDS:
        return event.sequence + 2
    if kind in MEETING_KINDS:
        return event.sequence + 1
    return event.sequence


def absolute(path):
    return f"{settings.SITE_URL}{path}"


def event_times(event):
    """The event's date and times in its own zone (with the abbreviation valid on that date,
    EDT in June) and in UTC, formatted for the active language."""
    starts, ends = event.local_starts_at, event.local_ends_at
    utc_starts = timezone.localtime(event.starts_at, UTC)
    utc_ends = timezone.localtime(event.ends_at, UTC)
    send_at = timezone.localtime(event.effective_meeting_link_send_at, event.tz)
    return {
        "weekday": date_format(starts, "l"),
        "date": date_format(starts, "DATE_FORMAT"),
        "start": time_format(starts, "TIME_FORMAT"),
        "end": time_format(ends, "TIME_FORMAT"),
        "zone": starts.tzname(),
        "zone_name": event.timezone,
        "utc_date": date_format(utc_starts, "DATE_FORMAT"),
        "utc_start": time_format(utc_starts, "TIME_FORMAT"),
        "utc_end": time_format(utc_ends, "TIME_FORMAT"),
        "link_send_date": date_format(send_at, "DATE_FORMAT"),
        "link_send_time": time_format(send_at, "TIME_FORMAT"),
        "link_send_zone": send_at.tzname(),
    }


def agenda(event):
    items = AgendaItem.objects.filter(event=event).order_by("starts_at", "position", "pk")
    return [
        {
            "start": time_format(timezone.localtime(item.starts_at, event.tz), "TIME_FORMAT"),
            "title": item.translated("title"),
        }
        for item in items
    ]


def _event_facts(event, language, cache):
    """What every message about `event` in `language` shares: computed once per batch."""
    key = (event.pk, event.sequence, language)
    if key not in cache:
        cache[key] = {
            "event_title": event.translated("title"),
            "event_summary": event.translated("summary"),
            "event_url": absolute(event.get_absolute_url()),
            "event_format": str(event.get_format_display()),
            "when": event_times(event),
            "agenda": agenda(event),
            "interpretation": [str(name) for name in event.interpretation_language_names()],
        }
    return cache[key]


def render_email(kind, context):
    """(subject, text, html) for `kind` in the active language."""
    folder = f"emails/{kind}"
    plain = Context(context, autoescape=False)
    subject = get_template(f"{folder}/subject.txt").template.render(plain)
    text = get_template(f"{folder}/body.txt").template.render(plain)
    html = get_template(f"{folder}/body.html").render(context)
    subject = re.sub(r"\s+", " ", subject).strip()
    text = re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
    return subject, text, html


# Mail merge: a batch renders each message once per group of registrants who share
# everything but their name and manage link (same event, kind, language, status...), with
# these markers in place of the two, and swaps the real values into a copy per registrant.
# Rendering three templates per registrant was a third of a worker's time per message.
# Templates may use `name` and `manage_url` only as plain values ({{ name }}): whether the
# manage link is empty is part of the group, so {% if manage_url %} is fine too. The first
# message of every group is also rendered in full and compared, and a group whose templates
# transform a marker is rendered in full for everyone (tests/notifications/test_mime.py
# checks that no email template filters or tests either value).
MARKERS = {"name": "\ue000name\ue000", "manage_url": "\ue000manage_url\ue000"}


def _merge(rendered, personal):
    subject, text, html = rendered
    for key, marker in MARKERS.items():
        value = personal[key]
        subject = subject.replace(marker, value)
        text = text.replace(marker, value)
        html = html.replace(marker, escape(value))
    return subject, text, html


def render_personal(kind, context, personal, *, group, cache):
    """render_email(kind, context | personal), through the batch's merge cache: `group`
    names everything in `context` that differs between registrants besides `personal`."""
    key = ("render", kind, *group)
    marked = cache.get(key)
    if marked is None:
        marked = render_email(kind, {**context, **MARKERS})
        direct = render_email(kind, {**context, **personal})
        cache[key] = marked if _merge(marked, personal) == direct else False
        return direct
    if marked is False:
        return render_email(kind, {**context, **personal})
    return _merge(marked, personal)


def build_message(*, delivery, cache=None, token=None):
    """The complete email for `delivery`: subject, plain text, HTML, .ics where it helps,
    and a personal manage link (`token`, or a fresh one), all in the registrant's language.
    Pass the same `cache` dict for a batch: what registrants share is computed once."""
    registration, event = delivery.registration, delivery.event
    cache = {} if cache is None else cache
    language = registration.preferred_language or settings.LANGUAGE_CODE
    status = delivery.context.get("status") or registration.status
    note = delivery.context.get("message", "")  # the organiser's, with a rejection
    link_sent = event.effective_meeting_link_send_at <= timezone.now()
    with translation.override(language):
        manage_url = ""
        if needs_manage_link(delivery):
            token = token or issue_manage_token(registration=registration)
            manage_url = absolute(reverse("registration:manage", kwargs={"token": token}))
        context = {
            **_event_facts(event, language, cache),
            "site_name": settings.SITE_NAME,
            "site_url": settings.SITE_URL,
            "language": language,
            "bidi": translation.get_language_bidi(),
            "status": status,
            "message": note,
            "organiser": event.organiser,
            "contact_email": event.contact_email,
            "link_sent": link_sent,
        }
        if delivery.kind in MEETING_KINDS:
            context["meeting_url"] = event.meeting_url
            context["meeting_details"] = event.meeting_details
        subject, text, html = render_personal(
            delivery.kind,
            context,
            {"name": registration.name, "manage_url": manage_url},
            group=(
                event.pk,
                event.updated_at,
                language,
                status,
                note,
                bool(manage_url),
                link_sent,
            ),
            cache=cache,
        )
        ics = _calendar(
            delivery, status=status, language=language, url=context["event_url"], cache=cache
        )

    message = OutboxEmail(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[registration.email],
        headers={
            "Message-ID": make_msgid(domain=site_host()),
            "Content-Language": language,
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(html, "text/html")
    if ics:
        message.attach("invite.ics", ics, "text/calendar")
    return message


def needs_manage_link(delivery):
    """Every message carries the personal manage link, except to people with nothing left
    to manage (the event or their registration is cancelled)."""
    return delivery.kind != Kind.EVENT_CANCELLED and (
        delivery.registration.status != Registration.Status.CANCELLED
    )


def _calendar(delivery, *, status, language, url, cache):
    """The .ics for this message, or None where a calendar entry would mislead (waiting
    list, awaiting approval, declined)."""
    kind, event, registration = delivery.kind, delivery.event, delivery.registration
    attending = status == Registration.Status.CONFIRMED
    if kind == Kind.REJECTED or (
        kind in (Kind.CONFIRMATION, Kind.APPROVED, Kind.TIME_CHANGED) and not attending
    ):
        return None
    cancelled = kind in CANCEL_KINDS
    meeting = kind in MEETING_KINDS
    options = {
        "event": event,
        "sequence": calendar_sequence(kind, event),
        "method": "CANCEL" if cancelled else "PUBLISH",
        "cancelled": cancelled or event.status == Event.Status.CANCELLED,
        "meeting_url": event.meeting_url if meeting else "",
        "meeting_details": event.meeting_details if meeting else "",
        "language": language,
        "url": url,
    }
    uid = calendar_uid(event=event, registration=registration)
    uid_line = f"UID:{uid}".encode()
    if len(uid_line) > 75:  # folded over two lines: no simple swap
        return build_calendar(uid=uid, **options)
    # Building a calendar (VTIMEZONE transitions, serialisation) costs more than the rest of
    # the message, and within a batch only the UID differs between registrants: build once
    # per event, kind and language, then swap the UID line in.
    key = ("ics", event.pk, event.sequence, kind, language, url)
    if key not in cache:
        cache[key] = build_calendar(uid=UID_PLACEHOLDER, **options)
    return cache[key].replace(f"UID:{UID_PLACEHOLDER}".encode(), uid_line, 1)
