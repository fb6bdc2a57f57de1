"""An invitation-only event, end to end in Chromium (issue 18): the organiser invites two
people in the admin; the invitation email's link opens a one-step form with the address
locked; the invitee registers; an uninvited visitor sees the "by invitation" page; the
organiser withdraws the other invitation, whose link (Arabic, right to left) is then refused."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from events.models import Event
from registration.models import Registration

pytestmark = pytest.mark.e2e

PASSWORD = "organiser-e2e-password"
LINK = re.compile(r"https?://\S+?/r/[A-Za-z0-9_-]{43}/")


@pytest.fixture
def event(transactional_db, django_user_model):
    django_user_model.objects.create_superuser("organiser", "organiser@example.org", PASSWORD)
    starts_at = timezone.now() + timedelta(days=10)
    return Event.objects.create(
        slug="closed-door-briefing",
        title="Closed-door briefing on rehabilitation in prisons",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=90),
        timezone="America/New_York",
        status=Event.Status.PUBLISHED,
        interpretation_languages=["en", "ar"],
        capacity=20,
        registration_mode=Event.RegistrationMode.INVITATION,
        contact_email="briefings@example.org",
        meeting_url="https://meet.example.org/j/closed-room",
    )


def invitation_link(address, live_server):
    """The link of the invitation emailed to `address`, on the live server."""
    (message,) = [m for m in mail.outbox if m.to == [address]]
    url = LINK.search(message.body).group(0)
    # SITE_URL is the configured site; the browser talks to the live server.
    return live_server.url + "/" + url.split("://", 1)[1].split("/", 1)[1]


def test_invitation_only_from_the_admin_to_the_invitee(live_server, page, browser, event):
    admin = f"{live_server.url}/en/admin"
    page.goto(f"{admin}/login/")
    page.get_by_label("Username").fill("organiser")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # --- The organiser invites two people from the event's page ------------------------------
    page.goto(f"{admin}/events/event/{event.pk}/change/")
    page.get_by_role("link", name="Invite people").click()
    page.get_by_label("People").fill(
        "email,name,language\nAna.Ruiz@Example.org, Ana Ruiz, en\nomar@example.org, Omar Haddad, ar"
    )
    page.get_by_role("button", name="Send the invitations").click()
    expect(page.locator(".messagelist")).to_contain_text("2 invitations sent.")
    expect(page.locator("#result_list")).to_contain_text("Invited, not registered yet")
    assert sorted(m.to[0] for m in mail.outbox) == ["ana.ruiz@example.org", "omar@example.org"]
    arabic = next(m for m in mail.outbox if m.to == ["omar@example.org"])
    assert arabic.subject.startswith("أنت مدعو")

    # --- The invitee opens her link and registers in one step --------------------------------
    ana = browser.new_context().new_page()
    ana.goto(invitation_link("ana.ruiz@example.org", live_server))
    email = ana.get_by_label("Email address")
    expect(email).to_have_value("ana.ruiz@example.org")
    expect(email).to_be_disabled()
    expect(ana.get_by_label("Full name")).to_have_value("Ana Ruiz")
    ana.get_by_label("Affiliation").select_option("cso_ngo")
    ana.get_by_label("Language you will listen in").select_option("en")
    ana.get_by_label(re.compile("I agree that my details are stored")).check()
    ana.get_by_role("button", name="Register").click()
    expect(ana.locator(".alert-success")).to_contain_text("Thank you: you are registered.")
    expect(ana.locator("h1")).to_have_text("Your registration")
    assert Registration.objects.get(email="ana.ruiz@example.org").status == "confirmed"
    confirmation = mail.outbox[-1]
    assert confirmation.to == ["ana.ruiz@example.org"]
    assert confirmation.subject.startswith("Registration confirmed")

    # --- Someone uninvited finds no form, and whom to ask --------------------------------------
    visitor = browser.new_context().new_page()
    visitor.goto(f"{live_server.url}/en/events/{event.slug}/")
    expect(visitor.locator(".registration-status")).to_contain_text(
        "Registration is by invitation only"
    )
    visitor.goto(f"{live_server.url}/en/events/{event.slug}/register/")
    expect(visitor.locator("h1")).to_have_text("This event is by invitation")
    expect(visitor.locator("main form")).to_have_count(0)
    expect(visitor.get_by_role("link", name="briefings@example.org")).to_have_attribute(
        "href", "mailto:briefings@example.org"
    )

    # --- The organiser withdraws the other invitation; its link is refused --------------------
    omar = Registration.objects.get(email="omar@example.org")
    page.goto(f"{admin}/registration/registration/?event__id__exact={event.pk}&invitation=invited")
    page.locator(f'input[name="_selected_action"][value="{omar.pk}"]').check()
    page.locator('select[name="action"]').select_option("revoke_invitations")
    page.get_by_role("button", name="Run").click()
    expect(page.locator(".messagelist")).to_contain_text("1 invitation withdrawn.")

    refused = browser.new_context().new_page()
    response = refused.goto(invitation_link("omar@example.org", live_server))
    assert response.status == 410
    expect(refused.locator("html")).to_have_attribute("dir", "rtl")
    expect(refused.locator("h1")).to_have_text("سُحبت هذه الدعوة")
    expect(refused.locator("main form")).to_have_count(0)
    omar.refresh_from_db()
    assert omar.status == "revoked"
    assert len(mail.outbox) == 3  # two invitations, one confirmation: nothing to Omar


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_one_step_form_and_its_errors_have_no_axe_violations(
    live_server, page, event, language
):
    from registration import invitations
    from tests.e2e.test_accessibility import assert_accessible, submit_empty_registration_form

    invitations.invite(
        event=event, people=[{"email": "li@example.org", "name": "Li Wei", "language": language}]
    )
    page.goto(invitation_link("li@example.org", live_server))
    expect(page.locator("h1")).to_have_count(1)
    assert_accessible(page, language)
    page.get_by_label(re.compile("Full name|الاسم")).fill("")
    submit_empty_registration_form(page)
    expect(page.locator("#error-summary")).to_be_visible()
    assert_accessible(page, language)
