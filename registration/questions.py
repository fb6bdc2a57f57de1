"""An event's own registration questions: their definitions, form fields and answers.

Answers are stored in Registration.answers ({question key: value}) with the registration row
itself, so the sign-up POST runs the same statements whatever the number of questions (an
Answer table would add one INSERT per answer, or a bulk insert and its round trip). The
question definitions are read through the cache (`questions_for`), so neither the form page
nor the POST adds a query for them; every save or delete of a Question forgets the cached
copy.

Stored values, by type: text, long text, choice keys, country codes, dates (ISO 8601), email
addresses and URLs as strings; multiple choice as a list of choice keys; yes/no as a boolean;
numbers as integers.
"""

import datetime
import re
from collections.abc import Iterable, Sequence
from typing import Any

from django import forms
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import translation
from django.utils.html import conditional_escape, format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from events.languages import UN_LANGUAGE_CODES
from events.models import Event, translated_value
from events.presentation import language_attrs
from registration.models import Question, Registration

Type = Question.Type
FIELD_PREFIX = "q_"
CHOICE_TYPES = {Type.CHOICE, Type.SELECT, Type.MULTIPLE}
# Single-choice questions another question may depend on (show_if), built-ins included.
SINGLE_CHOICE_TYPES = {Type.CHOICE, Type.SELECT}
BUILT_IN_CHOICES = {"affiliation": Registration.Affiliation}
KEY_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
MAX_TEXT = 300
MAX_LONG_TEXT = 4000
MAX_CHOICES = 50
MAX_CHOICE_LABEL = 200
# Numbers: whole, and within what any reasonable question asks (people, years, days).
MIN_NUMBER, MAX_NUMBER = -(10**9), 10**9
MIN_DATE, MAX_DATE = datetime.date(1900, 1, 1), datetime.date(2100, 12, 31)
CACHE_SECONDS = 24 * 3600


# --- Reading the definitions ----------------------------------------------------------------


def _cache_key(event_id):
    # The version changes with the Question model, so no process reads pickles of another.
    return f"registration:questions:v1:{event_id}"


def questions_for(event: Event | None, *, event_id: int | str | None = None) -> list[Question]:
    """The event's shown questions, in order: from the cache, else one query (then cached).
    `event_id` instead of `event` where only the id is at hand."""
    if event is not None:
        event_id = event.pk
    elif event_id is None:
        raise TypeError("questions_for() needs an event or an event_id")
    key = _cache_key(int(event_id))
    questions = cache.get(key)
    if questions is None:
        questions = list(Question.objects.filter(event_id=int(event_id), active=True))
        cache.set(key, questions, CACHE_SECONDS)
    return questions


def forget_questions(event_id: int) -> None:
    """Drops the cached definitions, now and again when the current transaction commits (a
    request in between may have cached the old ones). The next form page or POST reads them
    again: one SELECT, once per event after each change (or cache loss)."""
    cache.delete(_cache_key(event_id))
    transaction.on_commit(lambda: cache.delete(_cache_key(event_id)))


def field_name(question: Question) -> str:
    return f"{FIELD_PREFIX}{question.key}"


def choice_label(choice: dict[str, Any], language: str | None = None) -> tuple[str, str]:
    """(text, language) of a choice: the visitor's language where given, else English."""
    labels = choice.get("label") or {}
    language = language or translation.get_language() or "en"
    if labels.get(language):
        return labels[language], language
    return labels.get("en", choice.get("key", "")), "en"


def choice_labels(question: Question, language: str | None = None) -> dict[str, str]:
    return {choice["key"]: choice_label(choice, language)[0] for choice in question.choices}


def _marked_choices(question, language):
    return [
        (choice["key"], _marked(*choice_label(choice, language), language))
        for choice in question.choices
    ]


# --- Checking a definition (admin and import) -----------------------------------------------


def definition_errors(question: Question, *, siblings: Sequence[Question]) -> dict[str, str]:
    """{field: message} for every mistake in `question`'s definition. `siblings` are the
    event's other questions (unsaved ones from the same form or file included)."""
    errors = {}
    if not KEY_RE.fullmatch(question.key or ""):
        errors["key"] = gettext(
            "Use 1 to 40 lower-case letters, digits, _ or -, starting with a letter or digit."
        )
    elif question.key in BUILT_IN_CHOICES:
        errors["key"] = gettext("“%(key)s” is the name of a built-in field.") % {
            "key": question.key
        }
    if question.type not in Type.values:
        errors["type"] = gettext("Unknown type “%(type)s”.") % {"type": question.type}
    if question.type in CHOICE_TYPES:
        problem = _choices_problem(question.choices)
        if problem:
            errors["choices"] = problem
    elif question.choices:
        errors["choices"] = gettext("Only choice questions have choices.")
    if question.show_if_question or question.show_if_equals:
        problem = _show_if_problem(question, siblings)
        if problem:
            errors["show_if_question"] = problem
    translations = question.translations or {}
    if not isinstance(translations, dict) or any(
        code not in UN_LANGUAGE_CODES or code == "en" or not isinstance(texts, dict)
        for code, texts in translations.items()
    ):
        errors["translations"] = gettext("Translations are per language: fr, es, ru, zh-hans, ar.")
    return errors


