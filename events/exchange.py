"""An event as JSON: what `import_event`, `export_event` and `seed_demo` read and write.

Keys (README "Events as JSON"): slug, title, summary, description, starts_at, ends_at (ISO 8601
with offset), timezone (IANA), format, status, meeting_url, meeting_details, capacity (null =
unlimited), waitlist (bool), approval ("automatic" | "organiser"), registration_opens_at,
registration_closes_at (null = open until start), meeting_link_send_at (null = 24 h before),
interpretation_languages (codes), agenda ([{starts_at, ends_at, title, description, speakers:
[{name, title, organisation}], translations}]), documents ([{kind, title, language, path}],
path relative to the JSON file), and optionally expected_outcomes (list of lines), organiser,
contact_email, venue, translations ({"fr": {"title": ...}, ...}).

Import is all or nothing: one transaction, and the first problem stops it with a message that
names the key, e.g. `agenda[2].starts_at: "25/06" is not an ISO 8601 date and time`. The
rules an event must keep (events/rules.py: the meeting link goes out before the start,
registration closes by the end, the agenda lies within the event) are the admin's, through
the models' clean(); what they only warn about is passed to `warn(key, message)`.
"""

import zoneinfo
from datetime import datetime
from pathlib import Path

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from events import rules, services
from events.documents import validate_document
from events.languages import UN_LANGUAGE_CODES
from events.models import AgendaItem, Document, Event, Speaker
from events.zones import known_timezone

REQUIRED = ["slug", "title", "starts_at", "ends_at", "timezone"]
OPTIONAL = {
    "summary": "",
    "description": "",
    "expected_outcomes": [],
    "organiser": "",
    "contact_email": "",
    "venue": "",
    "format": Event.Format.VIRTUAL,
    "status": Event.Status.DRAFT,
    "meeting_url": "",
    "meeting_details": "",
    "capacity": None,
    "waitlist": True,
    "approval": Event.Approval.AUTOMATIC,
    "registration_opens_at": None,
    "registration_closes_at": None,
    "meeting_link_send_at": None,
    "interpretation_languages": [],
    "agenda": [],
    "documents": [],
    "translations": {},
}
AGENDA_KEYS = {"starts_at", "ends_at", "title", "description", "speakers", "translations"}
SPEAKER_KEYS = {"name", "title", "organisation"}
DOCUMENT_KEYS = {"kind", "title", "language", "path"}
# Keys the apps above events add to the file (events must not import them): name ->
# (parse(value) -> parsed, raising EventDataError; save(*, event, parsed) inside the import's
# transaction; export(event) -> JSON-ready value). Registered from an AppConfig.ready().
extra_parts = {}

# JSON key -> model field, where they differ.
FIELD_FOR_KEY = {"waitlist": "waitlist_enabled"}
KEY_FOR_FIELD = {field: key for key, field in FIELD_FOR_KEY.items()}


class EventDataError(Exception):
    """A problem in the JSON; str() names the key, e.g. "agenda[1].title: required"."""

    def __init__(self, key, problem):
        self.key, self.problem = key, problem
        super().__init__(f"{key}: {problem}")


def _dt(value, key, *, required=True):
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise EventDataError(key, f"{value!r} is not an ISO 8601 date and time")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise EventDataError(key, f"{value!r} is not an ISO 8601 date and time") from None
    if parsed.tzinfo is None:
        raise EventDataError(
            key, f"{value!r} has no UTC offset (write e.g. 2021-06-25T12:30:00-04:00)"
        )
    return parsed


def _text(value, key, *, required=False):
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise EventDataError(key, "required text" if required else f"{value!r} is not text")
    if "\x00" in value:
        # PostgreSQL cannot store NUL in text; refuse it here rather than fail mid-import.
        raise EventDataError(key, "contains a NUL character")
    return value


def _choice(value, key, choices):
    if value not in choices.values:
        raise EventDataError(key, f"{value!r} is not one of {', '.join(choices.values)}")
    return value


def _language(value, key):
    if value not in UN_LANGUAGE_CODES:
        raise EventDataError(
            key, f"unknown language {value!r} (use one of {', '.join(UN_LANGUAGE_CODES)})"
        )
    return value


def _check_keys(data, allowed, key_prefix):
    if not isinstance(data, dict):
        raise EventDataError(key_prefix or "(top level)", "expected an object")
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        where = f"{key_prefix}." if key_prefix else ""
        raise EventDataError(f"{where}{unknown[0]}", "unknown key")


def _translations(value, key, model):
    if value in (None, {}):
        return {}
    if not isinstance(value, dict):
        raise EventDataError(key, 'expected an object like {"fr": {"title": "..."}}')
    result = {}
    for code, texts in value.items():
        _language(code, f"{key}.{code}")
        if not isinstance(texts, dict):
            raise EventDataError(f"{key}.{code}", "expected an object of texts")
        for field, text in texts.items():
            if field not in model.translatable_fields:
                raise EventDataError(
                    f"{key}.{code}.{field}",
                    f"not translatable (use {', '.join(model.translatable_fields)})",
                )
            if isinstance(text, list) and field == "expected_outcomes":
                text = "\n".join(str(line) for line in text)
            result.setdefault(code, {})[field] = _text(text, f"{key}.{code}.{field}")
    return result


