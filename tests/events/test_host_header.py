"""The Host header cannot change what other visitors see: absolute links on public pages come
from SITE_URL, and a cached page is served only to a host in ALLOWED_HOSTS."""

from urllib.parse import quote

import pytest

pytestmark = pytest.mark.django_db

SITE = "https://events.example.org"


@pytest.fixture
def site_url(settings):
    settings.SITE_URL = SITE
    settings.EVENT_PAGE_CACHE_SECONDS = 300


def test_calendar_links_of_the_cached_page_point_at_site_url_whatever_host_filled_it(
    client, event, site_url
):
    # An allowed host with an odd port fills the cache (the miss)...
    first = client.get(f"/en/events/{event.slug}/", HTTP_HOST="127.0.0.1:6666")
    assert first.status_code == 200
    # ...and every later visitor gets the cached page (the hit).
    page = client.get(f"/en/events/{event.slug}/").content.decode()

    expected = quote(f"{SITE}/en/events/{event.slug}/", safe="")
    for html in (first.content.decode(), page):
        assert "6666" not in html
        assert "testserver" not in html
        assert html.count(expected) >= 2  # the Google and the Outlook link


def test_public_calendar_file_links_to_site_url_whatever_the_host(client, event, site_url):
    body = client.get(f"/en/events/{event.slug}/calendar.ics", HTTP_HOST="localhost:6666")
    assert f"URL:{SITE}/en/events/{event.slug}/" in body.content.decode()
    assert "6666" not in body.content.decode()


def test_a_host_not_allowed_gets_400_on_a_cache_hit_as_on_a_miss(client, event, site_url):
    url = f"/en/events/{event.slug}/"
    miss = client.get(url, HTTP_HOST="evil.example")
    assert miss.status_code == 400

    assert client.get(url).status_code == 200  # cached now
    hit = client.get(url, HTTP_HOST="evil.example")
    assert hit.status_code == 400
    assert event.title not in hit.content.decode()
