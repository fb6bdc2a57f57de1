"""Export: an event as the JSON that import_event reads (events/exchange/__init__.py)."""

from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Any

from django.utils import timezone

from events.exchange.parsing import extra_parts
from events.models import Document, Event


def _iso(value: datetime | None, zone: tzinfo) -> str | None:
    return timezone.localtime(value, zone).isoformat() if value else None


def export_event(event: Event, *, document_path: Callable[[Document], str]) -> dict[str, Any]:
    """The event as a JSON-ready dict. `document_path(document)` says what to write as path."""
    zone = event.tz
    return {
        "slug": event.slug,
        "title": event.title,
        "summary": event.summary,
        "description": event.description,
        "expected_outcomes": [
            line for line in event.expected_outcomes.splitlines() if line.strip()
        ],
        "organiser": event.organiser,
        "contact_email": event.contact_email,
        "venue": event.venue,
        "starts_at": _iso(event.starts_at, zone),
        "ends_at": _iso(event.ends_at, zone),
        "timezone": event.timezone,
        "format": event.format,
        "status": event.status,
        "meeting_url": event.meeting_url,
        "meeting_details": event.meeting_details,
        "capacity": event.capacity,
        "waitlist": event.waitlist_enabled,
        "approval": event.approval,
        "registration_mode": event.registration_mode,
        "verification_hold_minutes": event.verification_hold_minutes,
        "proof_of_work": event.proof_of_work,
        "access_codes": [
            {"code": code.code, "max_uses": code.max_uses} for code in event.access_codes.all()
        ],
        "registration_opens_at": _iso(event.registration_opens_at, zone),
        "registration_closes_at": _iso(event.registration_closes_at, zone),
        "meeting_link_send_at": _iso(event.meeting_link_send_at, zone),
        "interpretation_languages": list(event.interpretation_languages),
        "translations": event.translations or {},
        "teams": sorted(event.teams.values_list("slug", flat=True)),
        **{name: export(event) for name, (_parse, _save, export) in extra_parts.items()},
        "agenda": [
            {
                "starts_at": _iso(item.starts_at, zone),
                "ends_at": _iso(item.ends_at, zone),
                "title": item.title,
                "description": item.description,
                "speakers": [
                    {"name": s.name, "title": s.title, "organisation": s.organisation}
                    for s in item.speakers.all()
                ],
                "translations": item.translations or {},
            }
            for item in event.agenda_items.prefetch_related("speakers")
        ],
        "documents": [
            {
                "kind": document.kind,
                "title": document.title,
                "language": document.language,
                "path": document_path(document),
            }
            for document in event.documents.all()
        ],
    }