def _full_clean(instance, key_prefix, **kwargs):
    """Model validation, with the first error named by its JSON key."""
    try:
        instance.full_clean(**kwargs)
    except ValidationError as error:
        if not hasattr(error, "error_dict"):
            raise EventDataError(key_prefix or "(event)", " ".join(error.messages)) from None
        field, errors = next(iter(error.error_dict.items()))
        message = " ".join(message for e in errors for message in e)
        if field == NON_FIELD_ERRORS:
            key = key_prefix or "(event)"
        else:
            field = KEY_FOR_FIELD.get(field, field)
            key = f"{key_prefix}.{field}" if key_prefix else field
        raise EventDataError(key, message) from None


def import_event(data, *, base_dir, warn=None):
    """Create or update (by slug) an event with its agenda, speakers and documents.

    All or nothing. Returns (event, created). Agenda items and documents are replaced by the
    file's; a time or meeting-link change of a published event is announced as for an edit.
    `warn(key, message)` hears what is allowed but probably a mistake (the event is saved).
    """
    _check_keys(data, [*REQUIRED, *OPTIONAL, *extra_parts], "")
    for key in REQUIRED:
        if key not in data:
            raise EventDataError(key, "missing (required)")
    values = {**OPTIONAL, **data}
    slug = _text(values["slug"], "slug", required=True)

    zone = values["timezone"]
    if not known_timezone(zone):
        raise EventDataError(
            "timezone", f"{zone!r} is not an IANA time zone (e.g. America/New_York)"
        )
    languages = values["interpretation_languages"]
    if not isinstance(languages, list):
        raise EventDataError("interpretation_languages", "expected a list of language codes")
    for index, code in enumerate(languages):
        _language(code, f"interpretation_languages[{index}]")
    capacity = values["capacity"]
    if capacity is not None and (not isinstance(capacity, int) or isinstance(capacity, bool)):
        raise EventDataError("capacity", f"{capacity!r} is not a whole number or null")
    if capacity is not None and capacity < 0:
        raise EventDataError("capacity", "must be 0 or more")
    if not isinstance(values["waitlist"], bool):
        raise EventDataError("waitlist", "expected true or false")
    outcomes = values["expected_outcomes"]
    if isinstance(outcomes, list):
        outcomes = "\n".join(
            _text(line, f"expected_outcomes[{i}]") for i, line in enumerate(outcomes)
        )
    fields = {
        "title": _text(values["title"], "title", required=True),
        "summary": _text(values["summary"], "summary"),
        "description": _text(values["description"], "description"),
        "expected_outcomes": _text(outcomes, "expected_outcomes"),
        "organiser": _text(values["organiser"], "organiser"),
        "contact_email": _text(values["contact_email"], "contact_email"),
        "venue": _text(values["venue"], "venue"),
        "starts_at": _dt(values["starts_at"], "starts_at"),
        "ends_at": _dt(values["ends_at"], "ends_at"),
        "timezone": zone,
        "format": _choice(values["format"], "format", Event.Format),
        "meeting_url": _text(values["meeting_url"], "meeting_url"),
        "meeting_details": _text(values["meeting_details"], "meeting_details"),
        "capacity": capacity,
        "waitlist_enabled": values["waitlist"],
        "approval": _choice(values["approval"], "approval", Event.Approval),
        "registration_opens_at": _dt(
            values["registration_opens_at"], "registration_opens_at", required=False
        ),
        "registration_closes_at": _dt(
            values["registration_closes_at"], "registration_closes_at", required=False
        ),
        "meeting_link_send_at": _dt(
            values["meeting_link_send_at"], "meeting_link_send_at", required=False
        ),
        "interpretation_languages": languages,
        "translations": _translations(values["translations"], "translations", Event),
    }
    status = _choice(values["status"], "status", Event.Status)
    agenda = _parse_agenda(values["agenda"])
    documents = _parse_documents(values["documents"], Path(base_dir))
    extras = {
        name: (save, parse(data[name]))
        for name, (parse, save, _export) in extra_parts.items()
        if name in data
    }

    with transaction.atomic():
        event = Event.objects.select_for_update().filter(slug=slug).first()
        created = event is None
        if created:
            event = Event(slug=slug)
        changed = [name for name, value in fields.items() if getattr(event, name) != value]
        old_zone = None if created else event.timezone
        for name, value in fields.items():
            setattr(event, name, value)
        cancel = status == Event.Status.CANCELLED and event.status != Event.Status.CANCELLED
        if not cancel:
            event.status = status
        _full_clean(event, "", validate_unique=created)
        warnings = rules.event_warnings(event)
        if old_zone is not None and old_zone != event.timezone:
            warnings.append(("timezone", _zone_change_warning(event, old_zone)))
        services.save_event(event=event, changed_fields=changed)
        if cancel:
            services.cancel_event(event=event)

        event.agenda_items.all().delete()
        for index, (item_fields, speakers) in enumerate(agenda):
            item = AgendaItem(event=event, position=index, **item_fields)
            _full_clean(item, f"agenda[{index}]", exclude=["event"])
            item.save()
            item.speakers.set(speakers_for(speakers))

        old_files = [document.file.name for document in event.documents.all()]
        event.documents.all().delete()
        for index, (document_fields, path) in enumerate(documents):
            with path.open("rb") as handle:
                document = Document(event=event, position=index, **document_fields)
                document.file.save(path.name, File(handle, name=path.name), save=False)
                document.full_clean(exclude=["event", "file"])
                document.save()
        storage = Document._meta.get_field("file").storage
        transaction.on_commit(lambda: [storage.delete(name) for name in old_files])
        for save, parsed in extras.values():
            save(event=event, parsed=parsed)
    for key, message in warnings if warn else ():
        warn(key, message)
    return event, created


