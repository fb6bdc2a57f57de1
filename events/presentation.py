"""What the public pages show of an event, in the visitor's language and the event's zone.

Everything here reads the event and rows the view fetched; the two queries of the event page
besides the event itself are here too (`agenda_values`, `document_rows`), so the page stays
at three queries however long the agenda.
"""

import functools
import re
import zoneinfo
from datetime import UTC
from html import escape

import markdown
import nh3
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.templatetags.static import static
from django.urls import reverse
from django.utils import dateformat, formats, translation
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from events import ics
from events.languages import UN_LANGUAGES
from events.models import AgendaItem, Document, translated_value

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


@functools.lru_cache(maxsize=32)
def _is_bidi(language):
    try:
        return translation.get_language_info(language)["bidi"]
    except KeyError:
        return False


def language_attrs(language, page_language=None, *, always=False):
    """' lang="en" dir="ltr"' for text in `language` on a page in `page_language`: nothing when
    they are the same (unless `always`), dir only when the direction differs (WCAG 3.1.2)."""
    page_language = page_language or translation.get_language() or "en"
    if language == page_language and not always:
        return ""
    attrs = f' lang="{language}"'
    if _is_bidi(language) != _is_bidi(page_language):
        attrs += ' dir="rtl"' if _is_bidi(language) else ' dir="ltr"'
    return mark_safe(attrs)  # noqa: S308 - language codes from our own list, no user input


class Localised:
    """Organiser text with the language it is in; `attrs` marks an English fallback."""

    __slots__ = ("attrs", "language", "text")

    def __init__(self, text, language, page_language):
        self.text = text
        self.language = language
        self.attrs = language_attrs(language, page_language)

    def __str__(self):
        return str(self.text)

    def __bool__(self):
        return bool(self.text)


def _utc_iso(value):
    # Whole seconds: HTML's datetime attribute allows at most three digits of fraction.
    return value.astimezone(UTC).isoformat(timespec="seconds") if value else ""


class _LocalTimes(dict):
    """Times of day in the event's zone, each formatted once per page: agenda items share
    them (one ends when the next starts), and formatting is most of a row's cost."""

    def __init__(self, zone):
        super().__init__()
        self.zone = zone
        self.format = formats.get_format("TIME_FORMAT")

    def __missing__(self, value):
        text = dateformat.time_format(value.astimezone(self.zone), self.format) if value else ""
        self[value] = text
        return text


def _time_html(value, text):
    return format_html('<time datetime="{}">{}</time>', _utc_iso(value), text)


AGENDA_VALUES = (
    "id",
    "starts_at",
    "ends_at",
    "title",
    "description",
    "translations",
    "speakers__name",
    "speakers__title",
    "speakers__organisation",
)


# The page's two other queries, built once (cloning a built queryset is cheaper than
# building it again, joins and all); each request adds its event.
@functools.cache
def _agenda_query():
    return AgendaItem.objects.order_by("starts_at", "position", "pk", "speakers__name").values_list(
        *AGENDA_VALUES
    )


@functools.cache
def _document_query():
    return Document.objects.order_by("position", "pk").values_list(
        "pk", "kind", "title", "language", "size"
    )


def agenda_values(event_id):
    """The agenda with its speakers in ONE query: a row per (item, speaker), in page order."""
    return list(_agenda_query().filter(event_id=event_id))


def _speaker_line(name, title, organisation):
    rest = "".join(f", {part}" for part in (title, organisation) if part)
    return (name, rest)


class AgendaRow:
    """One agenda item, its times and speakers already formatted: the template does no
    per-row filter or loop work, so a 300-item agenda stays cheap to render."""

    __slots__ = (
        "description",
        "ends_local",
        "ends_utc",
        "speakers_html",
        "starts_local",
        "starts_utc",
        "title",
    )

    def __init__(self, row, speakers, local_times, language):
        _id, starts_at, ends_at, title, description, translations = row[:6]
        self.title = Localised(*translated_value(translations, "title", title, language), language)
        self.description = Localised(
            *translated_value(translations, "description", description, language), language
        )
        self.starts_utc = _utc_iso(starts_at)
        self.ends_utc = _utc_iso(ends_at)
        self.starts_local = local_times[starts_at]
        self.ends_local = local_times[ends_at]
        self.speakers_html = _speakers_html(speakers) if speakers else ""


def _speakers_html(speakers):
    # Escaped here directly rather than through format_html per speaker: the agenda is
    # built on every uncached page view (README, "Speed code").
    items = "".join(
        f'<li><span class="fw-semibold">{escape(name)}</span>{escape(rest)}</li>'
        for name, rest in speakers
    )
    html = f'<ul class="list-unstyled small agenda-speakers">{items}</ul>'
    return mark_safe(html)  # noqa: S308 - every value in it escaped above


def agenda_rows(values, zone, language):
    rows, current, speakers = [], None, []
    local_times = _LocalTimes(zone)
    for row in values:
        if current is None or row[0] != current[0]:
            if current is not None:
                rows.append(AgendaRow(current, speakers, local_times, language))
            current, speakers = row, []
        if row[6]:
            speakers.append(_speaker_line(*row[6:9]))
    if current is not None:
        rows.append(AgendaRow(current, speakers, local_times, language))
    return rows


