"""Every message Convene sends is built here, from one template trio per kind:
templates/emails/<kind>/subject.txt, body.txt and body.html, rendered in the registrant's
language, with the event's times in its own zone and an .ics where it helps.
"""

import functools
import re
import zoneinfo
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import make_msgid
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template import Context, Engine
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format, time_format

from events.ics import build_invitations, invitation_sequence
from events.models import AgendaItem, Event
from events.presentation import span_texts
from notifications import message_render, message_rules
from notifications.fast import merge
from notifications.fast.mime import OutboxEmail
from notifications.models import Delivery
from registration.models import Registration
from registration.questions import answered, questions_for
from registration.services import issue_manage_token
from registration.verification import awaits_verification

Kind = Delivery.Kind

# Messages that carry the meeting link and details; no other message ever does.
MEETING_KINDS = {Kind.MEETING_LINK, Kind.EVENT_CHANGED}
# Messages whose .ics removes the entry from the registrant's calendar.
CANCEL_KINDS = {Kind.CANCELLED, Kind.EVENT_CANCELLED}
# Messages whose .ics puts the entry in the calendar of a confirmed registrant.
INVITING_KINDS = {
    Kind.CONFIRMATION,
    Kind.APPROVED,
    Kind.WAITLIST_PROMOTED,
    Kind.TIME_CHANGED,
    Kind.MEETING_LINK,
    Kind.EVENT_CHANGED,
}
CALENDAR_CONTENT_TYPE = "text/calendar; method={method}; charset=utf-8"

# build_message's `cache` kept from one batch to the next in this process (shared_cache).
SHARED_ENTRIES = 256
_shared: dict = {}


def shared_cache() -> dict:
    """A `cache` for build_message that outlives the batch: what messages about one event
    share (its facts and agenda, each group's rendered templates, its calendar file) is
    computed once per process, not once per task. Why: a confirmation is a batch of one, so
    a per-batch cache saved it nothing; it cost about 21 ms of worker CPU, against 2.5 ms per
    message of a meeting-link batch.

    Every key names the event's pk and updated_at (and sequence): any edit of an event saves
    it, which changes updated_at, as the event page cache also relies on (events.cache). The
    calendar file gets each message's own DTSTAMP and SEQUENCE (ics.build_invitations).
    Bounded: emptied when it holds SHARED_ENTRIES entries, and when a setting changes."""
    if len(_shared) >= SHARED_ENTRIES:
        _shared.clear()
    return _shared


@receiver(setting_changed)
def forget_shared(**kwargs: Any) -> None:
    _shared.clear()


def site_host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def event_times(event: Event) -> dict[str, str]:
    """The event's date and times in its own zone (with the abbreviation valid on that date,
    EDT in June) and in UTC, formatted for the active language (events.presentation's
    span_texts, which the pages use too)."""
    utc = span_texts(event.starts_at, event.ends_at, UTC)
    send_at = timezone.localtime(event.effective_meeting_link_send_at, event.tz)
    return {
        **span_texts(event.starts_at, event.ends_at, event.tz),
        "zone_name": event.timezone,
        "utc_date": utc["date"],
        "utc_start": utc["start"],
        "utc_end": utc["end"],
        "utc_end_weekday": utc["end_weekday"],
        "utc_end_date": utc["end_date"],
        "link_send_date": date_format(send_at, "DATE_FORMAT"),
        "link_send_time": time_format(send_at, "TIME_FORMAT"),
        "link_send_zone": send_at.tzname(),
    }


def registrant_zone(event: Event, registration: Registration) -> str:
    """The IANA zone the registrant gave on the form, when it is a real one other than the
    event's (their own time is then shown beside the event's), else ""."""
    name = registration.timezone
    if not name or name == event.timezone or name not in _zone_names():
        return ""
    return name


@functools.cache
def _zone_names():
    return frozenset(zoneinfo.available_timezones())


def times_in(zone_name: str, starts_at: datetime, ends_at: datetime) -> dict[str, str]:
    """span_texts in the zone `zone_name`, with its name."""
    return {
        **span_texts(starts_at, ends_at, zoneinfo.ZoneInfo(zone_name)),
        "zone_name": zone_name,
    }