def _choices_problem(choices):
    if not isinstance(choices, list) or not choices:
        return gettext("A choice question needs at least one choice.")
    if len(choices) > MAX_CHOICES:
        return gettext("At most %(count)d choices.") % {"count": MAX_CHOICES}
    seen = set()
    for index, choice in enumerate(choices, 1):
        if not isinstance(choice, dict) or set(choice) - {"key", "label"}:
            return gettext("Choice %(n)d: give a key and a label, nothing else.") % {"n": index}
        key, labels = choice.get("key"), choice.get("label")
        if not isinstance(key, str) or not KEY_RE.fullmatch(key):
            return gettext(
                "Choice %(n)d: the key must be 1 to 40 lower-case letters, digits, _ or -."
            ) % {"n": index}
        if key in seen:
            return gettext("Choice key “%(key)s” is used twice.") % {"key": key}
        seen.add(key)
        if not isinstance(labels, dict) or not isinstance(labels.get("en"), str):
            return gettext("Choice “%(key)s” needs an English label.") % {"key": key}
        for code, text in labels.items():
            if code not in UN_LANGUAGE_CODES:
                return gettext("Choice “%(key)s”: unknown language “%(code)s”.") % {
                    "key": key,
                    "code": code,
                }
            if (
                not isinstance(text, str)
                or len(text) > MAX_CHOICE_LABEL
                or (code == "en" and not text.strip())
            ):
                return gettext("Choice “%(key)s”: each label is 1 to %(max)d characters.") % {
                    "key": key,
                    "max": MAX_CHOICE_LABEL,
                }
    return None


def _show_if_problem(question, siblings):
    target, equals = question.show_if_question, question.show_if_equals
    if not target or not equals:
        return gettext("Give both the question and the answer it depends on.")
    if target == question.key:
        return gettext("A question cannot depend on itself.")
    if target in BUILT_IN_CHOICES:
        keys = BUILT_IN_CHOICES[target].values
    else:
        found = [other for other in siblings if other.key == target]
        if not found:
            return gettext("There is no question “%(key)s” on this form.") % {"key": target}
        other = found[0]
        if other.type not in SINGLE_CHOICE_TYPES:
            return gettext("“%(key)s” is not a single-choice question.") % {"key": target}
        if other.show_if_question:
            return gettext(
                "“%(key)s” is itself conditional: depend on one that is always shown."
            ) % {"key": target}
        keys = [choice.get("key") for choice in other.choices if isinstance(choice, dict)]
    if equals not in keys:
        return gettext("“%(key)s” has no answer “%(answer)s”.") % {"key": target, "answer": equals}
    return None


# --- Form fields ----------------------------------------------------------------------------

# Long text keeps line breaks and tabs, but no other control characters nor the bidi
# controls the single-line fields refuse (registration.forms).
_LONG_TEXT_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029]")


def validate_long_text(value):
    from registration.forms import BIDI_CONTROLS

    if _LONG_TEXT_FORBIDDEN.search(value) or any(char in BIDI_CONTROLS for char in value):
        raise ValidationError(
            _("Remove the control or invisible text-direction characters."), code="control"
        )


def _marked(text, text_language, page_language):
    """Text for a label: wrapped in lang="en" (and dir) when it is an English fallback on a
    page in another language, as the event pages do (WCAG 3.1.2)."""
    attrs = language_attrs(text_language, page_language)
    if not text:
        return text
    if not attrs:
        # Escaped here: crispy renders help texts with |safe, and these are the organiser's.
        return conditional_escape(text)
    return format_html("<span{}>{}</span>", attrs, text)


# A browser sends only what these inputs accept (digits; yyyy-mm-dd) or nothing; anything
# else was crafted, and echoing it back into value="" would make the page invalid HTML.
_NUMBER_VALUE = re.compile(r"-?[0-9]+")
_DATE_VALUE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class NumberInput(forms.NumberInput):
    def format_value(self, value):
        value = super().format_value(value)
        return value if value is None or _NUMBER_VALUE.fullmatch(str(value)) else None


