import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from events.models import Event
from registration import services
from registration.models import Registration
from tests.conftest import BrowserClient as Client
from tests.registration.conftest import form_post

Status = Registration.Status


def register_url(event, language="en"):
    return f"/{language}/events/{event.slug}/register/"


def test_form_labels_every_field_and_links_the_privacy_notice(client, event):
    response = client.get(register_url(event))

    html = response.content.decode()
    assert response.status_code == 200
    for field in [
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
    ]:
        assert f'for="id_{field}"' in html, field
    assert reverse("registration:privacy") in html
    assert html.count("<h1") == 1
    # The honeypot sits in a container hidden from screen readers, out of the tab order.
    assert re.search(r'aria-hidden="true"[^>]*>\s*<div[^>]*id="div_id_website"', html) or (
        'class="convene-hp" aria-hidden="true"' in html
    )
    assert 'tabindex="-1"' in html
    assert "registration/registration.js" in html


def test_form_speaks_the_visitors_language(client, event):
    html = client.get(register_url(event, "fr")).content.decode()
    assert "Allemagne" in html  # countries in French
    assert 'value="fr" selected' in html  # emails in French by default


def test_interpretation_choices_come_from_the_event(client, make_event):
    event = make_event(interpretation_languages=["en", "fr"])
    html = client.get(register_url(event)).content.decode()
    select = re.search(r'<select name="interpretation_language".*?</select>', html, re.S)
    assert select
    assert re.findall(r'value="(\w[\w-]*)"', select.group(0)) == ["en", "fr"]


def test_registering_shows_check_your_email_and_stores_the_registration(client, event):
    response = client.post(register_url(event), form_post(email=" Ana@Example.org "), follow=True)

    assert response.redirect_chain[-1][0] == f"/en/events/{event.slug}/register/check-email/"
    assert "Check your email" in response.content.decode()
    registration = Registration.objects.get()
    assert registration.email == "ana@example.org"
    assert registration.status == Status.CONFIRMED
    assert registration.timezone == "Africa/Dakar"


def test_duplicate_registration_looks_exactly_like_a_new_one(client, event):
    first = client.post(register_url(event), form_post(1, email="ana@example.org"), follow=True)
    second = client.post(register_url(event), form_post(2, email="ANA@example.org "), follow=True)

    assert first.redirect_chain == second.redirect_chain
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert Registration.objects.count() == 1


def test_honeypot_gets_the_same_page_and_stores_nothing(client, event):
    honest = client.post(register_url(event), form_post(1), follow=True)
    bot = client.post(register_url(event), form_post(2, website="http://spam.example"), follow=True)

    assert bot.redirect_chain == honest.redirect_chain
    assert bot.content == honest.content
    assert list(Registration.objects.values_list("email", flat=True)) == ["amina.1@example.org"]


TOO_LONG = "x" * 201


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", TOO_LONG),
        ("name", "Amina\r\nBcc: victim@example.org"),
        ("name", "Amina\nDiallo"),
        ("name", "Amina\x07"),
        ("name", "   \t  "),
        ("name", None),
        ("email", "a" * 250 + "@example.org"),
        ("email", "not-an-email"),
        ("email", "ana@example.org\r\nBcc: x@example.org"),
        ("organisation", TOO_LONG),
        ("organisation", "Ministry\r\nof Justice"),
        ("job_title", TOO_LONG),
        ("country", "XX"),
        ("affiliation", "spy"),
        ("preferred_language", "de"),
        ("preferred_language", "fr" * 200),
        ("interpretation_language", "de"),
        ("consent", None),
    ],
)
def test_bad_input_gets_a_field_error_keeps_the_input_and_stores_nothing(
    client, event, field, value
):
    data = form_post(**{field: value})
    response = client.post(register_url(event), data)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'role="alert"' in html
    assert f'href="#id_{field}"' in html  # summarised at the top, linking to the field
    assert f'id="id_{field}_error"' in html  # and next to the field
    assert re.search(rf'aria-describedby="[^"]*id_{field}_error', html)
    assert 'value="Prison Reform Network"' in html or field == "organisation"
    assert not Registration.objects.exists()


def test_interpretation_language_not_offered_by_this_event_is_refused(client, make_event):
    event = make_event(interpretation_languages=["en", "fr"])
    response = client.post(register_url(event), form_post(interpretation_language="ru"))
    assert 'id="id_interpretation_language_error"' in response.content.decode()
    assert not Registration.objects.exists()


def test_unknown_time_zone_from_the_browser_is_dropped_not_refused(client, event):
    client.post(register_url(event), form_post(timezone="Mars/Olympus_Mons"))
    assert Registration.objects.get().timezone == ""


def test_rate_limit_answers_429_with_a_readable_page(client, event, settings):
    settings.REGISTRATION_RATE_LIMIT = 3
    for n in range(3):
        assert client.post(register_url(event), form_post(n)).status_code == 302

    response = client.post(register_url(event), form_post(99))

    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert response["Retry-After"]
    assert Registration.objects.count() == 3
    # Another address is not affected.
    other = client.post(register_url(event), form_post(100), REMOTE_ADDR="192.0.2.7")
    assert other.status_code == 302


