"""The rules of an organiser's Message, written once for the admin form, the JSON import,
the scan and the send path: which placeholders it may use, whom its audience names, when it
is due and until when late registrants are caught up.

Audience (Message.audience, all keys optional, each narrowing the one before):

    {"status": ["confirmed", "waitlisted", "pending_approval"],   # default ["confirmed"]
     "interpretation_language": ["fr", "es"],                     # listening language
     "affiliation": ["member_state", "cso_ngo"],
     "answers": {"delegation": ["sn", "ma"]},                     # single-choice questions
     "attended": true}                                            # known once a report is in
"""

import re
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from events.languages import UN_LANGUAGE_CODES
from notifications.models import Delivery, Message
from registration.models import Registration
from registration.questions import SINGLE_CHOICE_TYPES, questions_for

RegStatus = Registration.Status
Send = Message.Send

# The statuses an organiser may write to; the default audience is the confirmed.
AUDIENCE_STATUSES = [RegStatus.CONFIRMED, RegStatus.WAITLISTED, RegStatus.PENDING_APPROVAL]
AUDIENCE_KEYS = {"status", "interpretation_language", "affiliation", "answers", "attended"}
# {meeting_link} only in messages whose audience is the confirmed alone.
PLACEHOLDERS = ("name", "event_title", "event_date", "manage_link", "meeting_link")
PLACEHOLDER_RE = re.compile(r"\{(\w+)\}")
# People whose attendance becomes known after a follow-up was due (a participant report
# imported days later) are caught up for this long after its time.
ATTENDANCE_CATCH_UP = timedelta(days=14)


def statuses(audience: dict[str, Any]) -> list[str]:
    return list(audience.get("status") or [RegStatus.CONFIRMED])


def confirmed_only(audience: dict[str, Any]) -> bool:
    return statuses(audience) == [RegStatus.CONFIRMED]


def audience_filter(audience: dict[str, Any]) -> Q:
    """The audience as a filter on Registration."""
    condition = Q(status__in=statuses(audience))
    for field in ("interpretation_language", "affiliation"):
        if audience.get(field):
            condition &= Q(**{f"{field}__in": audience[field]})
    for key, values in (audience.get("answers") or {}).items():
        condition &= Q(**{f"answers__{key}__in": values})
    if audience.get("attended") is not None:
        condition &= Q(attended=audience["attended"])
    return condition


def matches(audience: dict[str, Any], registration: Registration) -> bool:
    """audience_filter(audience) for one registration in memory (no query)."""
    if registration.status not in statuses(audience):
        return False
    for field in ("interpretation_language", "affiliation"):
        if audience.get(field) and getattr(registration, field) not in audience[field]:
            return False
    answers = registration.answers or {}
    for key, values in (audience.get("answers") or {}).items():
        if answers.get(key) not in values:
            return False
    attended = audience.get("attended")
    return attended is None or registration.attended is attended


def due_at(message: Message) -> datetime | None:
    """When `message` goes out, from the event as it is now (None: a time not yet set)."""
    event = message.event
    if message.send == Send.BEFORE_START:
        return event.starts_at - (message.offset or timedelta())
    if message.send == Send.AFTER_END:
        return event.ends_at + (message.offset or timedelta())
    return message.send_at


def catch_up_until(message: Message, due: datetime) -> datetime:
    """Until when people who come to match the audience after `due` still get the message:
    the end of the event for a message due before it (as the meeting link), a fortnight for
    a follow-up that waits on attendance, else no one after the first pass."""
    if due < message.event.ends_at:
        return message.event.ends_at
    if message.audience.get("attended") is not None:
        return due + ATTENDANCE_CATCH_UP
    return due


def placeholder_errors(text: str, *, meeting_link_allowed: bool) -> list[str]:
    """What is wrong with the {placeholders} of `text`, as sentences for the organiser."""
    errors = []
    for name in dict.fromkeys(PLACEHOLDER_RE.findall(text)):
        if name not in PLACEHOLDERS:
            errors.append(
                _("Unknown placeholder {%(name)s}: use %(allowed)s.")
                % {"name": name, "allowed": ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)}
            )
        elif name == "meeting_link" and not meeting_link_allowed:
            errors.append(
                _("{meeting_link} is allowed only in messages to the confirmed registrants alone.")
            )
    return errors