class DateInput(forms.DateInput):
    input_type = "date"

    def format_value(self, value):
        value = super().format_value(value)
        return value if value is None or _DATE_VALUE.fullmatch(str(value)) else None


def _localised(question, field, language):
    text, text_language = translated_value(
        question.translations, field, getattr(question, field), language
    )
    return _marked(text, text_language, language)


def build_field(question: Question, *, language: str | None = None) -> forms.Field:
    """The form field for `question`, labelled in the active language (English fallback
    marked lang="en" through the widget's wrapper, see QuestionsFormMixin)."""
    from registration.forms import TEXT_VALIDATORS, CountryField, validate_visible

    language = language or translation.get_language() or "en"
    label = _localised(question, "label", language)
    help_text = _localised(question, "help_text", language)
    # A conditional question is checked in clean(), once we know whether it was shown.
    required = question.required and not question.show_if_question
    kwargs = {"label": label, "help_text": help_text, "required": required}
    kind = question.type
    if kind == Type.TEXT:
        return forms.CharField(max_length=MAX_TEXT, validators=TEXT_VALIDATORS, **kwargs)
    if kind == Type.LONG_TEXT:
        return forms.CharField(
            max_length=MAX_LONG_TEXT,
            validators=[validate_long_text, validate_visible],
            widget=forms.Textarea(attrs={"rows": 4}),
            **kwargs,
        )
    if kind in SINGLE_CHOICE_TYPES:
        choices = _marked_choices(question, language)
        if kind == Type.SELECT:
            return forms.ChoiceField(choices=[("", _("Choose an answer")), *choices], **kwargs)
        return forms.ChoiceField(choices=choices, widget=forms.RadioSelect, **kwargs)
    if kind == Type.MULTIPLE:
        return forms.MultipleChoiceField(
            choices=_marked_choices(question, language),
            widget=forms.CheckboxSelectMultiple,
            **kwargs,
        )
    if kind == Type.YES_NO:
        return forms.BooleanField(**kwargs)
    if kind == Type.NUMBER:
        return forms.IntegerField(
            min_value=MIN_NUMBER, max_value=MAX_NUMBER, widget=NumberInput, **kwargs
        )
    if kind == Type.DATE:
        return forms.DateField(
            widget=DateInput(format="%Y-%m-%d"),
            input_formats=["%Y-%m-%d"],
            validators=[_validate_date_range],
            **kwargs,
        )
    if kind == Type.COUNTRY:
        return CountryField(**kwargs)
    if kind == Type.EMAIL:
        return forms.EmailField(max_length=254, **kwargs)
    if kind == Type.URL:
        return forms.URLField(max_length=500, assume_scheme="https", **kwargs)
    raise ValueError(f"unknown question type {kind!r}")


def _validate_date_range(value):
    if not MIN_DATE <= value <= MAX_DATE:
        raise ValidationError(
            _("Enter a date between %(first)s and %(last)s."),
            params={"first": MIN_DATE.isoformat(), "last": MAX_DATE.isoformat()},
            code="date_range",
        )


def _stored(question, value):
    """The cleaned value as it is kept in Registration.answers; None: no answer."""
    if value in (None, "", []):
        return None
    if question.type == Type.DATE:
        return value.isoformat()
    if question.type == Type.MULTIPLE:
        order = [choice["key"] for choice in question.choices]
        return [key for key in order if key in value]
    if question.type == Type.LONG_TEXT:
        # Browsers send a textarea's line breaks as CRLF; one spelling in storage and CSV.
        return value.replace("\r\n", "\n").replace("\r", "\n").strip() or None
    if question.type == Type.TEXT:
        return value.strip() or None
    return value


def _initial(question, value):
    if question.type == Type.DATE and isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return None
    return value


