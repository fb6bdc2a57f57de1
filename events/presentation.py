"""What the public pages show of an event, in the visitor's language and the event's zone.

Everything here reads the event and its prefetched rows only: no queries of its own.
"""

import functools
import re
from datetime import UTC

import markdown
import nh3
from django.conf import settings
from django.urls import reverse
from django.utils import formats
from django.utils.functional import cached_property
from django.utils.safestring import mark_safe

from events import ics
from events.languages import UN_LANGUAGES

_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")


@functools.lru_cache(maxsize=256)
def render_markdown(text):
    """Organiser Markdown (or HTML) -> HTML with only harmless tags and attributes left."""
    if not text:
        return ""
    html = markdown.markdown(text, extensions=["sane_lists"], output_format="html")
    return mark_safe(nh3.clean(html))  # noqa: S308 - nh3 removed every script and handler


def outcome_lines(text):
    """One outcome per line; list bullets or numbers the organiser typed are dropped."""
    return [_BULLET.sub("", line).strip() for line in (text or "").splitlines() if line.strip()]


def _utc_iso(value):
    return value.astimezone(UTC).isoformat() if value else ""


def _local_time(value, zone):
    return formats.time_format(value.astimezone(zone), "TIME_FORMAT") if value else ""


class AgendaRow:
    """One agenda item, its times already formatted in the event's zone: the template does
    no per-row filter work, so a 300-item agenda stays cheap to render."""

    def __init__(self, item, zone):
        self.item = item
        self.title = item.translated("title")
        self.description = item.translated("description")
        self.starts_utc = _utc_iso(item.starts_at)
        self.ends_utc = _utc_iso(item.ends_at)
        self.starts_local = _local_time(item.starts_at, zone)
        self.ends_local = _local_time(item.ends_at, zone)
        self.speakers = item.speakers.all()


class EventPage:
    """An Event as the public page shows it (the view passes `request` for absolute URLs)."""

    def __init__(self, event, request=None):
        self.event = event
        self.request = request

    @property
    def stamp(self):
        return self.event.updated_at.isoformat()

    @cached_property
    def title(self):
        return self.event.translated("title")

    @cached_property
    def summary(self):
        return self.event.translated("summary")

    @cached_property
    def description_html(self):
        return render_markdown(self.event.translated("description"))

    @cached_property
    def outcomes(self):
        return outcome_lines(self.event.translated("expected_outcomes"))

    @property
    def tz_name(self):
        return self.event.timezone

    @cached_property
    def crosses_midnight(self):
        return self.event.local_starts_at.date() != self.event.local_ends_at.date()

    @cached_property
    def interpretation_languages(self):
        names = dict(UN_LANGUAGES)
        return [names[code] for code in self.event.interpretation_languages if code in names]

    @cached_property
    def agenda(self):
        zone = self.event.tz
        return [AgendaRow(item, zone) for item in self.event.agenda_items.all()]

    @cached_property
    def documents(self):
        return list(self.event.documents.all())

    @cached_property
    def url(self):
        path = self.event.get_absolute_url()
        if self.request is not None:
            return self.request.build_absolute_uri(path)
        return settings.SITE_URL + path

    @cached_property
    def calendar_url(self):
        return reverse("events:calendar", kwargs={"slug": self.event.slug})

    @cached_property
    def google_calendar_url(self):
        return ics.google_calendar_url(self.event, self.url)

    @cached_property
    def outlook_calendar_url(self):
        return ics.outlook_calendar_url(self.event, self.url)

    @property
    def is_cancelled(self):
        return self.event.status == self.event.Status.CANCELLED

    @property
    def is_draft(self):
        return self.event.status == self.event.Status.DRAFT
