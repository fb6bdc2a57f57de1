"""The "questions" key of the event JSON: round trip, and every mistake refused by key."""

import copy
import json

import pytest
from django.core.management import CommandError

from registration.models import Question, Registration
from tests.events.test_exchange import event_json, folder, run, write  # noqa: F401
from tests.registration.questions_data import EVERY_TYPE

pytestmark = pytest.mark.django_db


def with_questions(questions, **overrides):
    data = event_json(questions=questions, **overrides)
    data["documents"] = []
    return data


def test_questions_round_trip_through_export_and_import(folder, tmp_path_factory):  # noqa: F811
    run("import_event", str(write(folder, with_questions(EVERY_TYPE))))
    exported = json.loads(run("export_event", "imported"))
    assert [q["key"] for q in exported["questions"]] == [q["key"] for q in EVERY_TYPE]
    delegation = exported["questions"][3]
    assert delegation["show_if"] == {"question": "affiliation", "equals": "member_state"}
    assert delegation["choices"][0]["label"]["fr"] == "Senegal (fr)"
    assert exported["questions"][0]["help"]["ar"] == "As printed on your badge (ar)"

    run("import_event", str(write(folder, {**exported, "slug": "copy"}, "copy.json")))
    again = json.loads(run("export_event", "copy"))
    assert again["questions"] == exported["questions"]
    # The file's shape, read back as written (defaults made explicit).
    for written, read in zip(EVERY_TYPE, exported["questions"], strict=True):
        assert {k: v for k, v in read.items() if k != "locked"} == {"personal": False, **written}


def test_reimport_hides_questions_left_out_and_keeps_their_answers(folder):  # noqa: F811
    run("import_event", str(write(folder, with_questions(EVERY_TYPE))))
    event = Question.objects.first().event
    Registration.objects.create(
        event=event,
        email="a@example.org",
        name="A",
        consent_at=event.starts_at,
        answers={"delegates": 4},
    )
    run("import_event", str(write(folder, with_questions(EVERY_TYPE[:2]))))
    assert list(event.questions.filter(active=True).values_list("key", flat=True)) == [
        "position",
        "panel_question",
    ]
    assert event.questions.get(key="delegates").active is False
    assert Registration.objects.get().answers == {"delegates": 4}


def changed(index, **fields):
    questions = copy.deepcopy(EVERY_TYPE)
    questions[index].update(fields)
    for key, value in fields.items():
        if value is None:
            del questions[index][key]
    return questions


CHOICES = EVERY_TYPE[2]["choices"]

BAD = [
    (changed(0, type="signature"), "questions[0].type: unknown type 'signature'"),
    (changed(1, key="position"), "questions[1].key: duplicate key 'position'"),
    (changed(1, key="Bad Key!"), "questions[1].key"),
    (changed(2, choices=None), "questions[2].choices: access: A choice question needs"),
    (changed(2, choices=[*CHOICES, CHOICES[0]]), "questions[2].choices: access: Choice key “sign”"),
    (
        changed(2, choices=[{"key": "x"}]),
        "questions[2].choices: access: Choice “x” needs an English",
    ),
    (
        changed(3, show_if={"question": "nowhere", "equals": "x"}),
        "questions[3].show_if: delegation: There is no question “nowhere”",
    ),
    (
        changed(3, show_if={"question": "affiliation", "equals": "astronaut"}),
        "questions[3].show_if: delegation: “affiliation” has no answer “astronaut”",
    ),
    (
        changed(3, show_if={"question": "topics", "equals": "youth"}),
        "questions[3].show_if: delegation: “topics” is not a single-choice question",
    ),
    (changed(0, label={"fr": "Poste"}), "questions[0].label.en: missing"),
    (changed(0, label={"en": "Post", "xx": "?"}), "questions[0].label.xx: unknown language"),
    (changed(0, required="yes"), "questions[0].required: expected true or false"),
    (changed(0, colour="red"), "questions[0].colour: unknown key"),
    (changed(0, choices=CHOICES), "questions[0].choices: position: Only choice questions"),
    (changed(0, key="affiliation"), "questions[0].key: affiliation: “affiliation” is the name"),
    ("not a list", "questions: expected a list"),
]


@pytest.mark.parametrize(("questions", "message"), BAD)
def test_bad_questions_are_refused_naming_the_key(folder, questions, message):  # noqa: F811
    run("import_event", str(write(folder, with_questions(EVERY_TYPE[:1]))))
    before = json.loads(run("export_event", "imported"))
    with pytest.raises(CommandError) as error:
        run("import_event", str(write(folder, with_questions(questions), "bad.json")))
    assert message in str(error.value)
    assert json.loads(run("export_event", "imported")) == before