class QuestionsFormMixin:
    """Adds the event's questions (fields q_<key>) after the built-in fields and collects
    their answers in cleaned_data["answers"]. `answers`: what is stored (the manage page);
    locked questions are then left out and their stored answers kept."""

    answering_after_registration = False

    def __init__(self, *args, questions=None, answers=None, **kwargs):
        super().__init__(*args, **kwargs)
        questions = questions_for(self.event) if questions is None else questions
        self.stored_answers = dict(answers or {})
        if self.answering_after_registration:
            questions = [question for question in questions if not question.locked]
        self.questions = questions
        if not questions:
            return
        language = translation.get_language()
        added = {}
        for question in questions:
            name = field_name(question)
            added[name] = build_field(question, language=language)
            if question.key in self.stored_answers and not self.is_bound:
                self.initial.setdefault(name, _initial(question, self.stored_answers[question.key]))
        # After the built-in fields, before the consent box and the honeypot.
        tail = {
            name: self.fields.pop(name) for name in ("consent", "website") if name in self.fields
        }
        self.fields.update(added)
        self.fields.update(tail)

    @property
    def unanswered(self):
        """Required questions (always shown) this registrant has not answered yet: added after
        they registered. They are asked, never held against the registration."""
        return [
            question
            for question in self.questions
            if question.required
            and not question.show_if_question
            and question.key not in self.stored_answers
        ]

    def question_layout(self, name):
        """The crispy layout item for field `name`: conditional questions are wrapped so
        static/registration/registration.js can hide them until their answer applies."""
        from crispy_forms.layout import Div, Field

        question = next((q for q in self.questions if field_name(q) == name), None)
        if question is None or not question.show_if_question:
            return Field(name)
        target = question.show_if_question
        controlling = target if target in BUILT_IN_CHOICES else f"{FIELD_PREFIX}{target}"
        return Div(
            Field(name),
            css_class="convene-conditional",
            data_show_if=controlling,
            data_equals=question.show_if_equals,
        )

    def clean(self):
        cleaned = super().clean()
        answers = dict(self.stored_answers) if self.answering_after_registration else {}
        for question in self.questions:
            name = field_name(question)
            if question.show_if_question and not self._shown(question, cleaned):
                # Not asked of this person: whatever the browser sent is dropped unread.
                if self._errors:
                    self._errors.pop(name, None)
                answers.pop(question.key, None)
                continue
            if name in (self._errors or {}):
                continue
            if question.type == Type.YES_NO:
                value = bool(cleaned.get(name))
            else:
                value = _stored(question, cleaned.get(name))
            if question.required and question.show_if_question and not value:
                # Shown, so asked: the field itself could not require it.
                self.add_error(name, self.fields[name].error_messages["required"])
                continue
            if value is None:
                answers.pop(question.key, None)
            else:
                answers[question.key] = value
        cleaned["answers"] = answers
        return cleaned

    def _shown(self, question, cleaned):
        target = question.show_if_question
        if target in BUILT_IN_CHOICES:
            value = cleaned.get(target)
        else:
            value = cleaned.get(f"{FIELD_PREFIX}{target}")
            if value is None and f"{FIELD_PREFIX}{target}" not in self.fields:
                value = self.stored_answers.get(target)
        return value == question.show_if_equals


# --- Showing answers ------------------------------------------------------------------------


def answer_text(question: Question, value: Any, language: str | None = None) -> str:
    """An answer as a person reads it, in `language` (choice labels translated)."""
    if value is None or value == "" or value == []:
        return ""
    if question.type in CHOICE_TYPES:
        labels = choice_labels(question, language)
        keys = value if isinstance(value, list) else [value]
        return ", ".join(labels.get(key) or key for key in keys)
    if question.type == Type.YES_NO:
        return gettext("Yes") if value else gettext("No")
    if question.type == Type.COUNTRY:
        from registration.countries import country_name

        return country_name(value)
    return str(value)


def answered(
    questions: Iterable[Question], answers: dict[str, Any] | None, language: str | None = None
) -> list[tuple[str, str]]:
    """[(question label, answer text)] for the answers given, in question order."""
    rows = []
    for question in questions:
        if not answers or question.key not in answers:
            continue
        label = translated_value(question.translations, "label", question.label, language)[0]
        text = answer_text(question, answers[question.key], language)
        if text:
            rows.append((label, text))
    return rows


# --- Personal data --------------------------------------------------------------------------

PURGE_BATCH = 1000


def erase_personal_answers(*, registrations: QuerySet[Registration]) -> None:
    """Drops the answers to personal questions (choice answers of personal questions too:
    the organiser said they are personal) from `registrations`; the other answers stay for
    the counts. One query for the questions, then one UPDATE per batch of rows that hold any."""
    personal: dict[int, set[str]] = {}
    for event_id, key in Question.objects.filter(
        personal=True, event__in=registrations.values("event_id")
    ).values_list("event_id", "key"):
        personal.setdefault(event_id, set()).add(key)
    if not personal:
        return
    batch = []
    rows = registrations.filter(event_id__in=personal).only("pk", "event_id", "answers")
    for registration in rows.iterator(chunk_size=PURGE_BATCH):
        keys = personal[registration.event_id] & set(registration.answers or {})
        if keys:
            registration.answers = {
                key: value for key, value in registration.answers.items() if key not in keys
            }
            batch.append(registration)
        if len(batch) >= PURGE_BATCH:
            Registration.objects.bulk_update(batch, ["answers"])
            batch = []
    if batch:
        Registration.objects.bulk_update(batch, ["answers"])