def audience_errors(audience: Any, *, event: Any) -> dict[str, str]:
    """{audience key: problem} of an audience, empty when it is right."""
    if not isinstance(audience, dict):
        return {"": _("Expected an object.")}
    errors = {}
    for key in sorted(set(audience) - AUDIENCE_KEYS):
        errors[key] = _("Unknown key.")
    allowed = {
        "status": [str(s) for s in AUDIENCE_STATUSES],
        "interpretation_language": UN_LANGUAGE_CODES,
        "affiliation": list(Registration.Affiliation.values),
    }
    for key, choices in allowed.items():
        values = audience.get(key)
        if values is None:
            continue
        if not isinstance(values, list) or any(value not in choices for value in values):
            errors[key] = _("Expected a list of: %(choices)s.") % {"choices": ", ".join(choices)}
    if audience.get("attended") not in (None, True, False):
        errors["attended"] = _("Expected true, false or null.")
    answers = audience.get("answers")
    if answers is not None:
        problem = _answers_error(answers, event)
        if problem:
            errors["answers"] = problem
    return errors


def _answers_error(answers: Any, event: Any) -> str:
    if not isinstance(answers, dict):
        return _('Expected {"question key": ["choice key", ...]}.')
    questions = (
        {}
        if event is None or event.pk is None
        else {question.key: question for question in questions_for(event)}
    )
    for key, values in answers.items():
        question = questions.get(key)
        if question is None or question.type not in SINGLE_CHOICE_TYPES:
            return _("“%(key)s” is not a single-choice question of this event.") % {"key": key}
        keys = [choice.get("key") for choice in question.choices]
        if not isinstance(values, list) or not values or any(v not in keys for v in values):
            return _("“%(key)s”: expected a list of its choice keys: %(choices)s.") % {
                "key": key,
                "choices": ", ".join(keys),
            }
    return ""


def message_errors(message: Message) -> dict[str, list[str]]:
    """{field: [problems]} of `message` as a whole (Message.clean() and the import)."""
    errors: dict[str, list[str]] = {}
    meeting_ok = confirmed_only(message.audience or {})
    texts = {"subject": [message.subject], "body": [message.body]}
    for values in (message.translations or {}).values():
        for field in ("subject", "body"):
            if values.get(field):
                texts[field].append(values[field])
    for field, values in texts.items():
        problems = [
            problem
            for text in values
            for problem in placeholder_errors(text, meeting_link_allowed=meeting_ok)
        ]
        if problems:
            errors[field] = list(dict.fromkeys(problems))
    if message.include_meeting_link and not meeting_ok:
        errors["include_meeting_link"] = [
            _("The meeting link goes only to messages for the confirmed registrants alone.")
        ]
    if message.send in (Send.BEFORE_START, Send.AFTER_END) and message.offset is None:
        errors["offset"] = [_("Say how long before the start or after the end.")]
    if message.send in (Send.BEFORE_START, Send.AFTER_END) and (message.offset or timedelta()) < (
        timedelta()
    ):
        errors["offset"] = [_("The offset cannot be negative.")]
    if message.send == Send.AT and message.send_at is None:
        errors["send_at"] = [_("Say when to send it.")]
    for key, problem in audience_errors(message.audience or {}, event=message.event).items():
        errors.setdefault("audience", []).append(f"{key}: {problem}" if key else problem)
    return errors


def message_of(delivery: Any) -> Message | None:
    """The Message a kind "message" Delivery sends (its version is the message's id), read
    once per row; the send path attaches a batch's messages beforehand (attach_messages)."""
    if not hasattr(delivery, "message_row"):
        delivery.message_row = Message.objects.filter(pk=delivery.version).first()
    message = delivery.message_row
    if message is not None:
        message.event = delivery.event
    return message


def attach_messages(deliveries: list[Any]) -> None:
    """Reads the messages of a batch's kind "message" rows in one query."""
    ids = {d.version for d in deliveries if d.kind == Delivery.Kind.MESSAGE}
    if not ids:
        return
    messages = Message.objects.in_bulk(ids)
    for delivery in deliveries:
        if delivery.kind == Delivery.Kind.MESSAGE:
            delivery.message_row = messages.get(delivery.version)


def not_applicable(delivery: Any, *, now: datetime) -> str:
    """Why this message's email must not go out any more to this registrant, or ""."""
    message = message_of(delivery)
    event = delivery.event
    if message is None:
        return "The message was deleted."
    if message.state == Message.State.CANCELLED:
        return "The message was cancelled."
    if event.status != event.Status.PUBLISHED:
        return f"The event is {event.status}."
    if not matches(message.audience or {}, delivery.registration):
        return "The registration no longer matches the message's audience."
    due = due_at(message)
    if due is not None and due < event.ends_at <= now:
        return "The event has ended."
    return ""
