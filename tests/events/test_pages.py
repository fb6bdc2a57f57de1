import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from events import cache as event_cache
from events import services
from events.models import Event, Membership, Team
from registration.models import Registration
from tests.events.conftest import add_agenda, make_event

pytestmark = pytest.mark.django_db


def page_text(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def register(event, n, status=Registration.Status.CONFIRMED):
    for i in range(n):
        Registration.objects.create(
            event=event,
            email=f"person{i}-{status}@example.org",
            name=f"Person {i}",
            consent_at=timezone.now(),
            status=status,
        )
    event_cache.bump_event(event.pk)


def test_june_event_shows_new_york_daylight_time_and_utc(client, june_event):
    html = page_text(client, "/en/events/june-event/")
    assert '<time datetime="2021-06-25">June 25, 2021</time>' in html
    assert "12:30 p.m." in html
    assert ">EDT</abbr>" in html
    assert "EST" not in html
    assert "June 25, 2021, 16:30\u201318:00 UTC" in html


def test_january_event_shows_new_york_standard_time_and_utc(client):
    make_event(
        slug="january-event",
        starts_at=datetime(2022, 1, 14, 17, 30, tzinfo=UTC),
        ends_at=datetime(2022, 1, 14, 19, 0, tzinfo=UTC),
    )
    html = page_text(client, "/en/events/january-event/")
    assert '<time datetime="2022-01-14">Jan. 14, 2022</time>' in html
    assert "12:30 p.m." in html
    assert ">EST</abbr>" in html
    assert "EDT" not in html
    assert "Jan. 14, 2022, 17:30\u201319:00 UTC" in html


@pytest.mark.parametrize(
    ("language", "date", "wrong"),
    [
        ("zh-hans", "2021\u5e746\u670825\u65e5", "\u516d\u6708 2021"),  # not "六月 2021"
        ("ru", "25 \u0438\u044e\u043d\u044f 2021", "\u0418\u044e\u043d\u044c 2021"),
        ("fr", "25 juin 2021", "Vendredi"),
    ],
)
def test_dates_follow_the_page_language_with_zone_and_utc(
    client, june_event, language, date, wrong
):
    html = page_text(client, f"/{language}/events/june-event/")
    assert f'<time datetime="2021-06-25">{date}' in html
    assert wrong not in html
    assert ">EDT</abbr>" in html
    assert "16:30\u201318:00 UTC" in html
    assert ">14:00</time>" in html  # 24-hour times where the language uses them
    list_html = page_text(client, f"/{language}/events/past/")
    assert f'<time datetime="2021-06-25">{date}' in list_html and ">EDT</abbr>" in list_html


def test_page_carries_utc_instants_for_the_visitors_local_time_script(client, june_event):
    html = page_text(client, "/en/events/june-event/")
    assert 'data-start="2021-06-25T16:30:00+00:00"' in html
    assert 'src="/static/events/local-time.js"' in html


def test_agenda_times_are_in_the_event_zone_with_speakers(client, june_event):
    add_agenda(june_event, 3)
    html = page_text(client, "/en/events/june-event/")
    assert "12:30 p.m." in html and "12:32 p.m." in html
    assert "Agenda item 2" in html
    assert "Speaker 2" in html and "Org 2" in html


def test_draft_is_404_for_the_public_and_previewable_by_its_organisers(client, event):
    event.status = Event.Status.DRAFT
    event.save()
    assert client.get("/en/events/side-event/").status_code == 404
    assert client.get("/en/events/side-event/calendar.ics").status_code == 404
    assert "Civil society and prisons" not in page_text(client, "/en/")

    ours, theirs = Team.objects.create(slug="ours", name="Ours"), Team.objects.create(slug="x")
    event.teams.add(ours)
    other = User.objects.create_user("other-team", password="pw", is_staff=True)
    Membership.objects.create(team=theirs, user=other)
    client.force_login(other)
    assert client.get("/en/events/side-event/").status_code == 404

    staff = User.objects.create_user("organiser", password="pw", is_staff=True)
    Membership.objects.create(team=ours, user=staff, role=Membership.Role.VIEWER)
    client.force_login(staff)
    html = page_text(client, "/en/events/side-event/")
    assert "Preview: this event is a draft" in html


def test_cancelled_event_says_so_and_offers_no_registration(client, event):
    register(event, 2)
    services.cancel_event(event=event)
    html = page_text(client, "/en/events/side-event/")
    assert "This event has been cancelled." in html
    assert 'data-state="cancelled"' in html
    assert "/register/" not in html


def test_description_markdown_is_rendered_and_script_removed(client):
    make_event(
        description='# Aims\n\n**Bold** <script>alert("x")</script> '
        '<a href="javascript:alert(1)" onclick="steal()">link</a> <img src=x onerror=alert(2)>'
    )
    html = page_text(client, "/en/events/side-event/")
    assert "<strong>Bold</strong>" in html
    assert 'alert("x")' not in html
    assert "javascript:" not in html
    assert "onclick" not in html and "onerror" not in html


def test_expected_outcomes_are_a_list(client, event):
    html = page_text(client, "/en/events/side-event/")
    assert "<li>Show the role of CSOs</li>" in html
    assert "<li>Share practices</li>" in html


def test_interpretation_languages_and_format_are_shown(client, event):
    html = page_text(client, "/en/events/side-event/")
    languages = re.search(r'<ul class="[^"]*interpretation-languages">(.*?)</ul>', html).group(1)
    assert re.findall(r"<li[^>]*>([^<]+)</li>", languages) == [
        "Arabic",
        "Chinese",
        "English",
        "French",
        "Russian",
        "Spanish",
    ]
    assert "Virtual" in html


def test_list_shows_upcoming_and_links_past(client, event, june_event):
    upcoming = page_text(client, "/en/")
    assert "Civil society and prisons" in upcoming
    assert "/en/events/june-event/" not in upcoming
    assert 'href="/en/events/past/"' in upcoming
    past = page_text(client, "/en/events/past/")
    assert "/en/events/june-event/" in past
    assert "/en/events/side-event/" not in past


@pytest.mark.parametrize(
    ("changes", "state", "text"),
    [
        ({}, "open", "300 places left."),
        ({"registration_opens_at": timedelta(days=1)}, "not_yet_open", "not open yet"),
        ({"registration_closes_at": timedelta(days=-1)}, "closed", "Registration is closed."),
        ({"capacity": 2}, "full", "The event is full."),
    ],
)
def test_registration_status(client, changes, state, text):
    now = timezone.now()
    values = {
        key: (now + value if isinstance(value, timedelta) else value)
        for key, value in changes.items()
    }
    if "registration_closes_at" in values:
        values["registration_opens_at"] = now - timedelta(days=3)
    event = make_event(**values)
    if state == "full":
        register(event, 2)
    html = page_text(client, "/en/events/side-event/")
    assert f'data-state="{state}"' in html
    assert text in html
    assert ('href="/en/events/side-event/register/"' in html) == (state in {"open", "full"})


def test_seats_left_follow_registrations_through_the_cache(client, event):
    assert "300 places left." in page_text(client, "/en/events/side-event/")
    assert "300 places left." in page_text(client, "/en/events/side-event/")  # now cached
    register(event, 3)
    register(event, 2, status=Registration.Status.WAITLISTED)
    assert "297 places left." in page_text(client, "/en/events/side-event/")


def test_warm_cache_serves_anonymous_visitors_without_queries(
    client, event, django_assert_num_queries
):
    add_agenda(event, 5)
    first = page_text(client, "/en/events/side-event/")
    with django_assert_num_queries(0):
        second = page_text(client, "/en/events/side-event/")
    assert second == first


def test_an_edit_shows_on_the_next_view_of_a_cached_page(
    client, event, django_capture_on_commit_callbacks
):
    page_text(client, "/en/events/side-event/")
    event.title = "A new title"
    with django_capture_on_commit_callbacks(execute=True):
        services.save_event(event=event, changed_fields=["title"])
    assert "A new title" in page_text(client, "/en/events/side-event/")


def test_unpublished_event_is_not_served_from_the_cache(
    client, event, django_capture_on_commit_callbacks
):
    page_text(client, "/en/events/side-event/")
    with django_capture_on_commit_callbacks(execute=True):
        services.unpublish(event=event)
    assert client.get("/en/events/side-event/").status_code == 404


def test_visitor_language_shows_translated_title_with_english_fallback(client, event):
    event.translations = {"fr": {"title": "La société civile et les prisons"}}
    event.save()
    french = page_text(client, "/fr/events/side-event/")
    assert "La société civile et les prisons" in french
    # no French summary: the English one is shown
    assert "How civil society helps manage violent extremist prisoners." in french
    assert "La société civile et les prisons" not in page_text(client, "/en/events/side-event/")


def test_english_fallback_is_marked_as_english(client, event):
    """WCAG 3.1.2: text that falls back to English says so, and reads left to right in Arabic."""
    event.translations = {"fr": {"title": "La société civile et les prisons"}}
    event.save()
    item = add_agenda(event, 1)[0]
    item.translations = {"ar": {"title": "الكلمة الافتتاحية"}}
    item.save()
    french = page_text(client, "/fr/events/side-event/")
    assert '<h1 id="event-title" class="event-title">La société civile' in french
    assert '<p class="lead" lang="en">How civil society' in french
    assert '<div class="event-description" lang="en"><p>A <strong>panel' in french
    assert '<ul class="event-outcomes" lang="en">' in french
    assert '<h3 class="h6 mb-1" lang="en">Agenda item 0</h3>' in french

    arabic = page_text(client, "/ar/events/side-event/")
    assert 'class="event-title" lang="en" dir="ltr">Civil society and prisons</h1>' in arabic
    assert '<h3 class="h6 mb-1">الكلمة الافتتاحية</h3>' in arabic

    english = page_text(client, "/en/events/side-event/")
    assert '<h3 class="h6 mb-1">Agenda item 0</h3>' in english  # nothing to mark in English


def test_calendar_links_opening_a_new_tab_say_so(client, event):
    html = page_text(client, "/en/events/side-event/")
    for name in ("Add to Google Calendar", "Add to Outlook"):
        assert (
            f'target="_blank">{name}<span class="visually-hidden"> (opens in a new tab)</span></a>'
            in html
        )


@pytest.mark.parametrize("agenda_length", [3, 300])
def test_event_page_queries_do_not_grow_with_the_agenda(
    client, event, agenda_length, django_assert_max_num_queries
):
    add_agenda(event, agenda_length)
    event_cache.bump_event(event.pk)
    # The event with its seats taken, the agenda with its speakers, the documents.
    with django_assert_max_num_queries(3):
        html = page_text(client, "/en/events/side-event/?nocache=1")
    assert html.count('class="agenda-item"') == agenda_length
