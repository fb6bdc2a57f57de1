"""The "questions" key of the event JSON (events/exchange.py's extra_parts hook).

    "questions": [{"key": "delegation", "type": "choice", "required": true,
                   "label": {"en": "...", "fr": "..."}, "help": {"en": "..."},
                   "choices": [{"key": "member_state", "label": {"en": "..."}}],
                   "show_if": {"question": "affiliation", "equals": "member_state"},
                   "personal": false, "locked": false}]

Every mistake is refused with the key that holds it, e.g. `questions[2].choices`. Import
replaces the form's questions: those no longer in the file are hidden, not deleted, so their
answers stay in the export until the personal-data purge.
"""

from events.exchange import EventDataError
from events.languages import UN_LANGUAGE_CODES
from registration import questions as q
from registration.models import Question

QUESTION_KEYS = {
    "key",
    "type",
    "required",
    "label",
    "help",
    "choices",
    "show_if",
    "personal",
    "locked",
}
SHOW_IF_KEYS = {"question", "equals"}
FIELD_FOR_KEY = {"show_if": "show_if_question", "help": "help_text"}


def _texts(value, where, *, required, max_length):
    """{"en": ..., "fr": ...} -> (English text, {code: {field: text}} for the others)."""
    if value is None and not required:
        return "", {}
    if not isinstance(value, dict):
        raise EventDataError(where, 'expected {"en": "...", "fr": "...", ...}')
    for code, text in value.items():
        if code not in UN_LANGUAGE_CODES:
            raise EventDataError(f"{where}.{code}", "unknown language")
        if not isinstance(text, str) or len(text) > max_length:
            raise EventDataError(
                f"{where}.{code}", f"expected text of at most {max_length} characters"
            )
    english = (value.get("en") or "").strip()
    if required and not english:
        raise EventDataError(f"{where}.en", "missing (English is required)")
    if not english and any(text.strip() for text in value.values()):
        raise EventDataError(f"{where}.en", "missing (other languages fall back to English)")
    return english, {
        code: text.strip() for code, text in value.items() if code != "en" and text.strip()
    }


def parse_questions(value):
    """The file's questions as unsaved Question objects, checked; raises EventDataError."""
    if not isinstance(value, list):
        raise EventDataError("questions", "expected a list of questions")
    parsed, seen = [], set()
    for index, data in enumerate(value):
        where = f"questions[{index}]"
        if not isinstance(data, dict):
            raise EventDataError(where, "expected an object")
        unknown = sorted(set(data) - QUESTION_KEYS)
        if unknown:
            raise EventDataError(f"{where}.{unknown[0]}", "unknown key")
        key = data.get("key")
        if not isinstance(key, str) or not q.KEY_RE.fullmatch(key):
            raise EventDataError(
                f"{where}.key", f"{key!r} is not 1-40 lower-case letters, digits, _ or -"
            )
        if key in seen:
            raise EventDataError(f"{where}.key", f"duplicate key {key!r}")
        seen.add(key)
        kind = data.get("type")
        if kind not in Question.Type.values:
            raise EventDataError(
                f"{where}.type",
                f"unknown type {kind!r} (use one of {', '.join(Question.Type.values)})",
            )
        for flag in ("required", "personal", "locked"):
            if not isinstance(data.get(flag, False), bool):
                raise EventDataError(f"{where}.{flag}", "expected true or false")
        label, label_translations = _texts(
            data.get("label"), f"{where}.label", required=True, max_length=300
        )
        help_text, help_translations = _texts(
            data.get("help"), f"{where}.help", required=False, max_length=500
        )
        translations = {}
        for field, texts in (("label", label_translations), ("help_text", help_translations)):
            for code, text in texts.items():
                translations.setdefault(code, {})[field] = text
        show_if = data.get("show_if")
        target = equals = ""
        if show_if is not None:
            if not isinstance(show_if, dict) or set(show_if) != SHOW_IF_KEYS:
                raise EventDataError(
                    f"{where}.show_if", 'expected {"question": "...", "equals": "..."}'
                )
            target, equals = show_if["question"], show_if["equals"]
            if not isinstance(target, str) or not isinstance(equals, str):
                raise EventDataError(f"{where}.show_if", "question and equals must be keys (text)")
        parsed.append(
            Question(
                key=key,
                type=kind,
                position=index,
                required=data.get("required", False),
                personal=data.get("personal", False),
                locked=data.get("locked", False),
                label=label,
                help_text=help_text,
                translations=translations,
                choices=data.get("choices", []),
                show_if_question=target,
                show_if_equals=equals,
            )
        )
    for index, question in enumerate(parsed):
        errors = q.definition_errors(question, siblings=[o for o in parsed if o is not question])
        if errors:
            field, message = next(iter(errors.items()))
            key = {"show_if_question": "show_if", "help_text": "help"}.get(field, field)
            raise EventDataError(f"questions[{index}].{key}", f"{question.key}: {message}")
    return parsed


def save_questions(*, event, parsed):
    """Replaces the event's shown questions by the file's, keeping keys (and answers)."""
    existing = {question.key: question for question in event.questions.all()}
    for question in parsed:
        old = existing.pop(question.key, None)
        if old is not None:
            question.pk = old.pk
        question.event = event
        question.active = True
        question.save()
    for old in existing.values():
        if old.active:
            old.active = False
            old.save(update_fields=["active"])
    q.forget_questions(event.pk)


def _texts_out(question, field):
    texts = {"en": getattr(question, field)} if getattr(question, field) else {}
    for code, values in (question.translations or {}).items():
        if values.get(field):
            texts[code] = values[field]
    return texts


def export_questions(event):
    out = []
    for question in event.questions.filter(active=True):
        item = {
            "key": question.key,
            "type": question.type,
            "required": question.required,
            "label": _texts_out(question, "label"),
        }
        help_texts = _texts_out(question, "help_text")
        if help_texts:
            item["help"] = help_texts
        if question.choices:
            item["choices"] = question.choices
        if question.show_if_question:
            item["show_if"] = {
                "question": question.show_if_question,
                "equals": question.show_if_equals,
            }
        item["personal"] = question.personal
        item["locked"] = question.locked
        out.append(item)
    return out
