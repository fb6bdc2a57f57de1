"""Registering through the real form in Chromium, then using the emailed manage link."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from events.models import Event
from registration import services
from registration.models import Registration

pytestmark = pytest.mark.e2e

MEETING_URL = "https://meet.example.org/j/cso-prisons-secret"


@pytest.fixture
def side_event(transactional_db):
    starts_at = timezone.now() + timedelta(days=10)
    return Event.objects.create(
        slug="csos-in-prisons",
        title="Engagement of CSOs in the management of violent extremist prisoners",
        summary="A virtual side event of the UN Counter-Terrorism Week.",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=90),
        timezone="America/New_York",
        status=Event.Status.PUBLISHED,
        interpretation_languages=["ar", "zh-hans", "en", "fr", "ru", "es"],
        capacity=1,
        waitlist_enabled=True,
        meeting_url=MEETING_URL,
    )


def mails_to(address):
    return [message for message in mail.outbox if address in message.to]


def test_register_receive_confirmation_then_cancel_to_promote_the_waiting_list(
    live_server, page, side_event, screenshot_dir
):
    mail.outbox.clear()
    page.goto(f"{live_server.url}/en/events/{side_event.slug}/register/")

    page.get_by_label("Full name").fill("Nadia Rahman")
    page.get_by_label("Email address").fill(" Nadia.Rahman@Example.org ")
    page.get_by_label("Organisation").fill("Penal Reform Collective")
    page.get_by_label("Job title").fill("Rehabilitation adviser")
    page.get_by_label("Country").select_option("BD")
    page.get_by_label("Affiliation").select_option("cso_ngo")
    page.get_by_label("Language for emails").select_option("en")
    page.get_by_label("Language you will listen in").select_option("fr")
    # The browser fills the time zone itself.
    expect(page.get_by_label("Your time zone (optional)")).not_to_have_value("")
    page.get_by_label(re.compile("I agree that my details")).check()
    page.get_by_role("button", name="Register").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    page.screenshot(path=screenshot_dir / "registration-check-email.png", full_page=True)
    registration = Registration.objects.get(email="nadia.rahman@example.org")
    assert registration.status == Registration.Status.CONFIRMED
    assert registration.timezone  # whatever zone Chromium runs in

    # The confirmation: text and HTML, the .ics attached, a working personal link, and
    # no meeting link yet.
    (confirmation,) = mails_to("nadia.rahman@example.org")
    html, html_type = confirmation.alternatives[0]
    assert html_type == "text/html"
    assert "Nadia Rahman" in confirmation.body and "Nadia Rahman" in html
    attachments = {name: (content, kind) for name, content, kind in confirmation.attachments}
    ics = next(content for content, kind in attachments.values() if "text/calendar" in kind)
    ics = ics.decode() if isinstance(ics, bytes) else ics
    assert "BEGIN:VEVENT" in ics
    for part in (confirmation.body, html, ics):
        assert MEETING_URL not in part
    links = re.findall(r"https?://[^\s\"<>]+/r/[A-Za-z0-9_-]{43}/", confirmation.body)
    assert links
    manage_path = urlsplit(links[0]).path
    assert manage_path in html

    # Someone else joins the waiting list for the only seat.
    waiting = services.register(
        event=side_event,
        data={
            "name": "Pierre Martin",
            "email": "pierre.martin@example.org",
            "affiliation": "academia",
            "preferred_language": "fr",
            "interpretation_language": "fr",
            "consent": True,
        },
    ).registration
    assert waiting.status == Registration.Status.WAITLISTED

    # Nadia opens her link from the email and cancels, with a confirmation step.
    page.goto(live_server.url + manage_path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your registration")
    expect(page.get_by_text("nadia.rahman@example.org")).to_be_visible()
    page.get_by_role("link", name="Cancel my registration").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cancel your registration?")
    page.get_by_role("button", name="Yes, cancel my registration").click()

    expect(page.get_by_text("Your registration has been cancelled.")).to_be_visible()
    registration.refresh_from_db()
    waiting.refresh_from_db()
    assert registration.status == Registration.Status.CANCELLED
    assert waiting.status == Registration.Status.CONFIRMED
    # Pierre was told he is on the waiting list, and now that he has the seat, with his
    # own working link.
    waitlisted_mail, promoted_mail = mails_to("pierre.martin@example.org")
    assert promoted_mail.subject != waitlisted_mail.subject
    assert side_event.title in promoted_mail.subject
    assert re.search(r"/r/[A-Za-z0-9_-]{43}/", promoted_mail.body)


def test_form_errors_are_announced_and_input_kept(live_server, page, side_event):
    page.goto(f"{live_server.url}/en/events/{side_event.slug}/register/")
    page.get_by_label("Full name").fill("   ")
    page.get_by_label("Email address").fill("not an email")
    page.get_by_label("Organisation").fill("Kept Organisation")
    page.get_by_role("button", name="Register").click()

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Enter your full name.")
    expect(summary).to_contain_text("Enter an email address such as name@example.org.")
    expect(summary).to_be_focused()
    expect(page.get_by_label("Organisation")).to_have_value("Kept Organisation")
    expect(page.get_by_label("Email address")).to_have_attribute("aria-invalid", "true")
    assert not Registration.objects.exists()
