"""Parse: an event's JSON (see events/exchange/__init__.py) to model field values.

Nothing is written here. The first problem stops the parse with an EventDataError that names
its key, e.g. `agenda[2].starts_at: "25/06" is not an ISO 8601 date and time`; the keys are
checked in a fixed order, so the same file always gets the same message.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import models

from events.documents import validate_document
from events.languages import UN_LANGUAGE_CODES
from events.models import (
    AgendaItem,
    Document,
    Event,
    Team,
    normalise_access_code,
    validate_access_code,
)
from events.zones import known_timezone

REQUIRED = ["slug", "title", "starts_at", "ends_at", "timezone"]
OPTIONAL: dict[str, object] = {
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
    # None: "verify_email" for an event with a capacity, else "open" (see _registration_mode).
    "registration_mode": None,
    "verification_hold_minutes": None,
    "access_codes": [],
    # None: an existing event keeps its setting (a new one is off), so re-importing an older
    # file does not lift the protection of an event under attack.
    "proof_of_work": None,
    "registration_opens_at": None,
    "registration_closes_at": None,
    "meeting_link_send_at": None,
    "interpretation_languages": [],
    "agenda": [],
    "documents": [],
    "translations": {},
    "teams": None,
}
AGENDA_KEYS = {"starts_at", "ends_at", "title", "description", "speakers", "translations"}
SPEAKER_KEYS = {"name", "title", "organisation"}
DOCUMENT_KEYS = {"kind", "title", "language", "path"}
# JSON key -> model field, where they differ.
FIELD_FOR_KEY = {"waitlist": "waitlist_enabled"}
KEY_FOR_FIELD = {field: key for key, field in FIELD_FOR_KEY.items()}

# Keys the apps above events add to the file (events must not import them): name ->
# (parse(value) -> parsed, raising EventDataError; save(*, event, parsed) inside the import's
# transaction; export(event) -> JSON-ready value). Registered from an AppConfig.ready().
ExtraPart = tuple[Callable[[Any], Any], Callable[..., None], Callable[[Event], Any]]
extra_parts: dict[str, ExtraPart] = {}

# Parsed, ready for the models: field values, with an agenda item's speakers or a document's
# file path beside them.
AgendaEntry = tuple[dict[str, Any], list[dict[str, str]]]
DocumentEntry = tuple[dict[str, Any], Path]


class EventDataError(Exception):
    """A problem in the JSON; str() names the key, e.g. "agenda[1].title: required"."""

    def __init__(self, key: str, problem: str) -> None:
        self.key, self.problem = key, problem
        super().__init__(f"{key}: {problem}")


@dataclass(frozen=True)
class ParsedEvent:
    slug: str
    fields: dict[str, Any]  # the Event's fields but slug and status
    status: str
    agenda: list[AgendaEntry]
    documents: list[DocumentEntry]
    teams: list[Team] | None  # None: the key was left out (an existing event keeps its teams)
    # name -> (save, parsed value) of the extra_parts the file has
    extras: dict[str, tuple[Callable[..., None], Any]]
    access_codes: list[dict[str, Any]]


def parse_event(data: Any, *, base_dir: Path) -> ParsedEvent:
    """The whole file, checked key by key (document files included) before anything is
    written. Raises EventDataError for the first problem."""
    values = _parse_top_level(data)
    # Keyword arguments are evaluated in order: this is the order the keys are checked in.
    return ParsedEvent(
        slug=_text(values["slug"], "slug", required=True),
        fields=_parse_event_fields(values),
        status=_choice(values["status"], "status", Event.Status),
        agenda=_parse_agenda(values["agenda"]),
        documents=_parse_documents(values["documents"], base_dir),
        teams=_parse_teams(values["teams"]),
        extras={
            name: (save, parse(values[name]))
            for name, (parse, save, _export) in extra_parts.items()
            if name in values
        },
        access_codes=_parse_access_codes(values["access_codes"]),
    )


def _parse_top_level(data: Any) -> dict[str, Any]:
    """The event's keys, checked, with the defaults of the optional ones filled in."""
    _check_keys(data, [*REQUIRED, *OPTIONAL, *extra_parts], "")
    for key in REQUIRED:
        if key not in data:
            raise EventDataError(key, "missing (required)")
    return {**OPTIONAL, **data}


def _parse_event_fields(values: dict[str, Any]) -> dict[str, Any]:
    """The Event's field values (all but slug and status), in the order the keys are checked."""
    zone = _timezone(values["timezone"])
    languages = _languages(values["interpretation_languages"])
    capacity = _capacity(values["capacity"])
    if not isinstance(values["waitlist"], bool):
        raise EventDataError("waitlist", "expected true or false")
    if values["proof_of_work"] is not None and not isinstance(values["proof_of_work"], bool):
        raise EventDataError("proof_of_work", "expected true or false")
    outcomes = values["expected_outcomes"]
    if isinstance(outcomes, list):
        outcomes = "\n".join(
            _text(line, f"expected_outcomes[{i}]") for i, line in enumerate(outcomes)
        )
    return {
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
        "registration_mode": _registration_mode(values["registration_mode"], capacity),
        "verification_hold_minutes": _hold_minutes(values["verification_hold_minutes"]),
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
        **({} if values["proof_of_work"] is None else {"proof_of_work": values["proof_of_work"]}),
    }


def _parse_access_codes(codes: Any) -> list[dict[str, Any]]:
    """[{"code", "max_uses"}]: codes compared without regard to case, each once."""
    if not isinstance(codes, list):
        raise EventDataError("access_codes", "expected a list of {code, max_uses}")
    parsed, seen = [], set()
    for index, entry in enumerate(codes):
        key = f"access_codes[{index}]"
        _check_keys(entry, ["code", "max_uses"], key)
        code = normalise_access_code(_text(entry.get("code"), f"{key}.code", required=True))
        try:
            validate_access_code(code)
        except ValidationError as error:
            raise EventDataError(f"{key}.code", " ".join(error.messages)) from None
        if code in seen:
            raise EventDataError(f"{key}.code", f"{code!r} is listed twice")
        seen.add(code)
        max_uses = entry.get("max_uses")
        if max_uses is not None and (
            isinstance(max_uses, bool) or not isinstance(max_uses, int) or max_uses < 0
        ):
            raise EventDataError(f"{key}.max_uses", "expected a whole number or null")
        parsed.append({"code": code, "max_uses": max_uses})
    return parsed


def _registration_mode(mode: Any, capacity: int | None) -> str:
    """The key as given, or the default: a limited event verifies emails (seats are worth
    squatting), an unlimited one is open."""
    if mode is None:
        return (
            Event.RegistrationMode.OPEN if capacity is None else Event.RegistrationMode.VERIFY_EMAIL
        )
    return _choice(mode, "registration_mode", Event.RegistrationMode)


def _hold_minutes(minutes: Any) -> int | None:
    if minutes is None:
        return None
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 1:
        raise EventDataError(
            "verification_hold_minutes", "expected a whole number of minutes (1 or more) or null"
        )
    return minutes


def _timezone(zone: Any) -> str:
    if not known_timezone(zone):
        raise EventDataError(
            "timezone", f"{zone!r} is not an IANA time zone (e.g. America/New_York)"
        )
    return zone


def _languages(languages: Any) -> list[str]:
    if not isinstance(languages, list):
        raise EventDataError("interpretation_languages", "expected a list of language codes")
    for index, code in enumerate(languages):
        _language(code, f"interpretation_languages[{index}]")
    return languages


def _capacity(capacity: Any) -> int | None:
    if capacity is None:
        return None
    if not isinstance(capacity, int) or isinstance(capacity, bool):
        raise EventDataError("capacity", f"{capacity!r} is not a whole number or null")
    if capacity < 0:
        raise EventDataError("capacity", "must be 0 or more")
    return capacity


def _parse_agenda(agenda: Any) -> list[AgendaEntry]:
    if not isinstance(agenda, list):
        raise EventDataError("agenda", "expected a list")
    return [_parse_agenda_item(item, f"agenda[{index}]") for index, item in enumerate(agenda)]


def _parse_agenda_item(item: Any, key: str) -> AgendaEntry:
    """(AgendaItem field values, speakers' values) of one agenda entry."""
    _check_keys(item, AGENDA_KEYS, key)
    if "starts_at" not in item:
        raise EventDataError(f"{key}.starts_at", "missing (required)")
    if "title" not in item:
        raise EventDataError(f"{key}.title", "missing (required)")
    speakers = item.get("speakers") or []
    if not isinstance(speakers, list):
        raise EventDataError(f"{key}.speakers", "expected a list")
    clean_speakers = [
        _parse_speaker(speaker, f"{key}.speakers[{number}]")
        for number, speaker in enumerate(speakers)
    ]
    fields = {
        "starts_at": _dt(item["starts_at"], f"{key}.starts_at"),
        "ends_at": _dt(item.get("ends_at"), f"{key}.ends_at", required=False),
        "title": _text(item["title"], f"{key}.title", required=True),
        "description": _text(item.get("description"), f"{key}.description"),
        "translations": _translations(item.get("translations"), f"{key}.translations", AgendaItem),
    }
    return fields, clean_speakers


