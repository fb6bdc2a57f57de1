"""Proof of work on the registration form (registration/proof_of_work.py): off by default,
on site-wide or for one event; a solved challenge registers once, a missing, forged, expired
or replayed one is refused with words a person can act on."""

import json
import re
import time

import pytest
import time_machine
from altcha import PayloadV1, solve_challenge_v1
from django.core.management import CommandError

from config import cache as cache_module
from events.models import Event, Membership, Team
from registration import proof_of_work
from registration.models import Registration
from tests.conftest import BrowserClient as Client
from tests.registration.conftest import form_post

pytestmark = pytest.mark.django_db

CHALLENGE_URL = "/en/proof-of-work/challenge/"


@pytest.fixture(autouse=True)
def _small_puzzles(settings):
    # The browser's share of work is measured in tests/e2e/test_proof_of_work.py; here the
    # tests solve in Python, so keep each puzzle small.
    settings.REGISTRATION_PROOF_OF_WORK_MAXNUMBER = 2_000


def solved(client=None):
    """A payload as the widget posts it, for a challenge fetched from our endpoint."""
    client = client or Client()
    challenge = client.get(CHALLENGE_URL).json()
    solution = solve_challenge_v1(
        challenge["challenge"], challenge["salt"], challenge["algorithm"], challenge["maxNumber"]
    )
    return PayloadV1(
        challenge["algorithm"],
        challenge["challenge"],
        solution.number,
        challenge["salt"],
        challenge["signature"],
    ).to_base64()


def post(event, n, **fields):
    client = Client(REMOTE_ADDR=f"198.51.100.{n}")
    return client.post(f"/en/events/{event.slug}/register/", form_post(n, **fields))


def registered(event):
    return Registration.objects.filter(event=event).count()


def test_off_by_default_the_form_has_no_check_and_registers_without_one(client, event):
    page = client.get(f"/en/events/{event.slug}/register/").content.decode()
    assert "altcha-widget" not in page
    assert post(event, 1).status_code == 302
    assert registered(event) == 1


def test_an_event_with_proof_of_work_shows_the_widget_and_explains_it(client, make_event):
    guarded = make_event(proof_of_work=True)
    other = make_event()
    page = client.get(f"/en/events/{guarded.slug}/register/").content.decode()
    assert "<altcha-widget" in page
    assert 'challengeurl="/en/proof-of-work/challenge/"' in page
    assert "/static/vendor/altcha/worker.js" in page
    assert "<noscript>" in page
    assert "needs JavaScript" in page
    assert "altcha-widget" not in client.get(f"/en/events/{other.slug}/register/").content.decode()


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "Turn JavaScript on for this site"),
        ("fr", "activez JavaScript"),
        ("es", "Active JavaScript"),
        ("ru", "Включите JavaScript"),
        ("zh-hans", "请为本网站启用 JavaScript"),
        ("ar", "فعّل JavaScript"),
    ],
)
def test_without_javascript_the_form_says_why_in_every_language(
    client, make_event, language, words
):
    event = make_event(proof_of_work=True)
    page = client.get(f"/{language}/events/{event.slug}/register/").content.decode()
    noscript = page.split("<noscript>", 1)[1].split("</noscript>", 1)[0]
    assert words in noscript


def test_the_site_wide_switch_guards_every_event(client, event, settings):
    settings.REGISTRATION_PROOF_OF_WORK = True
    assert "<altcha-widget" in client.get(f"/en/events/{event.slug}/register/").content.decode()
    response = post(event, 1)
    assert response.status_code == 200
    assert registered(event) == 0


def test_without_the_check_nobody_is_registered_and_the_form_says_what_to_do(make_event):
    event = make_event(proof_of_work=True)
    response = post(event, 1)
    assert response.status_code == 200
    assert "This check needs JavaScript" in response.content.decode()
    assert 'href="#id_altcha"' in response.content.decode()  # the error summary's link
    assert registered(event) == 0


def test_a_solved_check_registers(make_event):
    event = make_event(proof_of_work=True)
    assert post(event, 1, altcha=solved()).status_code == 302
    assert registered(event) == 1


def test_a_solution_is_accepted_once(make_event):
    event = make_event(proof_of_work=True)
    payload = solved()
    assert post(event, 1, altcha=payload).status_code == 302
    replay = post(event, 2, altcha=payload)
    assert replay.status_code == 200
    assert "could not be confirmed" in replay.content.decode()
    assert registered(event) == 1


def test_an_expired_solution_is_refused(make_event):
    event = make_event(proof_of_work=True)
    payload = solved()
    with time_machine.travel(time.time() + 11 * 60):
        response = post(event, 1, altcha=payload)
    assert "The check expired" in response.content.decode()
    assert registered(event) == 0


@pytest.mark.parametrize("field", ["number", "salt", "signature"])
def test_a_tampered_solution_is_refused(make_event, field):
    event = make_event(proof_of_work=True)
    data = PayloadV1.from_base64(solved()).to_dict()
    if field == "number":
        data["number"] += 1
    elif field == "salt":
        data["salt"] = data["salt"].replace("expires=", "expires=9", 1)  # a later expiry
    else:
        data["signature"] = "0" * 64
    response = post(event, 1, altcha=PayloadV1.from_dict(data).to_base64())
    assert "could not be confirmed" in response.content.decode()
    assert registered(event) == 0


