"""From the bytes of an exported report to rows of cells, and from cells to minutes and times.

The three products export differently: Zoom writes UTF-8 comma-separated values (with a
byte-order mark since 2022), Microsoft Teams UTF-16 LE with a byte-order mark and tabs, and
a report opened and saved again in Excel may come back as UTF-8 with a BOM, Windows-1252,
or separated by semicolons (a comma-decimal locale). So the encoding and the delimiter are
sniffed here, never assumed from the product.
"""

import codecs
import csv
import io
import re
from datetime import datetime

from dateutil import parser as dateparser
from django.utils.translation import gettext as _

# Enough for tens of thousands of participant rows (a row is ~150 bytes; Teams doubles it).
MAX_REPORT_BYTES = 5 * 1024 * 1024
# Lines looked at to choose the delimiter: the header block and the first participants.
SNIFF_LINES = 40
DELIMITERS = (",", "\t", ";")


class ReportError(ValueError):
    """The file cannot be read as a participant report; `message` says why, for a person."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def decode(data: bytes) -> str:
    """The report's text: BOM first (UTF-8, UTF-16 LE/BE), then UTF-16 recognised by its
    NUL bytes (a Teams file saved without BOM), then UTF-8, then Windows-1252 (which decodes
    any byte, so an Excel-saved file with accents still reads)."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return _decode(data, encoding)
    head = data[:200]
    if head and head.count(0) * 3 > len(head):
        # ASCII text in UTF-16 has a NUL in every other byte: after (LE) or before (BE).
        encoding = "utf-16-le" if head[1::2].count(0) > head[0::2].count(0) else "utf-16-be"
        return _decode(data, encoding)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _decode(data, encoding):
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise ReportError(
            _("The file says it is %(encoding)s text but is not: export the report again.")
            % {"encoding": encoding.upper().replace("-SIG", "")}
        ) from None


def sniff_delimiter(text: str) -> str:
    """The delimiter seen most often in the first lines outside quotes. csv.Sniffer is not
    used: it gives up on Zoom's header block followed by a longer participants table, and a
    Teams date ("7/22/26, 7:02 PM") puts commas beside the tabs."""
    counts = dict.fromkeys(DELIMITERS, 0)
    for line in text.splitlines()[:SNIFF_LINES]:
        unquoted = re.sub(r'"[^"]*"', "", line)
        for delimiter in DELIMITERS:
            counts[delimiter] += unquoted.count(delimiter)
    return max(DELIMITERS, key=lambda delimiter: counts[delimiter])


def rows(text: str) -> list[list[str]]:
    """Every line as a list of cells, stripped; blank lines kept as [] (they end a table)."""
    reader = csv.reader(io.StringIO(text), delimiter=sniff_delimiter(text))
    try:
        return [[cell.strip() for cell in row] for row in reader]
    except csv.Error as error:
        raise ReportError(
            _("The file is not a readable table (%(error)s).") % {"error": error}
        ) from None


def header_key(cell: str) -> str:
    """A column name reduced to lower-case letters and digits: "Duration (Minutes)",
    "Duration(minutes)" and "duration minutes" are the one column."""
    return re.sub(r"[^a-z0-9]", "", cell.lower())


_UNITS = re.compile(
    r"(\d+(?:[.,]\d+)?)\s*(hours?|hrs|hr|h|minutes?|mins|min|m|seconds?|secs|sec|s)(?![a-z])"
)


def minutes(cell: str) -> float | None:
    """A duration in minutes from "47" or "47.5" (Zoom, Webex: minutes), "1h 2m 3s" or
    "62 min" (Teams), or "1:02:03" / "62:03" (hh:mm:ss, mm:ss). None when empty or "--"."""
    text = cell.strip().lower()
    if not text or text.strip("-") == "":
        return None
    if re.fullmatch(r"\d+(?:[.,]\d+)?", text):
        return float(text.replace(",", "."))
    if re.fullmatch(r"\d+(?::\d{1,2}){1,2}", text):
        parts = [int(part) for part in text.split(":")]
        if len(parts) == 2:
            parts.insert(0, 0)
        hours, mins, secs = parts
        return hours * 60 + mins + secs / 60
    found = _UNITS.findall(text)
    if found and _UNITS.sub("", text).strip(" ,") == "":
        total = 0.0
        for amount, unit in found:
            value = float(amount.replace(",", "."))
            total += (
                value * 60
                if unit.startswith("h")
                else value / 60
                if unit.startswith("s")
                else value
            )
        return total
    raise ReportError(_("“%(value)s” is not a duration.") % {"value": cell})


# How the products write a time, tried before dateutil's general parser (which is ten times
# slower: 5 s for the 10,000 times of a 5,000-row report): Zoom "03/10/2026 10:01:05 AM" and
# "Mar 10, 2026 10:01 AM", Teams "3/10/26, 10:01:05 AM", Webex "2026-03-10 10:01:05".
TIME_FORMATS = (
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%y, %I:%M:%S %p",
    "%m/%d/%Y, %I:%M:%S %p",
    "%b %d, %Y %I:%M:%S %p",
    "%b %d, %Y %I:%M %p",
)


def moment(cell: str) -> datetime | None:
    """A join or leave time as the report wrote it (no zone: only differences between times
    of one report are used). None when empty or not a date: a time is a refinement, the
    duration column is the fact."""
    text = cell.strip()
    if not text or text.strip("-") == "":
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=None)
    except ValueError:
        pass
    for time_format in TIME_FORMATS:
        try:
            return datetime.strptime(text, time_format)
        except ValueError:
            continue
    try:
        return dateparser.parse(text).replace(tzinfo=None)
    except (ValueError, OverflowError):
        return None
