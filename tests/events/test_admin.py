import re
import zoneinfo
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import format_html

from events import admin as events_admin
from events.models import Event
from events.signals import event_changed
from registration.models import Registration
from tests.events.conftest import add_agenda, admin_post_data, make_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def geneva_organiser(settings):
    """An organiser whose server and browser think in Geneva time."""
    settings.TIME_ZONE = "Europe/Zurich"
    timezone.activate("Europe/Zurich")
    yield
    timezone.deactivate()


def test_organiser_elsewhere_typing_1230_gets_1230_in_new_york(admin_client, geneva_organiser):
    response = admin_client.post("/en/admin/events/event/add/", admin_post_data())
    assert response.status_code == 302, response.content.decode()[-2000:]
    event = Event.objects.get(slug="side-event")
    # 25 June is summer time in New York: 12:30 EDT is 16:30 UTC (not 10:30 UTC, Geneva's).
    assert event.starts_at == datetime(2030, 6, 25, 16, 30, tzinfo=UTC)
    assert event.local_starts_at.strftime("%H:%M %Z") == "12:30 EDT"


def test_times_entered_with_a_new_zone_are_read_in_that_zone(admin_client):
    data = admin_post_data(timezone="Asia/Tokyo")
    assert admin_client.post("/en/admin/events/event/add/", data).status_code == 302
    event = Event.objects.get(slug="side-event")
    assert event.starts_at == datetime(2030, 6, 25, 3, 30, tzinfo=UTC)


def test_form_shows_the_times_in_the_event_zone_and_says_which(admin_client, june_event):
    html = admin_client.get(f"/en/admin/events/event/{june_event.pk}/change/").content.decode()
    assert 'value="12:30:00"' in html  # 16:30 UTC shown as New York time
    help_text = "In the event&#x27;s time zone, <span data-event-zone>America/New_York</span>."
    assert help_text in html


