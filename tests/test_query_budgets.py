"""Query budgets: the pages a flash crowd or an organiser hits run a constant number of
queries however many agenda items, documents, registrations or events there are.

Each test measures the same request at a small and a large size; the counts must be equal
(no query per row) and within the budget.
"""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events.models import AgendaItem, Document, Event, Speaker
from registration.models import Registration

SMALL, LARGE = 2, 40
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def make_event(slug, *, agenda, documents, registrations):
    starts = timezone.now() + timedelta(days=5)
    event = Event.objects.create(
        slug=slug,
        title=f"Event {slug}",
        summary="Summary",
        description="A **panel**.",
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        status=Event.Status.PUBLISHED,
        interpretation_languages=["en", "fr"],
        capacity=10_000,
        meeting_url="https://meet.example.org/j/secret",
    )
    for n in range(agenda):
        item = AgendaItem.objects.create(
            event=event, starts_at=starts + timedelta(minutes=n), title=f"Item {n}", position=n
        )
        speakers = [
            Speaker.objects.get_or_create(name=f"Speaker {m}", organisation=f"Org {m}")[0]
            for m in range(n % 4 + 1)
        ]
        item.speakers.set(speakers)
    for n in range(documents):
        Document.objects.create(
            event=event,
            title=f"Document {n}",
            kind=Document.Kind.CONCEPT_NOTE if n == 0 else Document.Kind.OTHER,
            file=ContentFile(PDF, name=f"doc-{slug}-{n}.pdf"),
            content_type="application/pdf",
            size=len(PDF),
            position=n,
        )
    now = timezone.now()
    Registration.objects.bulk_create(
        Registration(
            event=event,
            email=f"person{n}@{slug}.example.org",
            name=f"Person {n}",
            affiliation="other",
            country="FR",
            consent_at=now,
            confirmed_at=now,
            status=Registration.Status.CONFIRMED,
        )
        for n in range(registrations)
    )
    return event


def count_queries(call):
    with CaptureQueriesContext(connection) as queries:
        response = call()
    assert response.status_code in {200, 302}, response.status_code
    return len(queries), response


@pytest.fixture
def staff_client(client, db):
    user = get_user_model().objects.create_superuser("boss", "boss@example.org", "pw")
    client.force_login(user)
    return client


@pytest.fixture
def sizes(db):
    return {
        size: make_event(
            f"size-{size}", agenda=size, documents=size // 2 + 1, registrations=size * 5
        )
        for size in (SMALL, LARGE)
    }


def test_event_page_with_cache_off_runs_the_same_queries_however_long_the_agenda(
    client, sizes, settings, django_assert_max_num_queries
):
    settings.EVENT_PAGE_CACHE_SECONDS = 0
    counts = {}
    for size, event in sizes.items():
        url = f"/en/events/{event.slug}/"
        with django_assert_max_num_queries(5):
            counts[size], response = count_queries(lambda url=url: client.get(url))
        page = response.content.decode()
        assert f"Item {size - 1}" in page
        assert f"Document {size // 2}" in page
    assert counts[SMALL] == counts[LARGE]


def test_event_page_warm_cache_hit_needs_no_database(client, sizes):
    event = sizes[LARGE]
    url = f"/en/events/{event.slug}/"
    client.get(url)  # fills the cache
    queries, response = count_queries(lambda: client.get(url))
    assert f"Item {LARGE - 1}" in response.content.decode()
    assert queries == 0


def test_registration_post_runs_the_same_queries_into_a_larger_event(
    client, sizes, django_assert_max_num_queries
):
    # 8 statements: the view's transaction (here a savepoint in the test's own: 2), in it
    # lock the event, count its seats taken (only when it has a capacity), insert the
    # registration in a savepoint (the duplicate check: 3) and its confirmation row. No manage
    # link is stored: the page shows none, the email brings its own. The send is enqueued
    # after commit, outside this count. The form page, shown first as in a browser, has
    # cached the event's questions (registration/questions.py).
    counts = {}
    for size, event in sizes.items():
        url = f"/en/events/{event.slug}/register/"
        assert client.get(url).status_code == 200
        data = {
            "name": "Amina Diallo",
            "email": f"amina-{size}@example.org",
            "organisation": "Prison Reform Network",
            "country": "SN",
            "affiliation": "cso_ngo",
            "preferred_language": "fr",
            "interpretation_language": "fr",
            "consent": "on",
            "website": "",
        }
        with django_assert_max_num_queries(8):
            counts[size], response = count_queries(
                lambda url=url, data=data: client.post(url, data)
            )
        assert response.status_code == 302
        assert Registration.objects.filter(event=event, email=data["email"]).exists()
    assert counts[SMALL] == counts[LARGE]


