"""IANA time zones: which names are valid, and the list organisers pick from."""

import functools
import zoneinfo
from datetime import datetime
from typing import Any

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
def zone_names() -> frozenset[str]:
    """Every IANA zone name this system knows (read from disk once per process)."""
    return frozenset(zoneinfo.available_timezones())


def known_timezone(name: Any) -> bool:
    return isinstance(name, str) and name in zone_names()


@functools.cache
def _by_lower_case() -> dict[str, str]:
    return {name.lower(): name for name in zone_names()}


def canonical_zone(typed: Any) -> str | None:
    """The IANA spelling of a zone typed in any case ("europe/zurich"), or None."""
    if not isinstance(typed, str):
        return None
    return _by_lower_case().get(typed.strip().lower())


@functools.cache
def _zone(name: str) -> zoneinfo.ZoneInfo:
    # ZoneInfo keeps only a few zones strongly; listing all 600 would re-read them from disk.
    return zoneinfo.ZoneInfo(name)


def utc_offset(name: str, at: datetime | None = None) -> tuple[str, int]:
    """The zone's UTC offset at `at` (now), as "+02:00", and in seconds."""
    moment = timezone.localtime(at or timezone.now(), _zone(name))
    offset = moment.utcoffset()
    assert offset is not None  # aware: it has a zone
    seconds = int(offset.total_seconds())
    sign = "+" if seconds >= 0 else "-"
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return f"{sign}{hours:02d}:{minutes:02d}", seconds


def offered_zones(at: datetime | None = None) -> list[tuple[str, str, int]]:
    """[(name, "+02:00", seconds)]: the common zones first, then all others by name."""
    at = at or datetime.now(tz=zoneinfo.ZoneInfo("UTC"))
    rest = sorted(zone_names() - set(COMMON_ZONES))
    return [(name, *utc_offset(name, at)) for name in [*COMMON_ZONES, *rest]]