class DocumentRow:
    __slots__ = ("attrs", "kind", "language", "language_name", "size", "title", "url")

    def __init__(self, row, slug, page_language):
        pk, kind, self.title, self.language, size = row
        self.attrs = language_attrs(self.language, page_language, always=True)
        self.url = reverse("events:document", kwargs={"slug": slug, "pk": pk})
        self.kind = _DOCUMENT_KINDS.get(kind, kind)
        self.language_name = _LANGUAGE_NAMES.get(self.language, self.language)
        self.size = filesizeformat(size)


_DOCUMENT_KINDS = dict(Document.Kind.choices)
_LANGUAGE_NAMES = dict(UN_LANGUAGES)


def document_rows(event):
    """The documents of an event as the page lists them (one query, only what it shows)."""
    language = translation.get_language()
    rows = _document_query().filter(event_id=event.pk)
    return [DocumentRow(row, event.slug, language) for row in rows]


def span_texts(starts_at, ends_at, zone):
    """A span of time in `zone` as the active language writes it, in plain text: the weekday
    and date of the start, both times, the zone's abbreviation on that date (EDT in June),
    and, when the end falls on another day there, its weekday and date (else ""). The pages
    and the emails both format times through this."""
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    other_day = start.date() != end.date()
    return {
        "weekday": formats.date_format(start, "l"),
        "date": formats.date_format(start, "DATE_FORMAT"),
        "start": formats.time_format(start, "TIME_FORMAT"),
        "end": formats.time_format(end, "TIME_FORMAT"),
        "zone": start.tzname(),
        "end_weekday": formats.date_format(end, "l") if other_day else "",
        "end_date": formats.date_format(end, "DATE_FORMAT") if other_day else "",
        "end_datetime": formats.date_format(end, "DATETIME_FORMAT") if other_day else "",
    }


@functools.lru_cache(maxsize=256)
def _when(starts_at, ends_at, tz_name, language):
    # Memoised: a page shows the same few events again and again, and the locale's date
    # formats are costly. `language` is the active one, which the formats below read.
    zone = zoneinfo.ZoneInfo(tz_name)
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    local = span_texts(starts_at, ends_at, zone)
    utc = span_texts(starts_at, ends_at, UTC)
    return {
        "date": format_html(
            '<time datetime="{}">{}</time>', start.date().isoformat(), local["date"]
        ),
        "start": _time_html(start, local["start"]),
        "end": _time_html(end, local["end_datetime"] or local["end"]),
        "zone": format_html(
            '<abbr class="event-zone" title="{}">{}</abbr>', tz_name, local["zone"]
        ),
        # The same as plain text, for the link preview's <meta> tags.
        "text": {
            "date": local["date"],
            "start": local["start"],
            "end": local["end_datetime"] or local["end"],
            "zone": local["zone"],
        },
        "place": tz_name,
        "utc_date": utc["date"],
        "utc_start": f"{starts_at.astimezone(UTC):%H:%M}",
        "utc_end": f"{ends_at.astimezone(UTC):%H:%M}",
        "starts_utc": _utc_iso(starts_at),
        "ends_utc": _utc_iso(ends_at),
    }


# Open Graph wants a territory in its locales.
_OG_LOCALES = {
    "ar": "ar_AR",
    "zh-hans": "zh_CN",
    "en": "en_US",
    "fr": "fr_FR",
    "ru": "ru_RU",
    "es": "es_ES",
}


class EventPage:
    """An Event as the public pages show it (the event page's view passes the agenda and
    documents it fetched)."""

    def __init__(self, event, *, agenda=None, documents=None):
        self.event = event
        self.language = translation.get_language() or "en"
        self._agenda_values = agenda or []
        self.documents = documents or []

    @property
    def stamp(self):
        return self.event.updated_at.isoformat()

    def _localised(self, field):
        return Localised(*self.event.translated_with_language(field, self.language), self.language)

    @cached_property
    def title(self):
        return self._localised("title")

    @cached_property
    def summary(self):
        return self._localised("summary")

    @cached_property
    def description(self):
        text, language = self.event.translated_with_language("description", self.language)
        return Localised(render_markdown(text), language, self.language)

    @cached_property
    def outcomes(self):
        text, language = self.event.translated_with_language("expected_outcomes", self.language)
        return Localised(outcome_lines(text), language, self.language)

    @property
    def tz_name(self):
        return self.event.timezone

    @cached_property
    def when(self):
        """The event's date and times in its zone and in UTC, as safe HTML parts for the
        translatable sentences of the templates (the locale's own date and time formats)."""
        event = self.event
        return _when(event.starts_at, event.ends_at, event.timezone, self.language)

    @cached_property
    def interpretation_languages(self):
        names = dict(UN_LANGUAGES)
        return [names[code] for code in self.event.interpretation_languages if code in names]

    @cached_property
    def agenda(self):
        return agenda_rows(self._agenda_values, self.event.tz, self.language)

    @cached_property
    def url(self):
        # SITE_URL, never the Host header: the page is cached and served to everyone.
        return settings.SITE_URL + self.event.get_absolute_url()

    @property
    def image_url(self):
        """The picture a shared link shows (the site's icon)."""
        return settings.SITE_URL + static("icon-512.png")

    @property
    def og_locale(self):
        return _OG_LOCALES.get(self.language, "en_US")

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
