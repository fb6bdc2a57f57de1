"""Property-based tests: arbitrary input never causes a 500 and never leaves an invalid row.

Hypothesis runs many examples inside one test; each example runs in a savepoint that is
rolled back, so examples do not see each other's rows. Examples are bounded so that the
suite stays quick; raise FUZZ_EXAMPLES locally to search harder.
"""

import os
import string

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "120"))

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=bool(os.environ.get("CI")),  # CI: the same examples every run
)

# Any text a browser could send: every Unicode category (control characters, NUL, RTL
# marks, emoji, combining marks) except lone surrogates, which UTF-8 cannot carry.
any_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=300)
nasty_text = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "Robert'); DROP TABLE registration_registration;--",
        "<script>alert(1)</script>",
        '=HYPERLINK("http://evil.example")',
        "line\r\nBcc: victim@example.org",
        "\u202eevil\u202c",
        "x" * 5000,
        "ä" * 201,
        "👩🏽‍💻" * 60,
        "@",
        "a@b",
        "a@b.c" + "c" * 300,
        "ANA@EXAMPLE.ORG ",
        "%00",
        "../../etc/passwd",
    ]
)
field_value = st.one_of(any_text, nasty_text, st.lists(any_text, min_size=2, max_size=3))
token_text = st.one_of(
    st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=0, max_size=80),
    st.text(alphabet=st.characters(exclude_categories=["Cs"]), min_size=1, max_size=80),
)


class Rollback(Exception):
    pass


def in_rolled_back_savepoint(function):
    """Run function() in a savepoint and undo everything it wrote; return its result."""
    result = None
    try:
        with transaction.atomic():
            result = function()
            raise Rollback
    except Rollback:
        pass
    return result


@pytest.fixture
def event(db):
    """A published event open for registration, with interpretation in three languages."""
    from datetime import timedelta

    from django.utils import timezone

    from events.models import Event

    starts = timezone.now() + timedelta(days=7)
    return Event.objects.create(
        slug="fuzz-event",
        title="Fuzz event",
        starts_at=starts,
        ends_at=starts + timedelta(minutes=90),
        status=Event.Status.PUBLISHED,
        interpretation_languages=["en", "fr", "ar"],
        meeting_url="https://meet.example.org/j/fuzz-secret",
    )