def test_signup_stores_only_the_manage_link_its_email_carries(
    client, event, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(register_url(event), form_post()).status_code == 302
    registration = Registration.objects.get()
    path = re.search(r"(/fr/r/[^/\s]+/)", mail.outbox[0].body).group(1)
    assert registration.name in client.get(path).content.decode()
    # No second, unsent link lies in the database.
    assert registration.manage_tokens.count() == 1


def test_csrf_is_enforced(event):
    browserless = Client(enforce_csrf_checks=True)
    response = browserless.post(register_url(event), form_post())
    assert response.status_code == 403
    assert not Registration.objects.exists()


@pytest.mark.parametrize(
    ("fields", "text"),
    [
        ({"status": Event.Status.CANCELLED}, "has been cancelled"),
        ({"registration_opens_at": timezone.now() + timedelta(days=2)}, "has not opened yet"),
        ({"registration_closes_at": timezone.now() - timedelta(hours=1)}, "has closed"),
        ({"capacity": 0, "waitlist_enabled": False}, "full and has no waiting list"),
    ],
)
def test_event_not_taking_registrations_says_so_and_stores_nothing(
    client, make_event, fields, text
):
    event = make_event(**fields)

    shown = client.get(register_url(event))
    posted = client.post(register_url(event), form_post())

    for response in (shown, posted):
        assert response.status_code == 200
        assert text in response.content.decode()
        assert "<form" not in response.content.decode().split("</header>")[1]
    assert not Registration.objects.exists()


def test_draft_event_has_no_registration_page(client, make_event):
    event = make_event(status=Event.Status.DRAFT)
    assert client.get(register_url(event)).status_code == 404
    assert client.post(register_url(event), form_post()).status_code == 404


def test_full_event_with_waiting_list_says_you_join_the_list(client, make_event, register):
    event = make_event(capacity=1)
    register(event, 1)
    assert "join the waiting list" in client.get(register_url(event)).content.decode()


# --- The manage link ------------------------------------------------------------------------


def manage_url(token, language="en"):
    return f"/{language}/r/{token}/"


def test_manage_link_shows_the_registration_and_saves_changes(client, event):
    result = services.register(event=event, data={**form_post(), "consent": True})

    page = client.get(manage_url(result.token))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Amina Diallo 1" in html and "amina.1@example.org" in html
    assert "You have a seat" in html
    assert "meet.example.org" not in html  # the meeting link is never on a page

    saved = client.post(
        manage_url(result.token),
        {
            "name": "Amina Diallo-Sow",
            "organisation": "Prison Reform Network",
            "job_title": "Director",
            "country": "SN",
            "affiliation": "cso_ngo",
            "preferred_language": "es",
            "interpretation_language": "en",
        },
        follow=True,
    )
    assert "Your details have been saved" in saved.content.decode()
    registration = Registration.objects.get()
    assert (registration.name, registration.preferred_language) == ("Amina Diallo-Sow", "es")


def test_manage_link_refuses_bad_names_and_changes_nothing(client, event):
    result = services.register(event=event, data={**form_post(), "consent": True})
    response = client.post(
        manage_url(result.token),
        {
            "name": "Amina\r\nDiallo",
            "affiliation": "cso_ngo",
            "preferred_language": "en",
            "interpretation_language": "en",
        },
    )
    assert 'id="id_name_error"' in response.content.decode()
    assert Registration.objects.get().name == "Amina Diallo 1"


@pytest.mark.parametrize("token", ["nope", "A" * 43, "a" * 500])
def test_invalid_manage_link_is_a_plain_404(client, event, token):
    services.register(event=event, data={**form_post(), "consent": True})
    assert client.get(manage_url(token)).status_code == 404
    assert client.post(f"/en/r/{token}/cancel/").status_code == 404


def test_cancel_asks_first_then_frees_the_seat_for_the_waiting_list(client, make_event):
    event = make_event(capacity=1)
    seated = services.register(event=event, data={**form_post(1), "consent": True})
    waiting = services.register(event=event, data={**form_post(2), "consent": True})

    confirm = client.get(f"/en/r/{seated.token}/cancel/")
    assert "Yes, cancel my registration" in confirm.content.decode()
    assert Registration.objects.get(pk=seated.registration.pk).status == Status.CONFIRMED

    done = client.post(f"/en/r/{seated.token}/cancel/", follow=True)

    assert "Your registration has been cancelled" in done.content.decode()
    assert "This registration is cancelled" in done.content.decode()
    assert Registration.objects.get(pk=seated.registration.pk).status == Status.CANCELLED
    assert Registration.objects.get(pk=waiting.registration.pk).status == Status.CONFIRMED


def test_privacy_notice_states_the_retention_period(client, settings):
    settings.PERSONAL_DATA_RETENTION_DAYS = 45
    html = client.get("/en/privacy/").content.decode()
    assert "45 days after the event ends" in html
    assert html.count("<h1") == 1


def test_registration_post_runs_a_constant_number_of_queries(client, make_event, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.REGISTRATION_RATE_LIMIT = 1000
    event = make_event(capacity=500)

    def queries(n):
        with CaptureQueriesContext(connection) as captured:
            assert client.post(register_url(event), form_post(n)).status_code == 302
        return len(captured)

    # As a browser does: the form page first, which caches the event's questions.
    assert client.get(register_url(event)).status_code == 200
    first = queries(0)
    for n in range(1, 60):
        services.register(event=event, data={**form_post(n), "consent": True})
    assert queries(1000) == first
    # lock + count + insert (in a savepoint) + the confirmation row notifications adds, in
    # the view's transaction (a savepoint of this test's own: two statements more)
    assert first <= 8


def test_a_registration_that_has_not_opened_says_when_it_opens(client, make_event):
    opens_at = timezone.now() + timedelta(days=2)
    event = make_event(registration_opens_at=opens_at)

    page = client.get(register_url(event)).content.decode()

    assert "Registration for this event has not opened yet." in page
    assert "Registration opens on" in page