def test_garbage_is_refused_not_an_error(make_event):
    event = make_event(proof_of_work=True)
    for junk in ["not base64 at all", "eyJhIjogMX0=", "W10="]:
        response = post(event, 1, altcha=junk)
        assert response.status_code == 200
        assert "could not be confirmed" in response.content.decode()
    assert registered(event) == 0


def test_a_challenge_signed_with_another_key_is_refused(make_event, settings):
    event = make_event(proof_of_work=True)
    settings.ALTCHA_HMAC_KEY = "key-of-another-site"
    payload = solved()
    settings.ALTCHA_HMAC_KEY = "our-key"
    assert "could not be confirmed" in post(event, 1, altcha=payload).content.decode()


def test_the_key_defaults_to_one_derived_from_the_secret_key(settings):
    settings.ALTCHA_HMAC_KEY = ""
    derived = proof_of_work.hmac_key()
    assert derived and derived != settings.SECRET_KEY
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    assert proof_of_work.hmac_key() != derived
    settings.ALTCHA_HMAC_KEY = "explicit"
    assert proof_of_work.hmac_key() == "explicit"


def test_the_challenge_is_fresh_json_without_cookies():
    response = Client().get(CHALLENGE_URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    assert not response.cookies
    data = response.json()
    assert set(data) == {"algorithm", "challenge", "maxNumber", "salt", "signature"}
    assert data["algorithm"] == "SHA-256"
    assert data["maxNumber"] == 2_000
    assert "expires=" in data["salt"]
    assert Client().get(CHALLENGE_URL).json()["salt"] != data["salt"]


def test_the_challenge_endpoint_is_rate_limited_per_address():
    client = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(proof_of_work.CHALLENGE_RATE_LIMIT):
        assert client.get(CHALLENGE_URL).status_code == 200
    refused = client.get(CHALLENGE_URL)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "600"
    assert Client(REMOTE_ADDR="203.0.113.10").get(CHALLENGE_URL).status_code == 200


def test_during_a_cache_outage_the_check_fails_open(make_event, monkeypatch):
    """Redis unreachable: registration goes on (a replay is then possible until the
    challenge expires; the module docstring says why that is the better failure)."""
    from tests.notifications.smtp_server import free_port

    event = make_event(proof_of_work=True)
    payload = solved()
    monkeypatch.setattr(cache_module, "outage", cache_module._Outage())
    unreachable = cache_module.ResilientRedisCache(f"redis://127.0.0.1:{free_port()}/0", {})
    monkeypatch.setattr(proof_of_work, "cache", unreachable)
    assert post(event, 1, altcha=payload).status_code == 302
    assert post(event, 2, altcha=payload).status_code == 302
    assert registered(event) == 2


def test_site_administrators_turn_it_on_in_the_admin_organisers_cannot(
    admin_client, client, make_event, django_user_model
):
    event = make_event()
    url = f"/en/admin/events/event/{event.pk}/change/"
    assert 'name="proof_of_work"' in admin_client.get(url).content.decode()

    team = Team.objects.create(slug="organisers", name="Organisers")
    event.teams.add(team)
    organiser = django_user_model.objects.create_user("organiser", password="pw", is_staff=True)
    Membership.objects.create(team=team, user=organiser, role=Membership.Role.MANAGER)
    client.force_login(organiser)
    page = client.get(url)
    assert page.status_code == 200
    assert "Proof of work" in page.content.decode()  # shown, read-only
    assert 'name="proof_of_work"' not in page.content.decode()


def test_proof_of_work_travels_with_the_event_json(tmp_path):
    from events.demo.pdf import simple_pdf
    from tests.events.test_exchange import event_json, run, write

    (tmp_path / "note.pdf").write_bytes(simple_pdf("Concept note", ["Text."]))
    run("import_event", str(write(tmp_path, event_json(proof_of_work=True))))
    event = Event.objects.get(slug="imported")
    assert event.proof_of_work is True
    assert json.loads(run("export_event", "imported"))["proof_of_work"] is True

    # An older file without the key leaves an event under attack protected.
    data = event_json()
    data.pop("proof_of_work", None)
    run("import_event", str(write(tmp_path, data)))
    event.refresh_from_db()
    assert event.proof_of_work is True

    run("import_event", str(write(tmp_path, event_json(proof_of_work=False))))
    event.refresh_from_db()
    assert event.proof_of_work is False

    with pytest.raises(CommandError, match=re.escape("proof_of_work: expected true or false")):
        run("import_event", str(write(tmp_path, event_json(proof_of_work="yes"))))


def test_the_check_adds_no_database_statement_to_a_sign_up(make_event):
    """It lives in the cache: the registration POST's statements stay those of an event
    without it (tests/test_query_budgets.py holds the budget)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for n, guarded in enumerate([False, True], start=1):
        event = make_event(proof_of_work=guarded)
        client = Client(REMOTE_ADDR=f"198.51.100.{n}")
        client.get(f"/en/events/{event.slug}/register/")  # as a browser does, first
        extra = {"altcha": solved(client)} if guarded else {}
        with CaptureQueriesContext(connection) as queries:
            response = client.post(f"/en/events/{event.slug}/register/", form_post(n, **extra))
        assert response.status_code == 302
        counts.append(len(queries))
    assert counts[0] == counts[1]
