"""The registrations as CSV: one row per registration, profile and answers, cells that a
spreadsheet would run as formulas made harmless, streamed in batches."""

import csv
import unicodedata

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext

from events.languages import UN_LANGUAGES
from registration.countries import country_name
from registration.csv_answers import answer_columns
from registration.models import Registration

Status = Registration.Status


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
    questions, answer_cells = answer_columns(queryset)
    languages = dict(UN_LANGUAGES)
    affiliations = dict(Registration.Affiliation.choices)
    statuses = dict(Status.choices)
    # Empty until a participant report is imported (registration.attendance).
    attended = {True: gettext("yes"), False: gettext("no")}
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
        gettext("Attended"),
        gettext("Minutes present"),
        *questions,
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
            attended.get(row.attended, ""),
            row.minutes_attended,
            *answer_cells(row),
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
