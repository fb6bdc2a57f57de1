"""What software around the pages reads: favicons, the description, link previews (Open
Graph, Twitter cards), canonical and hreflang links, robots.txt, sitemap.xml, and gzip where
it is safe. Absolute URLs come from SITE_URL whatever Host the request names."""

import gzip
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from events.models import Event
from tests.events.conftest import make_event

SITE = "https://events.example.org"
LANGUAGES = ["ar", "zh-hans", "en", "fr", "ru", "es"]
WHEN = "June 25, 2021, 12:30 p.m.\N{EN DASH}2 p.m. EDT (America/New_York)"
SITEMAP_NS = {
    "s": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "x": "http://www.w3.org/1999/xhtml",
}


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "other.example.net"]


@pytest.fixture
def june_event(db):
    return make_event(
        slug="june-event",
        starts_at=datetime(2021, 6, 25, 16, 30, tzinfo=UTC),
        ends_at=datetime(2021, 6, 25, 18, 0, tzinfo=UTC),
        translations={"fr": {"title": "La société civile et les prisons"}},
    )


def meta(html, key):
    """content of <meta name=key> or <meta property=key>."""
    found = re.findall(rf'<meta (?:name|property)="{re.escape(key)}" content="([^"]*)"', html)
    assert len(found) == 1, f"{key}: {found}"
    return found[0]


def links(html, rel):
    return re.findall(rf'<link rel="{rel}"(?: hreflang="([^"]+)")? href="([^"]+)"', html)


def test_favicon_is_served_at_the_root_and_linked_from_every_page(client, june_event):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] in {"image/x-icon", "image/vnd.microsoft.icon"}
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO file

    for path in ["/en/", "/ar/events/june-event/", "/fr/privacy/"]:
        html = client.get(path).content.decode()
        icons = re.findall(r'<link rel="(icon|apple-touch-icon)" href="([^"]+)"([^>]*)>', html)
        assert [(rel, href) for rel, href, _attrs in icons] == [
            ("icon", "/favicon.ico"),
            ("icon", "/static/favicon.svg"),
            ("apple-touch-icon", "/static/apple-touch-icon.png"),
        ], path
        assert 'type="image/svg+xml"' in icons[1][2]
    for name in ["favicon.svg", "apple-touch-icon.png"]:
        assert finders.find(name), name  # collected and served by whitenoise


def test_every_page_has_a_description(client, june_event):
    assert "registration for virtual events" in meta(
        client.get("/en/").content.decode(), "description"
    )
    event_page = client.get("/en/events/june-event/").content.decode()
    assert meta(event_page, "description") == june_event.summary


def test_shared_event_link_previews_title_date_and_summary(client, june_event):
    html = client.get("/en/events/june-event/", HTTP_HOST="other.example.net").content.decode()

    assert meta(html, "og:title") == "Civil society and prisons"
    assert meta(html, "twitter:title") == "Civil society and prisons"
    assert meta(html, "twitter:card") == "summary"
    description = meta(html, "og:description")
    assert description.startswith(WHEN)
    assert june_event.summary in description
    assert meta(html, "twitter:data1") == WHEN
    assert meta(html, "og:url") == f"{SITE}/en/events/june-event/"
    assert meta(html, "og:image").startswith(f"{SITE}/static/")
    assert finders.find(meta(html, "og:image").removeprefix(f"{SITE}/static/"))
    assert "other.example.net" not in html


def test_event_page_preview_is_in_the_page_language(client, june_event):
    html = client.get("/fr/events/june-event/").content.decode()

    assert meta(html, "og:title") == "La société civile et les prisons"
    assert meta(html, "og:locale") == "fr_FR"
    assert meta(html, "og:description").startswith("25 juin 2021")