def previous_time(event: Event, kind: str) -> dict[str, str] | None:
    """The event's date and time before its last change (what the registrant was told), for
    the messages that announce a change, when it differs from the current one; else None."""
    if kind not in (Kind.TIME_CHANGED, Kind.EVENT_CHANGED):
        return None
    if not event.previous_starts_at or not event.previous_ends_at:  # set together
        return None
    if kind == Kind.EVENT_CHANGED and (
        not event.time_changed_at
        or not event.changed_at
        # This notice is about a later change of the link alone.
        or event.changed_at - event.time_changed_at
        >= timedelta(minutes=settings.EVENT_CHANGE_NOTICE_DELAY_MINUTES)
    ):
        return None
    previous = (event.previous_starts_at, event.previous_ends_at, event.previous_timezone)
    if previous == (event.starts_at, event.ends_at, event.timezone):
        return None
    zone_name = event.previous_timezone or event.timezone
    return times_in(zone_name, event.previous_starts_at, event.previous_ends_at)


def agenda(event: Event) -> list[dict[str, str]]:
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
    key = (event.pk, event.sequence, event.updated_at, language)
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


def _registrant_times(event, zone_name, language, cache):
    """The event's times in the registrant's own zone (None when they gave none, or the
    event's), once per batch and zone."""
    if not zone_name:
        return None
    key = ("yours", event.pk, event.sequence, event.updated_at, language, zone_name)
    if key not in cache:
        cache[key] = times_in(zone_name, event.starts_at, event.ends_at)
    return cache[key]


def _isolates(bidi):
    """In right-to-left emails, left-to-right runs (titles, URLs, meeting details) are
    isolated so that their punctuation and slashes stay where they belong. The plain text
    wraps them in Unicode isolates, FSI ... PDI; a URL keeps a space on each side inside
    them, so no mail client takes the marks for part of the link."""
    if not bidi:
        return {"url_fsi": "", "url_pdi": ""}
    return {"url_fsi": "\u2068 ", "url_pdi": " \u2069"}


def _isolated(context, bidi):
    """The values the bodies show isolated in a right-to-left email (see _isolates):
    {"isolated_text": ..., "isolated_html": ...}, which render_email lays over the context
    of each body. In HTML, URLs and meeting details sit in elements with `dir`; the title and
    the contact address stand inside translated sentences, between quotes, where a tag
    around them would split a word for spam filters (SpamAssassin's HTML_OBFUSCATE counts
    "«<bdi>"), so they carry the same Unicode isolates as in the text."""
    if not bidi:
        return {}
    inline = {
        key: f"\u2068{context[key]}\u2069"
        for key in ("event_title", "contact_email", "organiser")
        if context.get(key)
    }
    text = dict(inline)
    if context.get("meeting_details"):
        # Each line is a paragraph of its own, and a paragraph ends every isolate.
        lines = context["meeting_details"].splitlines()
        text["meeting_details"] = "\n".join(f"\u2068{line}\u2069" for line in lines)
    return {"isolated_text": text, "isolated_html": inline}


