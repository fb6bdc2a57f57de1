"""An event that verifies emails, in Chromium: the sign-up holds a seat (the event page counts
it as taken), the emailed link leads to a confirm button, and the click confirms the seat."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from events.models import Event
from registration.models import Registration

pytestmark = pytest.mark.e2e

ADDRESS = "leila.haddad@example.org"
# Links in plain-text emails are wrapped in bidi isolates (FSI ... PDI) for right-to-left
# languages; they are not part of the address.
VERIFY_LINK = re.compile(r"https?://[^\s\"<>\u2068\u2069]+/r/[A-Za-z0-9_-]{43}/verify/")


@pytest.fixture
def verified_event(transactional_db):
    starts_at = timezone.now() + timedelta(days=12)
    return Event.objects.create(
        slug="victims-voices",
        title="Victims' voices in prevention programmes",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=90),
        timezone="Europe/Vienna",
        status=Event.Status.PUBLISHED,
        interpretation_languages=["en", "fr"],
        capacity=3,
        registration_mode=Event.RegistrationMode.VERIFY_EMAIL,
    )


def test_a_visitor_verifies_their_address_from_the_email_and_takes_the_held_seat(
    live_server, page, verified_event, screenshot_dir
):
    mail.outbox.clear()
    event_page = f"{live_server.url}/en/events/{verified_event.slug}/"
    page.goto(event_page)
    expect(page.get_by_text("3 places left.")).to_be_visible()

    page.goto(f"{live_server.url}/en/events/{verified_event.slug}/register/")
    page.get_by_label("Full name").fill("Leila Haddad")
    page.get_by_label("Email address").fill(ADDRESS)
    page.get_by_label("Affiliation").select_option("cso_ngo")
    page.get_by_label("Language for emails").select_option("en")
    page.get_by_label("Language you will listen in").select_option("en")
    page.get_by_label(re.compile("I agree that my details")).check()
    page.get_by_role("button", name="Register").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    registration = Registration.objects.get(email=ADDRESS)
    assert registration.status == Registration.Status.HELD

    # The held seat is taken for everyone else before the address is proven.
    page.goto(event_page)
    expect(page.get_by_text("2 places left.")).to_be_visible()

    (message,) = [m for m in mail.outbox if ADDRESS in m.to]
    html = message.alternatives[0][0]
    link = VERIFY_LINK.search(message.body).group(0)
    assert urlsplit(link).path in html
    assert verified_event.title in message.subject or verified_event.title in message.body

    page.goto(live_server.url + urlsplit(link).path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your email address")
    expect(page.get_by_text("A seat is held for you.")).to_be_visible()
    registration.refresh_from_db()
    assert registration.status == Registration.Status.HELD  # opening the link takes nothing
    page.screenshot(path=screenshot_dir / "verify-email-confirm.png", full_page=True)

    page.get_by_role("button", name="Confirm my email address").click()
    expect(page.get_by_text("Thank you: your email address is confirmed.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your registration")
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CONFIRMED
    assert registration.email_verified_at is not None
    # The confirmation, with its calendar file, follows the click.
    confirmation = [m for m in mail.outbox if ADDRESS in m.to][-1]
    assert confirmation is not message
    assert any("calendar" in kind for _name, _content, kind in confirmation.attachments)

    page.goto(event_page)
    expect(page.get_by_text("2 places left.")).to_be_visible()


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_new_time_notice_to_an_unverified_holder_has_no_axe_violations(
    page, verified_event, language
):
    from notifications import emails
    from notifications.models import Delivery
    from registration import services
    from tests.e2e.test_accessibility import axe_violations, describe

    held = services.register(
        event=verified_event,
        data={
            "name": "Leila Haddad",
            "email": ADDRESS,
            "consent": True,
            "preferred_language": language,
        },
    ).registration
    assert held.status == Registration.Status.HELD
    delivery = Delivery(event=verified_event, registration=held, kind=Delivery.Kind.TIME_CHANGED)
    message = emails.build_message(delivery=delivery, cache={})
    page.set_content(message.alternatives[0][0])
    expect(page.locator("a.button[href$='/verify/']")).to_have_count(1)
    violations = axe_violations(page)
    assert not violations, describe(violations)
    assert page.evaluate("document.documentElement.dir") == ("rtl" if language == "ar" else "ltr")
