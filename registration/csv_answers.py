"""The answers' columns of the registrations CSV: one per question of the exported events,
removed (hidden) questions included, so their answers stay exportable until the purge."""

from django.utils.translation import get_language

from registration import questions
from registration.models import Question


def answer_columns(queryset):
    """(headers, cells(registration) -> [text per column]) for the registrations in
    `queryset`; one query for the questions, whatever the number of rows."""
    event_ids = queryset.order_by().values("event_id").distinct()
    found = list(
        Question.objects.filter(event_id__in=event_ids).order_by("event_id", "position", "pk")
    )
    # Events may share a key: one column per key, titled by its first question's label.
    columns = {}
    for question in found:
        columns.setdefault(question.key, {})[question.event_id] = question
    language = get_language()
    headers = [
        next(iter(by_event.values())).translated("label", language) for by_event in columns.values()
    ]

    def cells(registration):
        answers = registration.answers or {}
        row = []
        for key, by_event in columns.items():
            question = by_event.get(registration.event_id)
            if question is None or key not in answers:
                row.append("")
            else:
                row.append(questions.answer_text(question, answers[key], language))
        return row

    return headers, cells
