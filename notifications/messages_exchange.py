"""The "messages" key of the event JSON (events.exchange's extra_parts hook).

    "messages": [{"key": "reminder-1h",
                  "send": {"before_start": "PT1H"},   # or {"after_end": "PT2H"},
                                                      # {"at": "2027-06-25T15:00:00-04:00"},
                                                      # {"now": true}
                  "audience": {"status": ["confirmed"]},
                  "include_meeting_link": true,
                  "subject": {"en": "...", "fr": "..."}, "body": {"en": "..."}}]

Durations are ISO 8601 (PT1H, P1DT2H). Every mistake is refused with the key that holds it,
e.g. `messages[1].send.before_start: 'an hour' is not an ISO 8601 duration (e.g. PT1H)`.
Import updates messages by key, keeping their state and what was sent; a new one is
scheduled at once (a "now" message goes out at the next scan once the event is published);
an unsent message no longer in the file is cancelled, never deleted.
"""

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime, parse_duration

from events.exchange import EventDataError
from notifications.models import Message
from registration.questions import KEY_RE
from registration.questions_exchange import _texts

MESSAGE_KEYS = {"key", "send", "audience", "include_meeting_link", "subject", "body"}
SEND_KEYS = {"now", "at", "before_start", "after_end"}
Send = Message.Send
State = Message.State


def _duration(value: Any, where: str) -> timedelta:
    duration = parse_duration(value) if isinstance(value, str) and value.startswith("P") else None
    if duration is None or duration < timedelta():
        raise EventDataError(where, f"{value!r} is not an ISO 8601 duration (e.g. PT1H)")
    return duration


def _send(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict) or len(value) != 1 or not set(value) <= SEND_KEYS:
        raise EventDataError(
            where,
            'expected one of {"now": true}, {"at": "..."}, {"before_start": "PT1H"}, '
            '{"after_end": "PT2H"}',
        )
    (kind, detail), key = next(iter(value.items())), f"{where}.{next(iter(value))}"
    if kind == "now":
        if detail is not True:
            raise EventDataError(key, "expected true")
        return {"send": Send.NOW, "offset": None, "send_at": None}
    if kind == "at":
        moment = parse_datetime(detail) if isinstance(detail, str) else None
        if moment is None or moment.tzinfo is None:
            raise EventDataError(key, f"{detail!r} is not an ISO 8601 date and time with offset")
        return {"send": Send.AT, "offset": None, "send_at": moment}
    return {"send": kind, "offset": _duration(detail, key), "send_at": None}


def parse_messages(value: Any) -> list[dict[str, Any]]:
    """The file's messages as field values, their shape checked; the rules that need the
    event (audience answers, placeholders) are checked on saving."""
    if not isinstance(value, list):
        raise EventDataError("messages", "expected a list of messages")
    parsed, seen = [], set()
    for index, data in enumerate(value):
        where = f"messages[{index}]"
        if not isinstance(data, dict):
            raise EventDataError(where, "expected an object")
        unknown = sorted(set(data) - MESSAGE_KEYS)
        if unknown:
            raise EventDataError(f"{where}.{unknown[0]}", "unknown key")
        key = data.get("key")
        if not isinstance(key, str) or not KEY_RE.fullmatch(key):
            raise EventDataError(
                f"{where}.key", f"{key!r} is not 1-40 lower-case letters, digits, _ or -"
            )
        if key in seen:
            raise EventDataError(f"{where}.key", f"duplicate key {key!r}")
        seen.add(key)
        if "send" not in data:
            raise EventDataError(f"{where}.send", "required")
        include = data.get("include_meeting_link", False)
        if not isinstance(include, bool):
            raise EventDataError(f"{where}.include_meeting_link", "expected true or false")
        audience = data.get("audience", {})
        if not isinstance(audience, dict):
            raise EventDataError(f"{where}.audience", "expected an object")
        subject, subject_translations = _texts(
            data.get("subject"), f"{where}.subject", required=True, max_length=200
        )
        body, body_translations = _texts(
            data.get("body"), f"{where}.body", required=True, max_length=20000
        )
        translations: dict[str, dict[str, str]] = {}
        for field, texts in (("subject", subject_translations), ("body", body_translations)):
            for code, text in texts.items():
                translations.setdefault(code, {})[field] = text
        parsed.append(
            {
                "key": key,
                **_send(data["send"], f"{where}.send"),
                "audience": audience,
                "include_meeting_link": include,
                "subject": subject,
                "body": body,
                "translations": translations,
            }
        )
    return parsed


def save_messages(*, event: Any, parsed: list[dict[str, Any]]) -> None:
    """Creates or updates the file's messages by key (checked with the admin's rules);
    cancels the unsent ones the file no longer has."""
    existing = {message.key: message for message in event.messages.all()}
    now = timezone.now()
    for index, values in enumerate(parsed):
        message = existing.pop(values["key"], None) or Message(event=event, state=State.SCHEDULED)
        if values["send"] == Send.NOW:
            # An announcement keeps the moment it was first sent; a new one goes now.
            values = {**values, "send_at": message.send_at or now}
        for field, value in values.items():
            setattr(message, field, value)
        message.event = event
        _clean(message, f"messages[{index}]")
        message.save()
    for message in existing.values():
        if message.state in (State.DRAFT, State.SCHEDULED):
            message.state = State.CANCELLED
            message.save(update_fields=["state", "updated_at"])


def _clean(message: Message, where: str) -> None:
    try:
        message.full_clean(exclude=["event"], validate_unique=False)
    except ValidationError as error:
        field, errors = next(iter(error.message_dict.items()))
        key = {"offset": "send", "send_at": "send", "translations": "subject"}.get(field, field)
        raise EventDataError(f"{where}.{key}", f"{message.key}: {' '.join(errors)}") from None


def export_messages(event: Any) -> list[dict[str, Any]]:
    out = []
    zone = event.tz
    for message in event.messages.exclude(state=State.CANCELLED).order_by("pk"):
        if message.send == Send.NOW:
            send: dict[str, Any] = {"now": True}
        elif message.send == Send.AT:
            send = {"at": timezone.localtime(message.send_at, zone).isoformat()}
        else:
            send = {message.send: iso_duration(message.offset or timedelta())}
        item: dict[str, Any] = {"key": message.key, "send": send}
        if message.audience:
            item["audience"] = message.audience
        item["include_meeting_link"] = message.include_meeting_link
        item["subject"] = _texts_out(message, "subject")
        item["body"] = _texts_out(message, "body")
        out.append(item)
    return out


def _texts_out(message: Message, field: str) -> dict[str, str]:
    texts = {"en": getattr(message, field)}
    for code, values in (message.translations or {}).items():
        if values.get(field):
            texts[code] = values[field]
    return texts


def iso_duration(duration: timedelta) -> str:
    """timedelta(hours=1) -> "PT1H" (the shortest ISO 8601 form: what organisers write)."""
    days, rest = duration.days, int(duration.total_seconds()) - duration.days * 86400
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    time = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n)
    return "P" + (f"{days}D" if days else "") + (f"T{time}" if time else "" if days else "T0S")
