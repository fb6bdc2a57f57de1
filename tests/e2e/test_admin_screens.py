"""The organiser's admin screens in Chromium at 1280 px: the registrations list, the event's
title box and sign-ups chart, and a delivery with its email preview."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from events.models import Event
from notifications.models import Delivery
from registration import services
from registration.models import Registration

pytestmark = pytest.mark.e2e

PASSWORD = "organiser-e2e-password"


@pytest.fixture
def side_event(transactional_db, django_user_model):
    django_user_model.objects.create_superuser("organiser", "organiser@example.org", PASSWORD)
    from django.utils import timezone

    starts_at = timezone.now() + timedelta(days=10)
    event = Event.objects.create(
        slug="csos-in-prisons",
        title="Engagement of CSOs in the management of violent extremist prisoners and "
        "prevention of radicalization to violence in prisons",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=90),
        timezone="America/New_York",
        status=Event.Status.PUBLISHED,
        interpretation_languages=["en", "fr"],
        capacity=3,
        waitlist_enabled=True,
        meeting_url="https://meet.example.org/j/secret-room",
    )
    now = timezone.now()
    for n in range(6):
        registration = services.register(
            event=event,
            data={
                "name": f"Amina Diallo-Rahman {n}",
                "email": f"amina.diallo.rahman.{n}@ministry-of-justice.example.org",
                "organisation": "Ministry of Justice and Human Rights",
                "affiliation": "member_state",
                "preferred_language": "en",
                "consent": True,
            },
        ).registration
        Registration.objects.filter(pk=registration.pk).update(
            created_at=now - timedelta(hours=5 - n)
        )
    return event


def log_in(page, live_server):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/en/admin/login/")
    page.get_by_label("Username").fill("organiser")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#site-name")).to_have_text("Convene")


def test_registrations_list_at_1280_px_shows_status_first_with_the_waiting_list_place(
    live_server, page, side_event, screenshot_dir
):
    log_in(page, live_server)
    page.goto(
        f"{live_server.url}/en/admin/registration/registration/?event__id__exact={side_event.pk}"
    )

    headers = page.locator("#result_list thead th").all_inner_texts()
    assert [text.strip() for text in headers[1:6]] == [
        "Status",
        "Full name",
        "Email",
        "Affiliation",
        "Registered at",
    ]
    status = page.locator("#result_list thead th.column-status")
    box = status.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 1280
    # Sentence case, not the admin's capitals.
    assert status.evaluate("th => getComputedStyle(th).textTransform") == "none"
    last = page.locator("#result_list tbody tr").first  # newest first: the third waitlisted
    expect(last.locator("td.field-status")).to_have_text("Waiting list")
    expect(last.locator("td.field-waitlist_position")).to_have_text("3")
    expect(last.locator("td.field-registered_at")).to_contain_text("ST")  # EST or EDT
    page.screenshot(path=screenshot_dir / "admin-registrations-1280.png")


def test_event_page_has_a_wide_title_box_and_a_cumulative_signups_chart(
    live_server, page, side_event, screenshot_dir
):
    log_in(page, live_server)
    page.goto(f"{live_server.url}/en/admin/events/event/{side_event.pk}/change/")

    assert page.locator("#id_title").bounding_box()["width"] >= 600
    chart = page.locator("svg.signups-chart")
    expect(chart).to_be_visible()
    expect(chart.locator("title")).to_have_text("Cumulative sign-ups against capacity")
    expect(chart.locator("line.capacity")).to_have_count(1)
    page.get_by_text("Sign-ups as a table").click()
    expect(page.locator(".registration-panel details table tbody tr")).to_have_count(6)
    page.locator(".registration-panel").screenshot(path=screenshot_dir / "admin-signups-chart.png")


def test_delivery_page_shows_what_was_sent_and_previews_the_email(
    live_server, page, side_event, screenshot_dir
):
    delivery = Delivery.objects.filter(registration__email__startswith="amina.diallo.rahman.0")
    delivery = delivery.get(kind=Delivery.Kind.CONFIRMATION)
    log_in(page, live_server)
    page.goto(f"{live_server.url}/en/admin/notifications/delivery/{delivery.pk}/change/")

    expect(page.locator(".field-subject")).to_contain_text("Engagement of CSOs")
    expect(page.locator(".delivery-history")).to_contain_text("Sent at")
    expect(page.get_by_text("Lease expires at")).to_have_count(0)
    preview = page.frame_locator("iframe.email-preview")
    expect(preview.locator("body")).to_contain_text("Dear Amina Diallo-Rahman 0,")
    page.screenshot(path=screenshot_dir / "admin-delivery.png", full_page=True)