def render_email(kind: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """(subject, text, html) for `kind` in the active language."""
    folder = f"emails/{kind}"
    if "message_parts" in context:  # an organiser's message: the registrant's values go in
        personal = message_render.personalise(
            context["message_parts"], name=context["name"], manage_url=context["manage_url"]
        )
        context = {
            **context,
            "message_subject": personal[0],
            "message_text": personal[1],
            "message_html": personal[2],
        }
    # Subject and text are not HTML: rendered through the engine, without autoescaping.
    engine = Engine.get_default()
    subject: str = engine.get_template(f"{folder}/subject.txt").render(
        Context(context, autoescape=False)
    )
    text: str = engine.get_template(f"{folder}/body.txt").render(
        Context({**context, **context.get("isolated_text", {})}, autoescape=False)
    )
    html = get_template(f"{folder}/body.html").render(
        {**context, **context.get("isolated_html", {})}
    )
    subject = re.sub(r"\s+", " ", subject).strip()
    text = re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
    return subject, text, html


def build_message(
    *, delivery: Delivery, cache: dict | None = None, token: str | None = None
) -> OutboxEmail:
    """The complete email for `delivery`: subject, plain text, HTML, .ics where it helps,
    and a personal manage link (`token`, or a fresh one), all in the registrant's language.
    Pass the same `cache` dict for a batch: what registrants share is computed once."""
    registration, event = delivery.registration, delivery.event
    cache = {} if cache is None else cache
    language = registration.preferred_language or settings.LANGUAGE_CODE
    status = delivery.context.get("status") or registration.status
    note = delivery.context.get("message", "")  # the organiser's, with a rejection
    link_sent = event.effective_meeting_link_send_at <= timezone.now()
    # A meeting-link message that also confirms the registration (see
    # notifications.services.queueing.queue_for_registration_change): the kind it stands in for.
    announces = delivery.context.get("announces", "")
    zone_name = registrant_zone(event, registration)
    with translation.override(language):
        manage_url = ""
        if needs_manage_link(delivery):
            token = token or issue_manage_token(registration=registration)
            manage_url = absolute(reverse("registration:manage", kwargs={"token": token}))
        context = {
            **_event_facts(event, language, cache),
            "page_title": event.translated("title"),
            "site_name": settings.SITE_NAME,
            "site_url": settings.SITE_URL,
            "language": language,
            "bidi": translation.get_language_bidi(),
            "status": status,
            # A time-change notice to someone who never clicked the verification link
            # repeats it: the link stays valid after the change.
            "unverified": awaits_verification(registration),
            "message": note,
            "organiser": event.organiser,
            "contact_email": event.contact_email,
            "link_sent": link_sent,
            "announces": announces,
            "hold_minutes": int(event.effective_verification_hold.total_seconds() // 60),
            "yours": _registrant_times(event, zone_name, language, cache),
            "was": previous_time(event, delivery.kind),
            **_isolates(translation.get_language_bidi()),
        }
        # The confirmation repeats the answers, so the registrant can check them.
        answers: tuple[tuple[str, str], ...] = ()
        if delivery.kind == Kind.CONFIRMATION and registration.answers:
            answers = tuple(answered(questions_for(event), registration.answers, language))
        context["answers"] = answers
        organisers = message_rules.message_of(delivery) if delivery.kind == Kind.MESSAGE else None
        if organisers is not None:
            context["message_parts"] = message_render.parts(organisers, language, cache)
            context["include_meeting"] = organisers.include_meeting_link
        if delivery.kind in MEETING_KINDS or context.get("include_meeting"):
            context["meeting_url"] = event.meeting_url
            context["meeting_details"] = event.meeting_details
        context.update(_isolated(context, translation.get_language_bidi()))
        subject, text, html = merge.render_personal(
            render_email,
            delivery.kind,
            context,
            {"name": registration.name, "manage_url": manage_url},
            group=(
                event.pk,
                event.updated_at,
                language,
                status,
                context["unverified"],
                note,
                bool(manage_url),
                link_sent,
                announces,
                zone_name,
                answers,
                organisers and (organisers.pk, organisers.updated_at),
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
        method, body = ics
        # Gmail and Outlook show a file as an invitation only with its method in the type.
        message.attach("invite.ics", body, CALENDAR_CONTENT_TYPE.format(method=method))
    return message


def needs_manage_link(delivery: Delivery) -> bool:
    """Every message carries the personal manage link, except to people with nothing left
    to manage (the event or their registration is cancelled)."""
    return delivery.kind != Kind.EVENT_CANCELLED and (
        delivery.registration.status != Registration.Status.CANCELLED
    )


def _calendar(delivery, *, status, language, url, cache):
    """(method, .ics bytes) for this message, or None where a calendar entry would mislead
    (waiting list, awaiting approval, declined, a registration cancelled since).

    An invitation (REQUEST) to a confirmed registrant, a CANCEL when the registration or the
    event is cancelled; the UID and SEQUENCE rules are in events/ics.py. Within a batch only
    the ATTENDEE line differs between registrants, so each file is built once per event,
    kind and language and that line is swapped in (ics.build_invitations)."""
    kind, event, registration = delivery.kind, delivery.event, delivery.registration
    if kind in CANCEL_KINDS:
        method = "CANCEL"
    elif (
        kind in INVITING_KINDS
        and status == Registration.Status.CONFIRMED
        and registration.status == Registration.Status.CONFIRMED
    ):
        method = "REQUEST"
    else:
        return None
    meeting = kind in MEETING_KINDS
    key = ("ics", event.pk, event.sequence, event.updated_at, method, meeting, language, url)
    if key not in cache:
        cache[key] = build_invitations(
            event=event,
            sequence=invitation_sequence(),
            method=method,
            cancelled=method == "CANCEL" or event.status == Event.Status.CANCELLED,
            meeting_url=event.meeting_url if meeting else "",
            meeting_details=event.meeting_details if meeting else "",
            language=language,
            url=url,
        )
    # Built once, perhaps batches ago: this message's own DTSTAMP and SEQUENCE swapped in, so
    # a later message always carries a higher SEQUENCE than an earlier one.
    now = timezone.now()
    return method, cache[key](
        registration.email, registration.name, sequence=invitation_sequence(now), now=now
    )
