from datetime import UTC, datetime
from pathlib import Path

import icalendar
import pytest

from tests.events.conftest import SECRET_MEETING_URL, add_agenda, make_event

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_context_args(browser_context_args):
    """A visitor in Tokyo."""
    return {**browser_context_args, "timezone_id": "Asia/Tokyo"}


@pytest.fixture
def june_event():
    event = make_event(
        slug="june-event",
        starts_at=datetime(2021, 6, 25, 16, 30, tzinfo=UTC),
        ends_at=datetime(2021, 6, 25, 18, 0, tzinfo=UTC),
    )
    add_agenda(event, 3)
    return event


def test_event_page_shows_times_and_downloads_a_calendar_file(live_server, page, june_event):
    page.goto(f"{live_server.url}/en/events/june-event/")

    assert page.locator("h1").inner_text() == "Civil society and prisons"
    assert page.locator(".event-zone").inner_text() == "EDT"
    assert "16:30" in page.locator(".event-utc").inner_text()
    # The visitor's own time, written by the page's script with the browser's Intl API.
    local = page.locator("dd.local-time")
    local.wait_for(state="visible")
    assert local.inner_text().strip()
    assert SECRET_MEETING_URL not in page.content()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download calendar file (.ics)").click()
    download = download_info.value
    assert download.suggested_filename == "june-event.ics"
    body = Path(download.path()).read_bytes()
    calendar = icalendar.Calendar.from_ical(body)
    vevent = calendar.walk("VEVENT")[0]
    assert vevent.start.astimezone(UTC) == datetime(2021, 6, 25, 16, 30, tzinfo=UTC)
    assert vevent.end.astimezone(UTC) == datetime(2021, 6, 25, 18, 0, tzinfo=UTC)
    assert SECRET_MEETING_URL not in body.decode()


def test_local_time_is_the_visitors_zone(live_server, page, june_event):
    page.goto(f"{live_server.url}/en/events/june-event/")
    local = page.locator("dd.local-time")
    local.wait_for(state="visible")
    # 16:30 UTC is 01:30 the next day in Tokyo (the browser's zone), in the page's language.
    text = local.inner_text()
    assert "June 26, 2021" in text
    assert "1:30" in text and "3:00" in text
