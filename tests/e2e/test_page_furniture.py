"""In Chromium: a page view asks for nothing that is missing (the favicon was a 404 on every
view), and on a 390 px phone the date and time come right after the title."""

import pytest

from tests.events.conftest import add_agenda, make_event

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def side_event():
    event = make_event(
        slug="phone-event",
        organiser="Example Mission to the United Nations",
        venue="Conference Room 4",
    )
    add_agenda(event, 3)
    return event


@pytest.mark.parametrize("language", ["en", "ar"])
def test_page_view_loads_its_icons_and_nothing_fails(live_server, page, side_event, language):
    failed = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else 0)
    page.on("requestfailed", lambda r: failed.append(f"failed {r.url}"))

    page.goto(f"{live_server.url}/{language}/events/phone-event/")
    page.wait_for_load_state("networkidle")

    icons = page.locator("link[rel~=icon], link[rel=apple-touch-icon]")
    assert icons.count() == 3
    for index in range(icons.count()):
        href = icons.nth(index).evaluate("link => link.href")
        response = page.request.get(href)
        assert response.ok, href
        assert response.headers["content-type"].startswith("image/"), href
    # What browsers, feed readers and link previewers ask for without reading the page.
    assert page.request.get(f"{live_server.url}/favicon.ico").ok
    assert not failed, failed


def top(page, selector):
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not shown"
    return box["y"]


@pytest.mark.parametrize("language", ["en", "ar"])
def test_on_a_phone_the_date_comes_right_after_the_title(
    live_server, browser, side_event, language, screenshot_dir
):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/{language}/events/phone-event/")

    title = top(page, "h1")
    when = top(page, "#when-heading")
    time = top(page, ".event-time")
    facts = {
        name: top(page, f"aside dt:nth-of-type({n})")
        for n, name in enumerate(["format", "interpretation", "organiser"], start=1)
    }
    page.screenshot(path=screenshot_dir / f"event-page-phone-{language}.png", full_page=True)
    context.close()

    assert title < when < time
    for name, y in facts.items():
        assert time < y, f"{name} ({y}) comes before the time ({time})"
    # Nothing else between the title block and the date: the summary at most.
    assert when - title < 400
