"""The registration form with questions of every type, under arbitrary answers: never a 5xx,
and whatever is stored is a valid answer of its question's type."""

import datetime

import pytest
from django.core.validators import URLValidator, validate_email
from hypothesis import given
from hypothesis import strategies as st

from registration.countries import COUNTRY_CODES
from registration.forms import validate_single_line
from registration.models import Registration
from tests.fuzz.conftest import FUZZ, any_text, field_value, in_rolled_back_savepoint
from tests.registration.conftest import form_post
from tests.registration.questions_data import ANSWERS_POST, EVERY_TYPE, add_questions

CHOICE_KEYS = {q["key"]: {c["key"] for c in q.get("choices", [])} for q in EVERY_TYPE}
REQUIRED = {q["key"] for q in EVERY_TYPE if q.get("required") and "show_if" not in q}

# Per field: plausible values of its type, near-misses, and anything at all.
plausible = {
    "q_access": st.sampled_from(["sign", "captions", "none", "Sign", "", "sign ", "x"]),
    "q_delegation": st.sampled_from(["sn", "fr", "", "de"]),
    "q_topics": st.lists(st.sampled_from(["prisons", "youth", "gender", "other", ""]), max_size=4),
    "q_list_name": st.sampled_from(["on", "", "off", "true", "0"]),
    "q_delegates": st.one_of(
        st.integers(min_value=-(10**12), max_value=10**12).map(str),
        st.sampled_from(["1e3", "NaN", "inf", "٣", "1.5", " 4 "]),
    ),
    "q_arrival": st.one_of(
        st.dates().map(lambda d: d.isoformat()),
        st.sampled_from(["2027-02-30", "24/06/2027", "0001-01-01", "9999-12-31"]),
    ),
    "q_residence": st.sampled_from(["SN", "sn", "XX", "", "FR"]),
    "q_assistant_email": st.sampled_from(["a@example.org", "a@", "a@b", "@b.org", ""]),
    "q_website_url": st.sampled_from(
        ["https://x.example.org", "x.example.org", "javascript:alert(1)", "http://", ""]
    ),
}
answer_value = {name: st.one_of(strategy, field_value) for name, strategy in plausible.items()}
for name in ("q_position", "q_panel_question"):
    answer_value[name] = st.one_of(any_text, field_value)

submissions = st.builds(
    lambda changes, dropped, affiliation: {
        **{k: v for k, v in {**form_post(), **ANSWERS_POST}.items() if k not in dropped},
        "affiliation": affiliation,
        **changes,
    },
    st.fixed_dictionaries({}, optional=answer_value),
    st.sets(st.sampled_from(sorted(answer_value)), max_size=3),
    st.sampled_from(["member_state", "cso_ngo", "bogus"]),
)


def assert_valid_answers(registration):
    answers = registration.answers
    assert set(answers) <= set(CHOICE_KEYS)
    assert set(answers) >= REQUIRED
    for key in ("position",):
        validate_single_line(answers[key])
        assert answers[key].strip() and len(answers[key]) <= 300
    if "panel_question" in answers:
        assert answers["panel_question"].strip() and len(answers["panel_question"]) <= 4000
        assert "\x00" not in answers["panel_question"]
    assert answers["access"] in CHOICE_KEYS["access"]
    if registration.affiliation == "member_state":
        assert answers["delegation"] in CHOICE_KEYS["delegation"]
    else:
        assert "delegation" not in answers
    if "topics" in answers:
        assert answers["topics"] and set(answers["topics"]) <= CHOICE_KEYS["topics"]
    if "list_name" in answers:
        assert isinstance(answers["list_name"], bool)
    if "delegates" in answers:
        value = answers["delegates"]
        assert type(value) is int and -(10**9) <= value <= 10**9
    if "arrival" in answers:
        day = datetime.date.fromisoformat(answers["arrival"])
        assert datetime.date(1900, 1, 1) <= day <= datetime.date(2100, 12, 31)
    if "residence" in answers:
        assert answers["residence"] in COUNTRY_CODES
    if "assistant_email" in answers:
        validate_email(answers["assistant_email"])
    if "website_url" in answers:
        URLValidator(schemes=["http", "https"])(answers["website_url"])


@pytest.fixture
def fuzz_settings(settings):
    settings.REGISTRATION_RATE_LIMIT = 10**9


@pytest.fixture
def asking(event):
    return add_questions(event)


@FUZZ
@given(data=submissions)
def test_any_answers_are_refused_or_stored_valid(client, asking, fuzz_settings, data):
    event = asking
    url = f"/en/events/{event.slug}/register/"

    def post():
        response = client.post(url, data)
        assert response.status_code in {200, 302}, response.status_code
        rows = list(Registration.objects.filter(event=event))
        for row in rows:
            assert_valid_answers(row)
        if response.status_code == 200:
            assert rows == []
        return len(rows)

    assert in_rolled_back_savepoint(post) in {0, 1}


def test_the_valid_example_is_stored(client, asking, fuzz_settings):
    # The fuzzed submissions start from this one: it must pass, or the search proves little.
    event = asking
    response = client.post(f"/en/events/{event.slug}/register/", {**form_post(), **ANSWERS_POST})
    assert response.status_code == 302
    assert_valid_answers(Registration.objects.get())