@pytest.mark.parametrize("mode", ["open", "verify_email"])
def test_registration_post_costs_the_same_in_the_open_and_verified_modes(
    client, sizes, mode, django_assert_max_num_queries
):
    # A verification hold is the same insert with another status, and its verification
    # email the same one outbox row as a confirmation.
    event = sizes[SMALL]
    Event.objects.filter(pk=event.pk).update(registration_mode=mode)
    data = {
        "name": "Amina Diallo",
        "email": "amina-mode@example.org",
        "affiliation": "cso_ngo",
        "preferred_language": "fr",
        "interpretation_language": "fr",
        "consent": "on",
        "website": "",
    }
    # As a browser does: the form page first, which caches the event's questions.
    assert client.get(f"/en/events/{event.slug}/register/").status_code == 200
    with django_assert_max_num_queries(8):
        _count, response = count_queries(
            lambda: client.post(f"/en/events/{event.slug}/register/", data)
        )
    assert response.status_code == 302
    held = Registration.objects.get(event=event, email=data["email"]).status == "held"
    assert held == (mode == "verify_email")


def test_admin_registration_list_runs_the_same_queries_at_10_and_200_rows(
    staff_client, sizes, django_assert_max_num_queries
):
    url = "/en/admin/registration/registration/"
    with django_assert_max_num_queries(5):
        small, response = count_queries(
            lambda: staff_client.get(url, {"event__id__exact": sizes[SMALL].pk})
        )
    assert response.content.decode().count("@size-2.example.org</") == SMALL * 5
    with django_assert_max_num_queries(5):
        large, response = count_queries(
            lambda: staff_client.get(url, {"event__id__exact": sizes[LARGE].pk})
        )
    # 200 rows, a page of 100 shown.
    assert response.content.decode().count("@size-40.example.org</") >= 100
    assert small == large


def test_admin_event_list_runs_the_same_queries_at_2_and_40_events(
    staff_client, db, django_assert_max_num_queries
):
    url = "/en/admin/events/event/"
    for n in range(SMALL):
        make_event(f"few-{n}", agenda=1, documents=0, registrations=3)
    with django_assert_max_num_queries(7):
        small, response = count_queries(lambda: staff_client.get(url))
    assert "Event few-1" in response.content.decode()
    for n in range(LARGE - SMALL):
        make_event(f"many-{n}", agenda=1, documents=0, registrations=3)
    with django_assert_max_num_queries(7):
        large, response = count_queries(lambda: staff_client.get(url))
    assert f"Event many-{LARGE - SMALL - 1}" in response.content.decode()
    assert small == large


FIVE_QUESTIONS = [
    {"key": "position", "type": "text", "required": True, "label": {"en": "Position"}},
    {
        "key": "access",
        "type": "choice",
        "required": True,
        "label": {"en": "Access needs", "fr": "Accessibilité"},
        "choices": [
            {"key": "captions", "label": {"en": "Captions"}},
            {"key": "none", "label": {"en": "None"}},
        ],
    },
    {
        "key": "topics",
        "type": "multiple",
        "label": {"en": "Topics"},
        "choices": [
            {"key": "prisons", "label": {"en": "Prisons"}},
            {"key": "youth", "label": {"en": "Youth"}},
        ],
    },
    {"key": "delegates", "type": "number", "label": {"en": "Delegates"}},
    {
        "key": "delegation",
        "type": "text",
        "required": True,
        "label": {"en": "Delegation"},
        "show_if": {"question": "affiliation", "equals": "member_state"},
    },
]