def test_agenda_times_are_entered_in_the_event_zone(admin_client, june_event, geneva_organiser):
    add_agenda(june_event, 1)
    data = admin_post_data(june_event, **{"agenda_items-0-start_time": "13:10"})
    response = admin_client.post(f"/en/admin/events/event/{june_event.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    item = june_event.agenda_items.get()
    assert item.starts_at == datetime(2021, 6, 25, 17, 10, tzinfo=UTC)


def _changelist_queries(admin_client):
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get("/en/admin/events/event/")
    return response, len(queries)


def _event_with_registrations(n):
    event = make_event(slug=f"event-{n}", starts_at=datetime(2030, 1, 10 + n, 17, tzinfo=UTC))
    for i in range(n):
        Registration.objects.create(
            event=event, email=f"p{i}@example.org", name="P", consent_at=timezone.now()
        )
    Registration.objects.create(
        event=event,
        email="w@example.org",
        name="W",
        consent_at=timezone.now(),
        status=Registration.Status.WAITLISTED,
    )


def test_changelist_shows_start_in_event_zone_and_counts_in_one_query(admin_client):
    _event_with_registrations(0)
    _, queries_for_one = _changelist_queries(admin_client)
    for n in range(1, 6):
        _event_with_registrations(n)
    response, queries_for_six = _changelist_queries(admin_client)
    assert queries_for_six == queries_for_one  # counts come with the rows, not one query each
    assert "2030-01-13 12:00 EST" in response.content.decode()
    rows = response.context["cl"].result_list
    counts = sorted((row.confirmed_total, row.waitlisted_total) for row in rows)
    assert counts == [(n, 1) for n in range(6)]


def test_publish_and_cancel_actions(admin_client, event, django_capture_on_commit_callbacks):
    draft = make_event(slug="draft-one", status=Event.Status.DRAFT)
    received = []

    def receiver(sender, event, **kwargs):
        received.append(event.pk)

    from events.signals import event_cancelled

    event_cancelled.connect(receiver)
    try:
        admin_client.post(
            "/en/admin/events/event/",
            {"action": "publish_events", "_selected_action": [draft.pk]},
        )
        confirm = admin_client.post(
            "/en/admin/events/event/",
            {"action": "cancel_events", "_selected_action": [event.pk]},
        )
        # First the question, and nothing cancelled yet.
        assert "every registrant is emailed" in confirm.content.decode()
        event.refresh_from_db()
        assert event.status == Event.Status.PUBLISHED
        for _ in range(2):
            admin_client.post(
                "/en/admin/events/event/",
                {"action": "cancel_events", "_selected_action": [event.pk], "post": "yes"},
            )
    finally:
        event_cancelled.disconnect(receiver)
    draft.refresh_from_db()
    event.refresh_from_db()
    assert draft.status == Event.Status.PUBLISHED
    assert event.status == Event.Status.CANCELLED
    assert received == [event.pk]  # cancelling twice announces once
    assert client_sees(admin_client, "/en/events/side-event/", "This event has been cancelled.")


def test_event_actions_tell_the_organiser_how_many_events_changed(admin_client, event):
    drafts = [make_event(slug=f"draft-{n}", status=Event.Status.DRAFT) for n in range(2)]
    selected = [event.pk, *(draft.pk for draft in drafts)]

    def told(action, **extra):
        response = admin_client.post(
            "/en/admin/events/event/",
            {"action": action, "_selected_action": selected, **extra},
            follow=True,
        )
        return [(m.level_tag, str(m)) for m in response.context["messages"]]

    # Only the events whose status changed count: the published one was already published.
    assert told("publish_events") == [("success", "2 events published.")]
    assert told("unpublish_events") == [("success", "3 events unpublished.")]
    assert told("cancel_events", post="yes") == [("warning", "3 events cancelled.")]
    assert told("publish_events") == [("success", "0 events published.")]


def client_sees(client, url, text):
    return text in client.get(url).content.decode()


def test_edit_of_time_bumps_sequence_and_announces_it(admin_client, june_event):
    received = []

    def receiver(sender, event, changes, **kwargs):
        received.append((event.sequence, set(changes)))

    event_changed.connect(receiver)
    try:
        data = admin_post_data(june_event, starts_at_1="13:00", title="Renamed")
        response = admin_client.post(f"/en/admin/events/event/{june_event.pk}/change/", data)
        assert response.status_code == 302
        # a title edit alone is not announced
        data = admin_post_data(june_event, starts_at_1="13:00", title="Renamed again")
        admin_client.post(f"/en/admin/events/event/{june_event.pk}/change/", data)
    finally:
        event_changed.disconnect(receiver)
    june_event.refresh_from_db()
    assert june_event.sequence == 1
    assert june_event.changed_at is not None
    assert received == [(1, {"starts_at"})]


def test_translations_are_entered_per_language_and_shown(admin_client, event, client):
    data = admin_post_data(
        event,
        title_fr="La société civile et les prisons",
        summary_es="Resumen en español",
        title_zh_hans="公民社会与监狱",
    )
    response = admin_client.post(f"/en/admin/events/event/{event.pk}/change/", data)
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.translations == {
        "fr": {"title": "La société civile et les prisons"},
        "es": {"summary": "Resumen en español"},
        "zh-hans": {"title": "公民社会与监狱"},
    }
    assert "公民社会与监狱" in client.get("/zh-hans/events/side-event/").content.decode()
    form_html = admin_client.get(f"/en/admin/events/event/{event.pk}/change/").content.decode()
    assert 'value="La société civile et les prisons"' in form_html


def test_other_apps_add_panels_and_actions(admin_client, event):
    def panel(request, event):
        return format_html("<p>Panel for {}</p>", event.slug)

    def mark_reviewed(modeladmin, request, queryset):
        queryset.update(organiser="reviewed")

    mark_reviewed.short_description = "Mark reviewed"
    events_admin.event_admin_panels.append(panel)
    events_admin.register_event_action(mark_reviewed)
    try:
        change = admin_client.get(f"/en/admin/events/event/{event.pk}/change/").content.decode()
        assert "<p>Panel for side-event</p>" in change
        changelist = admin_client.get("/en/admin/events/event/").content.decode()
        assert "Mark reviewed" in changelist
        admin_client.post(
            "/en/admin/events/event/", {"action": "mark_reviewed", "_selected_action": [event.pk]}
        )
    finally:
        events_admin.event_admin_panels.remove(panel)
        events_admin._extra_actions.remove(mark_reviewed)
    event.refresh_from_db()
    assert event.organiser == "reviewed"


def test_preview_link_is_on_the_changelist(admin_client, event):
    html = admin_client.get("/en/admin/events/event/").content.decode()
    assert 'href="/en/events/side-event/"' in html


def test_cancel_action_lists_the_events_and_who_will_be_emailed(admin_client, event):
    other = make_event(slug="other-event", title="Another side event")
    for i in range(2):
        Registration.objects.create(
            event=event, email=f"c{i}@example.org", name="P", consent_at=timezone.now()
        )
    response = admin_client.post(
        "/en/admin/events/event/",
        {"action": "cancel_events", "_selected_action": [event.pk, other.pk]},
    )
    html = response.content.decode()
    assert "Cancel these 2 events?" in html
    assert "Civil society and prisons — 2 registrants will be emailed." in html
    assert "Another side event — 0 registrants will be emailed." in html
    assert 'name="post" value="yes"' in html
    assert set(Event.objects.values_list("status", flat=True)) == {Event.Status.PUBLISHED}


def test_cancel_button_on_the_change_form_asks_first(
    admin_client, event, django_capture_on_commit_callbacks
):
    change = admin_client.get(f"/en/admin/events/event/{event.pk}/change/").content.decode()
    cancel_url = f"/en/admin/events/event/{event.pk}/cancel/"
    assert f'href="{cancel_url}"' in change and "Cancel this event" in change

    question = admin_client.get(cancel_url).content.decode()
    assert "Cancel this event?" in question and "every registrant is emailed" in question
    event.refresh_from_db()
    assert event.status == Event.Status.PUBLISHED

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(cancel_url, {"post": "yes"})
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.status == Event.Status.CANCELLED
    change = admin_client.get(f"/en/admin/events/event/{event.pk}/change/").content.decode()
    assert cancel_url not in change


def test_status_select_cannot_cancel_in_passing(admin_client, event):
    data = admin_post_data(event, status="cancelled")
    response = admin_client.post(f"/en/admin/events/event/{event.pk}/change/", data)
    assert response.status_code == 200  # the form comes back with an error
    event.refresh_from_db()
    assert event.status == Event.Status.PUBLISHED


def test_time_zone_is_chosen_from_a_searchable_list_and_still_checked(admin_client, event):
    html = admin_client.get("/en/admin/events/event/add/").content.decode()
    assert 'name="timezone"' in html and 'list="timezone-list"' in html
    # Every zone with its UTC offset now; the common ones first (Geneva is Europe/Zurich).
    options = re.findall(r'<option value="([^"]+)" data-offset="(-?\d+)">UTC([^ ]+) ', html)
    names = [name for name, _seconds, _offset in options]
    assert names[:2] == ["America/New_York", "Europe/Zurich"]
    assert set(names) == zoneinfo.available_timezones() and len(names) == len(set(names))
    assert "Europe/Geneva" not in names
    offsets = {name: (int(seconds), offset) for name, seconds, offset in options}
    assert offsets["Asia/Kolkata"] == (19800, "+05:30")
    assert offsets["UTC"] == (0, "+00:00")
    response = admin_client.post(
        "/en/admin/events/event/add/", admin_post_data(slug="new-one", timezone="Europe/Geneva")
    )
    assert response.status_code == 200
    assert "Europe/Geneva is not a known IANA time zone" in response.content.decode()
    assert not Event.objects.filter(slug="new-one").exists()


def test_a_zone_typed_in_lower_case_is_spelled_the_iana_way(admin_client, db):
    data = admin_post_data(slug="new-one", timezone=" europe/zurich")
    assert admin_client.post("/en/admin/events/event/add/", data).status_code == 302
    event = Event.objects.get(slug="new-one")
    assert event.timezone == "Europe/Zurich"
    assert event.local_starts_at.strftime("%H:%M %Z") == "12:30 CEST"  # read in that zone


def test_a_misspelt_zone_gets_suggestions(admin_client, db):
    data = admin_post_data(slug="new-one", timezone="America/NewYork")
    html = admin_client.post("/en/admin/events/event/add/", data).content.decode()
    assert "America/NewYork is not a known IANA time zone" in html
    assert "Did you mean America/New_York" in html


def test_every_common_zone_is_a_real_iana_zone():
    from events.zones import COMMON_ZONES

    assert set(COMMON_ZONES) <= zoneinfo.available_timezones()


def test_interpretation_languages_are_six_checkboxes_not_json(admin_client, db):
    from events.models import Event

    html = admin_client.get("/en/admin/events/event/add/").content.decode()
    for code in ["ar", "zh-hans", "en", "fr", "ru", "es"]:
        assert f'type="checkbox" name="interpretation_languages" value="{code}"' in html
    assert not Event.objects.exists()


# --- Branding, the title box, the speaker autocomplete ----------------------------------------


def test_admin_is_branded_with_site_name_not_django(admin_client, settings):
    settings.SITE_NAME = "UNOCT Events"

    html = admin_client.get("/en/admin/").content.decode()

    assert "Django administration" not in html and "Django site admin" not in html
    assert '<div id="site-name"><a href="/en/admin/">UNOCT Events</a></div>' in html
    assert "<title>UNOCT Events administration | UNOCT Events admin</title>" in html
    assert "UNOCT Events administration</h1>" in html


def test_admin_loads_the_sentence_case_stylesheet_last(admin_client):
    html = admin_client.get("/en/admin/registration/registration/").content.decode()
    head = html[: html.index("</head>")]
    assert head.rindex('href="/static/css/admin.css"') > head.rindex('href="/static/admin/css/')


def test_event_title_box_is_wide(admin_client):
    event = make_event()
    html = admin_client.get(f"/en/admin/events/event/{event.pk}/change/").content.decode()
    title_input = html[html.index('name="title"') - 200 : html.index('name="title"') + 200]
    assert 'class="vLargeTextField"' in title_input


def test_document_sizes_are_plural(admin_client):
    from django.core.files.base import ContentFile

    from events.demo.pdf import simple_pdf
    from events.models import Document

    event = make_event()
    pdf = simple_pdf("Concept note", ["Short."])
    document = Document.objects.create(
        event=event, title="Concept note", file=ContentFile(pdf, name="note.pdf")
    )
    Document.objects.filter(pk=document.pk).update(size=720)
    html = admin_client.get(f"/en/admin/events/event/{event.pk}/change/").content.decode()
    assert "<p>720\xa0bytes</p>" in html


def test_speaker_autocomplete_pages_an_ordered_list(admin_client, recwarn):
    from events.models import Speaker

    for name in ("Zainab Bello", "Ana Souza", "Li Wei"):
        Speaker.objects.create(name=name, organisation="UNOCT")
    event = make_event()
    add_agenda(event, 1)

    response = admin_client.get(
        "/en/admin/autocomplete/",
        {
            "term": "",
            "app_label": "events",
            "model_name": "agendaitem",
            "field_name": "speakers",
        },
    )

    assert response.status_code == 200
    names = [row["text"] for row in response.json()["results"]]
    assert names[:3] == sorted(names[:3])
    assert not [w for w in recwarn if "UnorderedObjectListWarning" in type(w.message).__name__]
