"""The event's registration questions, edited inline on the event's admin page (added through
events.admin.event_admin_inlines), and how the registration admin shows their answers."""

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.db.models.fields.json import KT
from django.utils.html import format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from events.admin import (
    OTHER_LANGUAGES,
    TranslationsFormMixin,
    _translation_form_fields,
    translation_field_name,
)
from registration import questions
from registration.admin.charts import bar_chart
from registration.models import Question, Registration

CHOICES_HELP = _(
    'One entry per choice, e.g. [{"key": "member_state", "label": {"en": "Member State", '
    '"fr": "État membre"}}]. Keep a choice\'s key when you rename it: answers refer to it.'
)

# Built at run time (one field per language); `Any` for the type checker, which cannot see them.
QuestionFormBase: Any = type(
    "QuestionFormBase",
    (TranslationsFormMixin, forms.ModelForm),
    _translation_form_fields(Question),
)


class QuestionForm(QuestionFormBase):
    class Meta:
        model = Question
        fields = "__all__"
        help_texts = {"choices": CHOICES_HELP}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # Answers are stored under the key: it never changes once saved.
            self.fields["key"].disabled = True


class QuestionFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        kept = [
            form
            for form in self.forms
            if getattr(form, "cleaned_data", None) and not form.cleaned_data.get("DELETE")
        ]
        instances = [form.instance for form in kept]
        keys = [instance.key for instance in instances]
        for form in kept:
            question = form.instance
            if keys.count(question.key) > 1:
                form.add_error("key", gettext("Each question needs its own key."))
                continue
            siblings = [other for other in instances if other is not question]
            for field, message in questions.definition_errors(question, siblings=siblings).items():
                form.add_error(field if field in form.fields else None, message)
        if any(form.errors for form in kept):
            raise ValidationError(gettext("Please correct the questions marked below."))

    def save(self, commit=True):
        saved = super().save(commit=commit)
        questions.forget_questions(self.instance.pk)
        return saved


class QuestionInline(admin.StackedInline):
    model = Question
    form = QuestionForm
    formset = QuestionFormSet
    extra = 0
    # Removing a question unticks "shown": its answers stay in the export until the purge.
    can_delete = False
    ordering = ("position", "pk")
    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("key", "type", "position"),
                    "label",
                    "help_text",
                    "choices",
                    ("required", "locked", "personal", "active"),
                    ("show_if_question", "show_if_equals"),
                ]
            },
        ),
        (
            _("Translations"),
            {
                "classes": ["collapse"],
                "description": _("Optional. Where a field is blank the English text is shown."),
                "fields": [
                    translation_field_name(field, code)
                    for code, _name in OTHER_LANGUAGES
                    for field in Question.translatable_fields
                ],
            },
        ),
    ]


# --- Answers in the registration admin ------------------------------------------------------


def answers_table(registration):
    """The registrant's answers as an HTML table (all questions, removed ones included)."""
    rows = questions.answered(
        list(registration.event.questions.all()), registration.answers, language=None
    )
    if not rows:
        return gettext("No answers.")
    return format_html_join("", "<p><strong>{}</strong><br>{}</p>", rows)


class AnswerFilter(admin.SimpleListFilter):
    """Filter by a choice or yes/no question's answer within one event. Reached from the bars
    of the event page's charts (choice_charts links each answer); once filtering, the sidebar
    offers the event's other answers. Not built for the plain list, which keeps its query
    budget (tests/test_query_budgets.py)."""

    title = _("answer")
    parameter_name = "answer"

    def lookups(self, request, model_admin):
        event_id = request.GET.get("event__id__exact")
        if not event_id or not event_id.isdigit() or self.parameter_name not in request.GET:
            return []
        options = []
        # From the cache: the list page keeps its query budget (tests/test_query_budgets.py).
        for question in questions.questions_for(None, event_id=event_id):
            if question.type in questions.SINGLE_CHOICE_TYPES | {Question.Type.MULTIPLE}:
                for key, label in questions.choice_labels(question).items():
                    options.append((f"{question.key}={key}", f"{question.label}: {label}"))
            elif question.type == Question.Type.YES_NO:
                for value, label in (("yes", gettext("Yes")), ("no", gettext("No"))):
                    options.append((f"{question.key}={value}", f"{question.label}: {label}"))
        return options

    def queryset(self, request, queryset):
        value = self.value()
        if not value or "=" not in value:
            return queryset
        key, answer = value.split("=", 1)
        if not questions.KEY_RE.fullmatch(key):
            return queryset.none()
        event_id = request.GET.get("event__id__exact") or ""
        found = (
            [
                question
                for question in questions.questions_for(None, event_id=event_id)
                if question.key == key
            ]
            if event_id.isdigit()
            else []
        )
        question = found[0] if found else None
        if question is None:
            return queryset.none()
        if question.type == Question.Type.YES_NO:
            return queryset.filter(**{f"answers__{key}": answer == "yes"})
        if question.type == Question.Type.MULTIPLE:
            # JSON containment is not portable to SQLite: match the key as a list element.
            return queryset.filter(**{f"answers__{key}__icontains": f'"{answer}"'})
        return queryset.filter(**{f"answers__{key}": answer})


def choice_charts(event):
    """A bar chart per choice question: [{"title", "rows", "height"}], one query per
    single-choice question (grouped in the database) and one per multiple-choice one."""
    charts = []
    active = Registration.objects.filter(event=event).exclude(
        status__in=Registration.NOT_REGISTERED
    )
    for question in questions_for_charts(event):
        if question.type == Question.Type.MULTIPLE:
            counts = {}
            for answer in active.values_list(KT(f"answers__{question.key}"), flat=True):
                for key in _json_list(answer):
                    counts[key] = counts.get(key, 0) + 1
        else:
            counts = dict(
                active.annotate(answer=KT(f"answers__{question.key}"))
                .values_list("answer")
                .annotate(count=Count("pk"))
                .order_by()
            )
        labels = questions.choice_labels(question)
        chart = bar_chart((label, counts.get(key, 0)) for key, label in labels.items())
        for row, key in zip(chart["rows"], labels, strict=True):
            row["filter"] = f"{AnswerFilter.parameter_name}={question.key}%3D{key}"
        charts.append({"title": question.label, **chart})
    return charts


def questions_for_charts(event):
    return [
        question
        for question in event.questions.filter(active=True)
        if question.type in questions.CHOICE_TYPES
    ]


def _json_list(text):
    try:
        value = json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return []
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []
