"""An event's own questions, one of every type in six languages with a conditional one,
answered in Chromium in English and in Arabic (errors first); the answers then show on the
organisers' registration page, in the CSV and in the confirmation email."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from events.models import Event
from registration.models import Registration
from tests.registration.questions_data import add_questions

pytestmark = pytest.mark.e2e


@pytest.fixture
def asking(transactional_db):
    starts_at = timezone.now() + timedelta(days=10)
    event = Event.objects.create(
        slug="questions-side-event",
        title="Civil society and prisons",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=90),
        timezone="America/New_York",
        status=Event.Status.PUBLISHED,
        interpretation_languages=["ar", "en", "fr"],
    )
    return add_questions(event)


@pytest.fixture
def organiser(transactional_db):
    return get_user_model().objects.create_superuser(
        "organiser", "organiser@example.org", "a long organiser passphrase"
    )


def field(page, name):
    return page.locator(f'[name="{name}"]')


def option(page, name, value):
    return page.locator(f'input[name="{name}"][value="{value}"]')


def register_with_errors_first(page, url, *, email, language, screenshot_dir):
    page.goto(url)
    field(page, "name").fill("Nadia Rahman")
    field(page, "email").fill(email)
    field(page, "affiliation").select_option("cso_ngo")
    field(page, "preferred_language").select_option(language)
    field(page, "interpretation_language").select_option(language)
    # The conditional question stays hidden until its answer applies.
    expect(field(page, "q_delegation")).to_be_hidden()
    field(page, "q_position").fill("Rehabilitation adviser")
    field(page, "q_delegates").fill("10000000000")  # out of range
    field(page, "consent").check()
    page.locator('[type="submit"]').click()

    # Errors first: the summary has the focus and links each problem to its field.
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary.locator('a[href="#id_q_access_0"]')).to_have_count(1)
    expect(summary.locator('a[href="#id_q_delegates"]')).to_have_count(1)
    page.screenshot(path=screenshot_dir / f"questions-errors-{language}.png", full_page=True)
    summary.locator('a[href="#id_q_access_0"]').click()
    expect(option(page, "q_access", "sign")).to_be_focused()
    # What was right is kept.
    expect(field(page, "q_position")).to_have_value("Rehabilitation adviser")

    field(page, "affiliation").select_option("member_state")
    expect(field(page, "q_delegation")).to_be_visible()
    field(page, "q_delegation").select_option("sn")
    field(page, "q_panel_question").fill("How do prisons\nprevent radicalisation?")
    option(page, "q_access", "sign").check()
    option(page, "q_topics", "prisons").check()
    option(page, "q_topics", "gender").check()
    field(page, "q_list_name").check()
    field(page, "q_delegates").fill("3")
    field(page, "q_arrival").fill("2027-06-24")
    field(page, "q_residence").select_option("SN")
    field(page, "q_assistant_email").fill("aide@example.org")
    field(page, "q_website_url").fill("https://prison-reform.example.org")
    field(page, "consent").check()
    page.locator('[type="submit"]').click()
    expect(page).to_have_url(re.compile(r"/check-email/$"))


EXPECTED = {
    "position": "Rehabilitation adviser",
    "panel_question": "How do prisons\nprevent radicalisation?",
    "access": "sign",
    "delegation": "sn",
    "topics": ["prisons", "gender"],
    "list_name": True,
    "delegates": 3,
    "arrival": "2027-06-24",
    "residence": "SN",
    "assistant_email": "aide@example.org",
    "website_url": "https://prison-reform.example.org",
}


def test_register_with_every_question_in_english_and_arabic(
    live_server, page, asking, organiser, screenshot_dir
):
    page.set_default_timeout(15_000)
    mail.outbox.clear()
    base = f"{live_server.url}/{{}}/events/{asking.slug}/register/"

    # English.
    page.goto(base.format("en"))
    expect(page.get_by_role("group", name="Topics of interest")).to_be_visible()
    register_with_errors_first(
        page,
        base.format("en"),
        email="nadia@example.org",
        language="en",
        screenshot_dir=screenshot_dir,
    )
    # Arabic: right to left, the questions in Arabic.
    page.goto(base.format("ar"))
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("group", name="Topics of interest (ar)")).to_be_visible()
    expect(page.get_by_text("لغة الإشارة")).to_be_visible()
    register_with_errors_first(
        page,
        base.format("ar"),
        email="nadia.ar@example.org",
        language="ar",
        screenshot_dir=screenshot_dir,
    )

    english = Registration.objects.get(email="nadia@example.org")
    arabic = Registration.objects.get(email="nadia.ar@example.org")
    assert english.answers == EXPECTED
    assert arabic.answers == EXPECTED

    # The confirmation repeats the answers, in the registrant's language.
    (confirmation,) = [m for m in mail.outbox if "nadia@example.org" in m.to]
    assert "Topics of interest: Prisons, Gender" in confirmation.body
    assert "Which Member State?: Senegal" in confirmation.body
    (arabic_mail,) = [m for m in mail.outbox if "nadia.ar@example.org" in m.to]
    assert "Topics of interest (ar): Prisons (ar), Gender (ar)" in arabic_mail.body
    assert "لغة الإشارة" in arabic_mail.body
    assert "لغة الإشارة" in arabic_mail.alternatives[0][0]

    # The organiser's registration page.
    page.goto(f"{live_server.url}/en/admin/login/")
    page.locator("#id_username").fill("organiser")
    page.locator("#id_password").fill("a long organiser passphrase")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/en/admin/registration/registration/{english.pk}/change/")
    answers = page.locator(".field-answers_given")
    expect(answers).to_contain_text("Prisons, Gender")
    expect(answers).to_contain_text("Which Member State?")
    expect(answers).to_contain_text("https://prison-reform.example.org")
    page.screenshot(path=screenshot_dir / "questions-admin-registration.png", full_page=True)

    # And the CSV.
    client = Client()
    client.force_login(organiser)
    response = client.post(
        "/en/admin/registration/registration/",
        {"action": "export_registrations", "_selected_action": [english.pk, arabic.pk]},
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    header = rows[0]
    for row in rows[1:]:
        assert row[header.index("Topics of interest")] == "Prisons, Gender"
        assert row[header.index("Arrival date")] == "2027-06-24"
        assert row[header.index("Which Member State?")] == "Senegal"


@pytest.mark.parametrize("language", ["en", "ar"])
def test_form_with_questions_and_its_errors_have_no_axe_violations(
    live_server, page, asking, language
):
    from tests.e2e.test_accessibility import assert_accessible, submit_empty_registration_form

    page.goto(f"{live_server.url}/{language}/events/{asking.slug}/register/")
    assert_accessible(page, language)
    submit_empty_registration_form(page)
    expect(page.locator("#error-summary")).to_be_visible()
    # Every question in error is tied to its message, radios and checkboxes through their
    # fieldset.
    expect(page.locator("#error-summary a[href='#id_q_access_0']")).to_have_count(1)
    assert_accessible(page, language)
