"""The registration form and the manage link under arbitrary input."""

import string
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registration import services
from registration.forms import COUNTRY_CODES, validate_single_line
from registration.models import Registration
from tests.fuzz.conftest import FUZZ, field_value, in_rolled_back_savepoint, token_text
from tests.registration.conftest import form_post, person

FIELDS = [
    "name",
    "email",
    "organisation",
    "job_title",
    "country",
    "affiliation",
    "preferred_language",
    "interpretation_language",
    "timezone",
    "consent",
    "website",
]

# Start from a valid submission and replace, drop or add fields, so that examples reach past
# the first validation error as well as far beyond it.
submissions = st.builds(
    lambda base, changes, dropped, extra: {
        **{k: v for k, v in base.items() if k not in dropped},
        **changes,
        **extra,
    },
    st.builds(form_post, st.integers(min_value=1, max_value=10**6)),
    st.dictionaries(st.sampled_from(FIELDS), field_value, max_size=5),
    st.sets(st.sampled_from(FIELDS), max_size=3),
    st.dictionaries(
        st.text(string.ascii_lowercase + "_[]", min_size=1, max_size=20), field_value, max_size=2
    ),
)


def assert_valid(registration):
    """What every stored row must satisfy, whatever was posted."""
    registration.full_clean(exclude=["event"])
    assert registration.email == registration.email.strip().lower()
    assert "@" in registration.email
    for field in ("name", "organisation", "job_title"):
        validate_single_line(getattr(registration, field))
        assert "\x00" not in getattr(registration, field)
    assert registration.name.strip()
    assert registration.country in COUNTRY_CODES or registration.country == ""
    assert registration.consent_at is not None
    assert registration.interpretation_language in [
        *registration.event.interpretation_languages,
        "",
    ]


@pytest.fixture
def fuzz_settings(settings):
    settings.REGISTRATION_RATE_LIMIT = 10**9
    settings.EVENT_PAGE_CACHE_SECONDS = 0


@FUZZ
@given(data=submissions)
def test_any_registration_post_is_answered_and_stores_only_valid_rows(
    client, event, fuzz_settings, data
):
    url = f"/en/events/{event.slug}/register/"

    def post():
        response = client.post(url, data)
        assert response.status_code in {200, 302}, response.status_code
        rows = list(Registration.objects.filter(event=event).select_related("event"))
        for row in rows:
            assert_valid(row)
        if response.status_code == 200:
            assert rows == []  # a form with errors stores nothing
        return len(rows)

    assert in_rolled_back_savepoint(post) in {0, 1}


@FUZZ
@given(
    token=token_text,
    suffix=st.sampled_from(["", "cancel/"]),
    method=st.sampled_from(["get", "post"]),
)
def test_any_manage_token_is_a_plain_404(client, event, token, suffix, method):
    if not token or "/" in token:
        return

    def visit():
        response = getattr(client, method)(f"/en/r/{quote(token, safe='')}/{suffix}")
        assert response.status_code == 404, (token, response.status_code)

    in_rolled_back_savepoint(visit)


@FUZZ
@given(changes=st.dictionaries(st.sampled_from(services.UPDATABLE_FIELDS), field_value, max_size=4))
def test_any_change_through_the_manage_link_keeps_the_row_valid(client, event, changes):
    def change():
        result = services.register(event=event, data=person(1))
        token = services.issue_manage_token(registration=result.registration)
        data = {**{k: v for k, v in person(1).items() if k in services.UPDATABLE_FIELDS}, **changes}
        response = client.post(f"/en/r/{token}/", data)
        assert response.status_code in {200, 302}, response.status_code
        registration = Registration.objects.select_related("event").get()
        assert_valid(registration)
        assert registration.email == "amina.1@example.org"
        if response.status_code == 200:  # refused: nothing changed
            assert registration.name == person(1)["name"]

    in_rolled_back_savepoint(change)
