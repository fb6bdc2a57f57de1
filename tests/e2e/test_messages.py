"""An organiser writes an announcement for the French listeners in the admin, in Chromium:
sees how many people it reaches, previews it in French, sends a test to themselves, sends
it, and follows its progress (issue 17). The message page has no axe violations in English
and in Arabic (right to left)."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from events.models import Event
from notifications.models import Delivery, Message
from registration import services
from registration.models import Registration
from tests.e2e.test_accessibility import assert_accessible

pytestmark = pytest.mark.e2e

PASSWORD = "organiser-e2e-password"


@pytest.fixture
def side_event(transactional_db, django_user_model):
    django_user_model.objects.create_superuser("organiser", "organiser@example.org", PASSWORD)
    starts_at = timezone.now() + timedelta(days=10)
    event = Event.objects.create(
        slug="csos-in-prisons",
        title="Engagement of CSOs in the management of VEPs in prisons",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=90),
        timezone="America/New_York",
        status=Event.Status.PUBLISHED,
        interpretation_languages=["en", "fr"],
        meeting_url="https://meet.example.org/j/secret-room",
    )
    for n, (language, listening) in enumerate([("fr", "fr"), ("en", "fr"), ("en", "en")]):
        registration = services.register(
            event=event,
            data={
                "name": f"Amina Diallo {n}",
                "email": f"amina.{n}@example.org",
                "preferred_language": language,
                "consent": True,
            },
        ).registration
        Registration.objects.filter(pk=registration.pk).update(interpretation_language=listening)
    mail.outbox.clear()
    return event


def log_in(page, live_server, language="en"):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/{language}/admin/login/")
    page.locator("#id_username").fill("organiser")
    page.locator("#id_password").fill(PASSWORD)
    page.locator("input[type=submit]").click()
    expect(page.locator("#site-name")).to_be_visible()


def click(page, button):
    """Clicks a button of the message form once it is in view (the previews above it are
    still loading and shift the page while Playwright aims)."""
    target = page.get_by_role("button", name=button)
    target.scroll_into_view_if_needed()
    page.wait_for_load_state("load")
    target.click()


def test_organiser_writes_previews_tests_and_sends_an_announcement(
    live_server, page, side_event, screenshot_dir
):
    log_in(page, live_server)
    page.goto(f"{live_server.url}/en/admin/events/event/{side_event.pk}/change/")
    page.get_by_role("link", name="Write a message").click()

    page.locator("#id_key").fill("new-speaker")
    page.locator("#id_send").select_option("now")
    page.locator(".field-interpretation_language").get_by_label("French").check()
    page.locator("#id_subject").fill("A new speaker for {event_title}")
    page.locator("#id_body").fill("Dear {name},\n\n**Ms Mei Lin** joins the panel.")
    page.locator("details:has(#id_subject_fr) > summary").click()
    page.get_by_label("Subject (French)").fill("Une nouvelle intervenante")
    page.get_by_label("Body (French)").fill("Bonjour {name},\n\n**Mme Mei Lin** rejoint le panel.")
    with page.expect_navigation():
        page.get_by_role("button", name="Save and continue editing").click()

    expect(page.locator(".field-recipients")).to_contain_text("2 people match.")
    page.screenshot(path=screenshot_dir / "message-01-written.png", full_page=True)
    page.locator(".field-preview summary", has_text="In French").click()
    frame = page.frame_locator("iframe[title='The message as HTML, in French']")
    expect(frame.locator("strong")).to_have_text("Mme Mei Lin")
    expect(frame.locator("body")).to_contain_text("Bonjour Amina Diallo 0")

    page.locator("#id_test_language").select_option("fr")
    click(page, "Send a test to me")
    expect(page.locator("ul.messagelist")).to_contain_text("organiser@example.org", timeout=20000)
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["organiser@example.org"], "[Test] Une nouvelle intervenante")
    ]
    assert_accessible(page, "en")

    click(page, "Send now")
    expect(page.locator("ul.messagelist")).to_contain_text("on its way to 2 people", timeout=20000)
    expect(page.locator(".field-progress")).to_contain_text("2 of 2 emails processed")
    page.screenshot(path=screenshot_dir / "message-02-sent.png", full_page=True)
    sent = sorted((m.to[0], m.subject) for m in mail.outbox[1:])
    assert sent == [
        ("amina.0@example.org", "Une nouvelle intervenante"),
        ("amina.1@example.org", "A new speaker for " + side_event.title),
    ]
    message = Message.objects.get()
    assert Delivery.objects.filter(kind="message", version=message.pk, status="sent").count() == 2


def test_message_page_in_arabic_has_no_axe_violations(live_server, page, side_event):
    message = Message.objects.create(
        event=side_event, key="reminder", subject="S", body="B", send="now", state="draft"
    )
    log_in(page, live_server, "ar")
    page.goto(f"{live_server.url}/ar/admin/notifications/message/{message.pk}/change/")
    assert_accessible(page, "ar")
