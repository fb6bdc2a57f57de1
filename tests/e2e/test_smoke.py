import pytest

pytestmark = pytest.mark.e2e


def test_home_page_loads_in_chromium(live_server, page):
    page.goto(live_server.url + "/")
    assert page.locator("h1").first.is_visible()
    assert page.evaluate("document.documentElement.lang") == "en"