def test_registration_post_with_five_questions_runs_the_statements_of_one_without(
    client, sizes, django_assert_max_num_queries
):
    # The answers go into the registration's own INSERT (Registration.answers) and the
    # definitions come from the cache the form page filled: no statement per question.
    from registration.questions_exchange import parse_questions, save_questions

    plain = make_event("plain", agenda=2, documents=0, registrations=5)
    asking = make_event("asking", agenda=2, documents=0, registrations=5)
    save_questions(event=asking, parsed=parse_questions(FIVE_QUESTIONS))
    answers = {
        "q_position": "Officer",
        "q_access": "captions",
        "q_topics": ["prisons", "youth"],
        "q_delegates": "4",
        "q_delegation": "Senegal",
    }
    counts = {}
    for event in (plain, asking):
        url = f"/en/events/{event.slug}/register/"
        assert client.get(url).status_code == 200
        data = {
            "name": "Amina Diallo",
            "email": f"amina@{event.slug}.example.org",
            "affiliation": "member_state",
            "interpretation_language": "fr",
            "preferred_language": "fr",
            "consent": "on",
            **answers,
        }
        with django_assert_max_num_queries(8):
            counts[event.slug], response = count_queries(
                lambda url=url, data=data: client.post(url, data)
            )
        assert response.status_code == 302
    assert counts["asking"] == counts["plain"]
    stored = Registration.objects.get(email="amina@asking.example.org").answers
    assert stored == {
        "position": "Officer",
        "access": "captions",
        "topics": ["prisons", "youth"],
        "delegates": 4,
        "delegation": "Senegal",
    }


def test_registration_form_page_with_questions_runs_the_queries_of_one_without(
    client, db, django_assert_max_num_queries
):
    from registration.questions_exchange import parse_questions, save_questions

    plain = make_event("plain", agenda=2, documents=0, registrations=5)
    asking = make_event("asking", agenda=2, documents=0, registrations=5)
    save_questions(event=asking, parsed=parse_questions(FIVE_QUESTIONS))
    counts = {}
    for event in (plain, asking):
        url = f"/en/events/{event.slug}/register/"
        client.get(url)  # the first view after a change reads the definitions: one SELECT
        with django_assert_max_num_queries(3):
            counts[event.slug], response = count_queries(lambda url=url: client.get(url))
    assert 'name="q_delegation"' in response.content.decode()
    assert counts["asking"] == counts["plain"]


def test_admin_registration_list_filtered_by_an_answer_keeps_its_budget(
    staff_client, sizes, django_assert_max_num_queries
):
    from registration.questions_exchange import parse_questions, save_questions

    event = sizes[LARGE]
    save_questions(event=event, parsed=parse_questions(FIVE_QUESTIONS))
    Registration.objects.filter(event=event).update(answers={"access": "captions"})
    url = "/en/admin/registration/registration/"
    with django_assert_max_num_queries(5):
        count_queries(lambda: staff_client.get(url, {"event__id__exact": event.pk}))
    # Filtering by an answer reads the definitions (cached after the first time).
    staff_client.get(url, {"event__id__exact": event.pk, "answer": "access=none"})
    with django_assert_max_num_queries(5):
        _count, response = count_queries(
            lambda: staff_client.get(
                url, {"event__id__exact": event.pk, "answer": "access=captions"}
            )
        )
    assert response.content.decode().count("@size-40.example.org</") >= 100


def test_registration_form_for_a_new_visitor_is_served_without_rendering_a_widget(
    db, django_assert_max_num_queries
):
    # The form page is the one page of a sign-up no cache in front can serve (each visitor
    # gets a CSRF token). Its form is rendered once per language and form
    # (registration.form_html); the next visitor's page renders no widget or crispy template
    # and runs the queries of the first.
    from registration.form_html import forget_rendered_forms
    from registration.questions_exchange import parse_questions, save_questions
    from tests.conftest import BrowserClient

    forget_rendered_forms()
    event = make_event("asking", agenda=2, documents=0, registrations=5)
    save_questions(event=event, parsed=parse_questions(FIVE_QUESTIONS))
    url = f"/en/events/{event.slug}/register/"
    first_count, first = count_queries(lambda: BrowserClient().get(url))
    assert "django/forms/widgets/select_option.html" in [t.name for t in first.templates]
    with django_assert_max_num_queries(2):
        count, response = count_queries(lambda: BrowserClient().get(url))
    rendered = [t.name for t in response.templates]
    assert not [name for name in rendered if name.startswith(("django/forms", "bootstrap5"))]
    page = response.content.decode()
    assert 'name="q_delegation"' in page
    assert page.count('name="csrfmiddlewaretoken"') == 1
    assert count <= first_count


def test_check_your_email_page_runs_one_query_in_the_visitors_language(client, db):
    event = make_event("asking", agenda=2, documents=0, registrations=5)
    event.translations = {"fr": {"title": "Événement traduit"}}
    event.save()
    queries, response = count_queries(
        lambda: client.get(f"/fr/events/{event.slug}/register/check-email/")
    )
    page = response.content.decode()
    assert "Événement traduit" in page
    assert f'href="/fr/events/{event.slug}/"' in page
    assert queries == 1