def test_canonical_and_hreflang_links_name_every_language(client, june_event):
    html = client.get("/ru/events/june-event/", HTTP_HOST="other.example.net").content.decode()

    assert links(html, "canonical") == [("", f"{SITE}/ru/events/june-event/")]
    assert links(html, "alternate") == [
        *[(code, f"{SITE}/{code}/events/june-event/") for code in LANGUAGES],
        ("x-default", f"{SITE}/events/june-event/"),
    ]
    # x-default sends each visitor to their own language.
    response = client.get("/events/june-event/", HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 302
    assert response["Location"] == "/es/events/june-event/"


def test_draft_preview_is_not_offered_to_search_engines(admin_client, db):
    make_event(slug="draft-event", status=Event.Status.DRAFT)

    html = admin_client.get("/en/events/draft-event/").content.decode()

    assert meta(html, "robots") == "noindex"
    assert not links(html, "canonical") and not links(html, "alternate")


def test_robots_txt_points_to_the_sitemap_and_keeps_crawlers_out_of_private_paths(client):
    response = client.get("/robots.txt", HTTP_HOST="other.example.net")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert lines[0] == "User-agent: *"
    assert f"Sitemap: {SITE}/sitemap.xml" in lines
    for code in LANGUAGES:
        assert f"Disallow: /{code}/admin/" in lines
        assert f"Disallow: /{code}/r/" in lines  # personal manage links
    assert "Disallow: /" not in lines


def test_sitemap_lists_published_events_in_every_language_never_drafts(client, june_event):
    make_event(slug="secret-draft", status=Event.Status.DRAFT)
    make_event(slug="called-off", status=Event.Status.CANCELLED)

    response = client.get("/sitemap.xml", HTTP_HOST="other.example.net")

    assert response.status_code == 200
    root = ET.fromstring(response.content)  # noqa: S314 - our own response
    urls = {
        url.findtext("s:loc", namespaces=SITEMAP_NS): url
        for url in root.findall("s:url", SITEMAP_NS)
    }
    for code in LANGUAGES:
        assert f"{SITE}/{code}/events/june-event/" in urls
        assert f"{SITE}/{code}/" in urls
    assert not [loc for loc in urls if "secret-draft" in loc or "called-off" in loc]
    assert all(loc.startswith(f"{SITE}/") for loc in urls)
    entry = urls[f"{SITE}/ar/events/june-event/"]
    alternates = {
        link.get("hreflang"): link.get("href") for link in entry.findall("x:link", SITEMAP_NS)
    }
    assert alternates == {
        **{code: f"{SITE}/{code}/events/june-event/" for code in LANGUAGES},
        "x-default": f"{SITE}/events/june-event/",
    }
    assert (
        entry.findtext("s:lastmod", namespaces=SITEMAP_NS)
        == june_event.updated_at.date().isoformat()
    )


def get_gzip(client, path):
    return client.get(path, HTTP_ACCEPT_ENCODING="gzip, deflate, br")


def test_event_page_is_compressed_on_a_miss_and_on_a_cached_hit(settings, june_event):
    settings.EVENT_PAGE_CACHE_SECONDS = 300
    client = Client()
    miss = get_gzip(client, "/en/events/june-event/")
    hit = get_gzip(client, "/en/events/june-event/")

    for response in (miss, hit):
        assert response.status_code == 200
        assert response["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in response["Vary"]
        html = gzip.decompress(response.content).decode()
        assert '<h1 id="event-title"' in html
    assert not miss.cookies and not hit.cookies


def test_pages_with_a_csrf_token_or_a_session_are_not_compressed(client, admin_client, event):
    """BREACH: a secret next to text an attacker controls must not be compressed."""
    form = get_gzip(client, f"/en/events/{event.slug}/register/")
    assert form.status_code == 200
    assert "csrfmiddlewaretoken" in form.content.decode()
    assert not form.has_header("Content-Encoding")

    staff = get_gzip(admin_client, f"/en/events/{event.slug}/")
    assert staff.status_code == 200
    assert not staff.has_header("Content-Encoding")


def test_sitemap_and_lists_are_compressed(client, june_event):
    for path in ["/sitemap.xml", "/en/", "/robots.txt"]:
        response = get_gzip(client, path)
        assert response["Content-Encoding"] == "gzip", path