def _parse_speaker(speaker: Any, key: str) -> dict[str, str]:
    _check_keys(speaker, SPEAKER_KEYS, key)
    return {
        "name": _text(speaker.get("name"), f"{key}.name", required=True),
        "title": _text(speaker.get("title"), f"{key}.title"),
        "organisation": _text(speaker.get("organisation"), f"{key}.organisation"),
    }


def _parse_documents(documents: Any, base_dir: Path) -> list[DocumentEntry]:
    if not isinstance(documents, list):
        raise EventDataError("documents", "expected a list")
    return [
        _parse_document(document, f"documents[{index}]", base_dir)
        for index, document in enumerate(documents)
    ]


def _parse_document(document: Any, key: str, base_dir: Path) -> DocumentEntry:
    """(Document field values, path of the file) of one documents entry."""
    _check_keys(document, DOCUMENT_KEYS, key)
    for required in ("title", "path"):
        if required not in document:
            raise EventDataError(f"{key}.{required}", "missing (required)")
    path, content_type = _document_file(document["path"], f"{key}.path", base_dir)
    fields = {
        "kind": _choice(document.get("kind", Document.Kind.OTHER), f"{key}.kind", Document.Kind),
        "title": _text(document["title"], f"{key}.title", required=True),
        "language": _language(document.get("language", "en"), f"{key}.language"),
        "content_type": content_type,
        "size": path.stat().st_size,
    }
    return fields, path


def _document_file(value: Any, key: str, base_dir: Path) -> tuple[Path, str]:
    """The resolved path of a document's file and its content type, once checked."""
    path = (base_dir / _text(value, key, required=True)).resolve()
    # Only files in the JSON file's folder (or below it): an event file from someone else
    # must not publish /etc/passwd or a key, whatever path or symlink it names.
    if not path.is_relative_to(base_dir.resolve()):
        raise EventDataError(key, f"{value!r} is outside the folder of the JSON file")
    if not path.is_file():
        raise EventDataError(key, f"no such file: {path}")
    with path.open("rb") as handle:
        try:
            content_type = validate_document(File(handle, name=path.name))
        except ValidationError as error:
            raise EventDataError(key, " ".join(error.messages)) from None
    return path, content_type


# --- The checks of single values ----------------------------------------------------------


def _parse_teams(slugs: Any) -> list[Team] | None:
    """The teams the slugs name (None: the key was left out)."""
    if slugs is None:
        return None
    if not isinstance(slugs, list):
        raise EventDataError("teams", "expected a list of team slugs")
    found = Team.objects.in_bulk([s for s in slugs if isinstance(s, str)], field_name="slug")
    for index, slug in enumerate(slugs):
        if slug not in found:
            raise EventDataError(
                f"teams[{index}]", f"{slug!r} is not a team (add_organiser creates one)"
            )
    return [found[slug] for slug in slugs]


def _dt(value: Any, key: str, *, required: bool = True) -> datetime | None:
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


def _text(value: Any, key: str, *, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise EventDataError(key, "required text" if required else f"{value!r} is not text")
    if "\x00" in value:
        # PostgreSQL cannot store NUL in text; refuse it here rather than fail mid-import.
        raise EventDataError(key, "contains a NUL character")
    return value


def _choice(value: Any, key: str, choices: type[models.TextChoices]) -> str:
    if value not in choices.values:
        raise EventDataError(key, f"{value!r} is not one of {', '.join(choices.values)}")
    return value


def _language(value: Any, key: str) -> str:
    if value not in UN_LANGUAGE_CODES:
        raise EventDataError(
            key, f"unknown language {value!r} (use one of {', '.join(UN_LANGUAGE_CODES)})"
        )
    return value


def _check_keys(data: Any, allowed: Iterable[str], key_prefix: str) -> None:
    if not isinstance(data, dict):
        raise EventDataError(key_prefix or "(top level)", "expected an object")
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        where = f"{key_prefix}." if key_prefix else ""
        raise EventDataError(f"{where}{unknown[0]}", "unknown key")


def _translations(
    value: Any, key: str, model: type[Event] | type[AgendaItem]
) -> dict[str, dict[str, str]]:
    if value in (None, {}):
        return {}
    if not isinstance(value, dict):
        raise EventDataError(key, 'expected an object like {"fr": {"title": "..."}}')
    result: dict[str, dict[str, str]] = {}
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