def _zone_change_warning(event, old_zone):
    # The file's times carry their UTC offsets, so the instants are what it says; the organiser
    # may still have meant the old clock times, so say where the event now is on both clocks.
    return (
        f"changed from {old_zone} to {event.timezone}; the times in the file carry their UTC "
        f"offsets, so the event starts at {rules.format_moment(event.starts_at, event.tz)} "
        f"({rules.format_moment(event.starts_at, zoneinfo.ZoneInfo(old_zone))} in {old_zone})"
    )


def _parse_agenda(agenda):
    if not isinstance(agenda, list):
        raise EventDataError("agenda", "expected a list")
    parsed = []
    for index, item in enumerate(agenda):
        key = f"agenda[{index}]"
        _check_keys(item, AGENDA_KEYS, key)
        if "starts_at" not in item:
            raise EventDataError(f"{key}.starts_at", "missing (required)")
        if "title" not in item:
            raise EventDataError(f"{key}.title", "missing (required)")
        speakers = item.get("speakers") or []
        if not isinstance(speakers, list):
            raise EventDataError(f"{key}.speakers", "expected a list")
        clean_speakers = []
        for number, speaker in enumerate(speakers):
            speaker_key = f"{key}.speakers[{number}]"
            _check_keys(speaker, SPEAKER_KEYS, speaker_key)
            clean_speakers.append(
                {
                    "name": _text(speaker.get("name"), f"{speaker_key}.name", required=True),
                    "title": _text(speaker.get("title"), f"{speaker_key}.title"),
                    "organisation": _text(
                        speaker.get("organisation"), f"{speaker_key}.organisation"
                    ),
                }
            )
        parsed.append(
            (
                {
                    "starts_at": _dt(item["starts_at"], f"{key}.starts_at"),
                    "ends_at": _dt(item.get("ends_at"), f"{key}.ends_at", required=False),
                    "title": _text(item["title"], f"{key}.title", required=True),
                    "description": _text(item.get("description"), f"{key}.description"),
                    "translations": _translations(
                        item.get("translations"), f"{key}.translations", AgendaItem
                    ),
                },
                clean_speakers,
            )
        )
    return parsed


def _parse_documents(documents, base_dir):
    if not isinstance(documents, list):
        raise EventDataError("documents", "expected a list")
    parsed = []
    for index, document in enumerate(documents):
        key = f"documents[{index}]"
        _check_keys(document, DOCUMENT_KEYS, key)
        for required in ("title", "path"):
            if required not in document:
                raise EventDataError(f"{key}.{required}", "missing (required)")
        path = (base_dir / _text(document["path"], f"{key}.path", required=True)).resolve()
        # Only files in the JSON file's folder (or below it): an event file from someone else
        # must not publish /etc/passwd or a key, whatever path or symlink it names.
        if not path.is_relative_to(base_dir.resolve()):
            raise EventDataError(
                f"{key}.path", f"{document['path']!r} is outside the folder of the JSON file"
            )
        if not path.is_file():
            raise EventDataError(f"{key}.path", f"no such file: {path}")
        with path.open("rb") as handle:
            try:
                content_type = validate_document(File(handle, name=path.name))
            except ValidationError as error:
                raise EventDataError(f"{key}.path", " ".join(error.messages)) from None
        parsed.append(
            (
                {
                    "kind": _choice(
                        document.get("kind", Document.Kind.OTHER), f"{key}.kind", Document.Kind
                    ),
                    "title": _text(document["title"], f"{key}.title", required=True),
                    "language": _language(document.get("language", "en"), f"{key}.language"),
                    "content_type": content_type,
                    "size": path.stat().st_size,
                },
                path,
            )
        )
    return parsed


def speakers_for(speakers):
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


def _iso(value, zone):
    return timezone.localtime(value, zone).isoformat() if value else None


def export_event(event, *, document_path):
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
        "registration_opens_at": _iso(event.registration_opens_at, zone),
        "registration_closes_at": _iso(event.registration_closes_at, zone),
        "meeting_link_send_at": _iso(event.meeting_link_send_at, zone),
        "interpretation_languages": list(event.interpretation_languages),
        "translations": event.translations or {},
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
        **{name: export(event) for name, (_parse, _save, export) in extra_parts.items()},
    }
