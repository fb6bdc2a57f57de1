"""Manage-link tokens cannot be guessed (>= 128 random bits) nor found by enumeration: any
other string is a plain 404, and the lookup is an exact match on a hash, so neither the
answer nor its timing says how much of a token was right."""

import hashlib
import math
import secrets
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events.models import Event
from registration import services
from registration.models import ManageToken, Registration

pytestmark = pytest.mark.django_db


@pytest.fixture
def event():
    starts = timezone.now() + timedelta(days=7)
    return Event.objects.create(
        slug="tokens",
        title="Tokens",
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        status=Event.Status.PUBLISHED,
    )


def register(event, n):
    return services.register(
        event=event,
        data={
            "name": f"Person {n}",
            "email": f"person{n}@example.org",
            "affiliation": "other",
            "preferred_language": "en",
            "consent": True,
        },
    )


def test_tokens_carry_at_least_128_random_bits_and_never_repeat(event):
    tokens = [register(event, n).token for n in range(200)]
    alphabet = set("".join(tokens))
    assert alphabet <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    for token in tokens:
        assert len(token) * math.log2(64) >= 128
    assert len(set(tokens)) == len(tokens)
    # No shared prefix beyond chance: tokens are not sequential or time-based.
    assert len({token[:6] for token in tokens}) == len(tokens)


def test_only_a_hash_of_the_token_is_stored(event):
    token = register(event, 1).token
    stored = ManageToken.objects.get()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    dumped = " ".join(str(value) for value in Registration.objects.values().get().values())
    dumped += " ".join(ManageToken.objects.values_list("token_hash", flat=True))
    assert token not in dumped


def test_the_real_token_opens_the_page_and_no_near_miss_does(client, event):
    token = register(event, 1).token
    assert client.get(f"/en/r/{token}/").status_code == 200
    near_misses = [
        token[:-1],
        token[:22],
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        token + "A",
        token.upper() if token.upper() != token else token.lower(),
        "A" * len(token),
        secrets.token_urlsafe(32),
    ]
    for guess in near_misses:
        assert client.get(f"/en/r/{guess}/").status_code == 404, guess
        assert client.get(f"/en/r/{guess}/cancel/").status_code == 404, guess


def test_random_tokens_are_all_404(client, event):
    for n in range(20):
        register(event, n)
    for _ in range(200):
        assert client.get(f"/en/r/{secrets.token_urlsafe(32)}/").status_code == 404


def test_lookup_is_an_exact_match_on_the_hash_never_a_prefix_or_range(client, event):
    register(event, 1)
    guess = secrets.token_urlsafe(32)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/en/r/{guess}/").status_code == 404
    sql = " ".join(query["sql"] for query in queries.captured_queries)
    assert hashlib.sha256(guess.encode()).hexdigest() in sql
    assert guess not in sql
    for operator in (" LIKE ", " ILIKE ", "SUBSTR", ">", "<"):
        assert operator not in sql.upper(), operator


def test_manage_and_cancel_pages_are_never_stored_by_a_browser_or_proxy(client, event):
    token = register(event, 1).token
    for path in [f"/en/r/{token}/", f"/en/r/{token}/cancel/"]:
        response = client.get(path)
        assert response.status_code == 200
        directives = {part.strip() for part in response["Cache-Control"].split(",")}
        assert {"no-store", "private"} <= directives, path
