"""IANA time zones: which names are valid, and the list organisers pick from."""

import functools
import zoneinfo
from datetime import datetime

from django.utils import timezone

# Offered first: where UN side events mostly happen. Every name here must be a real IANA
# zone (Geneva is in Europe/Zurich; there is no Europe/Geneva); a test checks it.
COMMON_ZONES = [
    "America/New_York",
    "Europe/Zurich",
    "Europe/Vienna",
    "Africa/Nairobi",
    "Asia/Bangkok",
    "America/Santiago",
    "Asia/Beirut",
    "Europe/Paris",
    "Europe/London",
    "UTC",
]


@functools.cache
def zone_names():
    """Every IANA zone name this system knows (read from disk once per process)."""
    return frozenset(zoneinfo.available_timezones())


def known_timezone(name):
    return isinstance(name, str) and name in zone_names()


@functools.cache
def _by_lower_case():
    return {name.lower(): name for name in zone_names()}


def canonical_zone(typed):
    """The IANA spelling of a zone typed in any case ("europe/zurich"), or None."""
    if not isinstance(typed, str):
        return None
    return _by_lower_case().get(typed.strip().lower())


@functools.cache
def _zone(name):
    # ZoneInfo keeps only a few zones strongly; listing all 600 would re-read them from disk.
    return zoneinfo.ZoneInfo(name)


def utc_offset(name, at=None):
    """The zone's UTC offset at `at` (now), as "+02:00", and in seconds."""
    moment = timezone.localtime(at or timezone.now(), _zone(name))
    seconds = int(moment.utcoffset().total_seconds())
    sign = "+" if seconds >= 0 else "-"
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return f"{sign}{hours:02d}:{minutes:02d}", seconds


def offered_zones(at=None):
    """[(name, "+02:00", seconds)]: the common zones first, then all others by name."""
    at = at or datetime.now(tz=zoneinfo.ZoneInfo("UTC"))
    rest = sorted(zone_names() - set(COMMON_ZONES))
    return [(name, *utc_offset(name, at)) for name in [*COMMON_ZONES, *rest]]
