"""Validate and write: `import_event` saves a parsed event (events.exchange.parsing) with its
agenda, speakers and documents, in one transaction.

The rules an event must keep (events/rules.py) are the admin's, through the models' clean();
what they only warn about is passed to `warn(key, message)`.
"""

import zoneinfo
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.files import File
from django.db import models, transaction

from events import rules, services
from events.exchange.parsing import (
    KEY_FOR_FIELD,
    AgendaEntry,
    DocumentEntry,
    EventDataError,
    parse_event,
)
from events.models import AccessCode, AgendaItem, Document, Event, Speaker


def import_event(
    data: Any,
    *,
    base_dir: str | Path,
    warn: Callable[[str, str], object] | None = None,
) -> tuple[Event, bool]:
    """Create or update (by slug) an event with its agenda, speakers and documents.

    All or nothing. Returns (event, created). Agenda items and documents are replaced by the
    file's; a time or meeting-link change of a published event is announced as for an edit.
    `warn(key, message)` hears what is allowed but probably a mistake (the event is saved).
    """
    parsed = parse_event(data, base_dir=Path(base_dir))
    with transaction.atomic():
        event = Event.objects.select_for_update().filter(slug=parsed.slug).first()
        created = event is None
        if event is None:
            event = Event(slug=parsed.slug)
        old_zone = None if created else event.timezone
        changed, cancel = _assign(event, parsed.fields, parsed.status)
        # Validate: the rules the admin keeps (models' clean()), and what they warn about.
        _full_clean(event, "", validate_unique=created)
        warnings = _event_warnings(event, old_zone)
        # Write, through the services an edit in the admin uses.
        services.save_event(event=event, changed_fields=changed)
        if cancel:
            services.cancel_event(event=event)
        _replace_agenda(event, parsed.agenda)
        _replace_documents(event, parsed.documents)
        if parsed.teams is not None:
            event.teams.set(parsed.teams)
        for save, value in parsed.extras.values():
            save(event=event, parsed=value)
        _update_access_codes(event, parsed.access_codes)
    if warn is not None:
        for key, message in warnings:
            warn(key, message)
    return event, created


def _full_clean(instance: models.Model, key_prefix: str, **kwargs: Any) -> None:
    """Model validation, with the first error named by its JSON key."""
    try:
        instance.full_clean(**kwargs)
    except ValidationError as error:
        if not hasattr(error, "error_dict"):
            raise EventDataError(key_prefix or "(event)", " ".join(error.messages)) from None
        field, errors = next(iter(error.error_dict.items()))
        message = " ".join(message for e in errors for message in e.messages)
        if field == NON_FIELD_ERRORS:
            key = key_prefix or "(event)"
        else:
            field = KEY_FOR_FIELD.get(field, field)
            key = f"{key_prefix}.{field}" if key_prefix else field
        raise EventDataError(key, message) from None


def _assign(event: Event, fields: dict[str, Any], status: str) -> tuple[list[str], bool]:
    """Sets the file's values on `event`; returns (names of changed fields, cancel?)."""
    changed = [name for name, value in fields.items() if getattr(event, name) != value]
    for name, value in fields.items():
        setattr(event, name, value)
    # Cancelling goes through services.cancel_event(), which tells the registrants.
    cancel = status == Event.Status.CANCELLED and event.status != Event.Status.CANCELLED
    if not cancel:
        event.status = status
    return changed, cancel


def _event_warnings(event: Event, old_zone: str | None) -> list[tuple[str, str]]:
    warnings = rules.event_warnings(event)
    if old_zone is not None and old_zone != event.timezone:
        warnings.append(("timezone", _zone_change_warning(event, old_zone)))
    return warnings


def _zone_change_warning(event: Event, old_zone: str) -> str:
    # The file's times carry their UTC offsets, so the instants are what it says; the organiser
    # may still have meant the old clock times, so say where the event now is on both clocks.
    return (
        f"changed from {old_zone} to {event.timezone}; the times in the file carry their UTC "
        f"offsets, so the event starts at {rules.format_moment(event.starts_at, event.tz)} "
        f"({rules.format_moment(event.starts_at, zoneinfo.ZoneInfo(old_zone))} in {old_zone})"
    )


def _update_access_codes(event: Event, codes: list[dict[str, Any]]) -> None:
    """The file's codes, keeping the uses counted of those that stay; others are removed."""
    event.access_codes.exclude(code__in=[entry["code"] for entry in codes]).delete()
    for entry in codes:
        code = event.access_codes.filter(code=entry["code"]).first()
        if code is not None and entry["max_uses"] is not None and code.uses > entry["max_uses"]:
            raise EventDataError(
                "access_codes",
                f"{entry['code']!r} was used {code.uses} times already, more than max_uses",
            )
        AccessCode.objects.update_or_create(
            event=event, code=entry["code"], defaults={"max_uses": entry["max_uses"]}
        )


def _replace_agenda(event: Event, agenda: list[AgendaEntry]) -> None:
    event.agenda_items.all().delete()
    for index, (item_fields, speakers) in enumerate(agenda):
        item = AgendaItem(event=event, position=index, **item_fields)
        _full_clean(item, f"agenda[{index}]", exclude=["event"])
        item.save()
        item.speakers.set(speakers_for(speakers))


def _replace_documents(event: Event, documents: list[DocumentEntry]) -> None:
    old_files = [document.file.name for document in event.documents.all()]
    event.documents.all().delete()
    for index, (document_fields, path) in enumerate(documents):
        with path.open("rb") as handle:
            document = Document(event=event, position=index, **document_fields)
            document.file.save(path.name, File(handle, name=path.name), save=False)
            document.full_clean(exclude=["event", "file"])
            document.save()
    # The old files go only once the new rows are committed.
    storage = Document._meta.get_field("file").storage

    def delete_old_files() -> None:
        for name in old_files:
            if name:
                storage.delete(name)

    transaction.on_commit(delete_old_files)


def speakers_for(speakers: Iterable[dict[str, str]]) -> list[Speaker]:
    """Speakers by (name, organisation), created or updated; returns them in order."""
    result = []
    for values in speakers:
        speaker, _created = Speaker.objects.get_or_create(
            name=values["name"],
            organisation=values["organisation"],
            defaults={"title": values["title"]},
        )
        if speaker.title != values["title"]:
            speaker.title = values["title"]
            speaker.save(update_fields=["title"])
        result.append(speaker)
    return result
