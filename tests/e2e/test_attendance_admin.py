"""The organiser imports a Zoom participant report in Chromium, in English and in Arabic
(right to left): the file goes up as a real multipart upload through the request limits,
the result page lists who was not matched, and the result page and the event's attendance
panel have no axe (WCAG 2.1 AA) violations."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from events.models import Event
from registration import services
from tests.e2e.test_accessibility import axe_violations, describe
from tests.registration.conftest import person
from tests.registration.test_attendance import SAMPLES

pytestmark = pytest.mark.e2e

PASSWORD = "organiser-e2e-password"


@pytest.fixture
def side_event(transactional_db, django_user_model):
    django_user_model.objects.create_superuser("organiser", "organiser@example.org", PASSWORD)
    starts_at = timezone.now() + timedelta(days=7)
    event = Event.objects.create(
        slug="csos-in-prisons",
        title="Civil society and the prevention of violent extremism in prisons",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=90),
        timezone="America/New_York",
        status=Event.Status.PUBLISHED,
        meeting_url="https://meet.example.org/j/secret-room",
    )
    for n in (1, 2):
        services.register(event=event, data=person(n))
    services.register(event=event, data=person(3, name="Li Wei", email="li.wei@exämple.org"))
    # Then the meeting took place (a day ago).
    Event.objects.filter(pk=event.pk).update(
        starts_at=starts_at - timedelta(days=8), ends_at=starts_at - timedelta(days=8, minutes=-90)
    )
    return event


@pytest.mark.parametrize("language", ["en", "ar"])
def test_organiser_imports_a_zoom_report_and_reads_the_result(
    live_server, page, side_event, language, screenshot_dir
):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/{language}/admin/login/")
    page.locator("#id_username").fill("organiser")
    page.locator("#id_password").fill(PASSWORD)
    page.locator("input[type=submit]").click()
    page.goto(f"{live_server.url}/{language}/admin/events/event/{side_event.pk}/change/")
    page.locator(".registration-panel a[href*='/attendance/']").click()

    page.locator("#id_report").set_input_files(str(SAMPLES / "zoom_meeting_participants.csv"))
    page.locator(".submit-row input[type=submit]").click()

    result = page.locator(".attendance-result")
    expect(result).to_contain_text("walk.in@elsewhere.example.net")
    expect(result.locator("tbody tr")).to_have_count(4)
    assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
    violations = axe_violations(page)
    assert not violations, describe(violations)
    page.screenshot(path=screenshot_dir / f"admin-attendance-result-{language}.png", full_page=True)

    page.goto(f"{live_server.url}/{language}/admin/events/event/{side_event.pk}/change/")
    expect(page.locator(".attendance-rate")).to_contain_text("%")
    violations = axe_violations(page)
    assert not violations, describe(violations)
    page.locator(".registration-panel").screenshot(
        path=screenshot_dir / f"admin-attendance-panel-{language}.png"
    )
