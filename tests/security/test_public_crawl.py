"""Crawl everything an anonymous visitor can reach, in all six languages, before and after
the meeting-link send time and after the event: the meeting URL and details appear on no
page, in no header, in no calendar file or document.

tests/events/test_secrecy.py checks the events app's own pages; this crawl adds the
registration pages (form, check-email, a registrant's manage and cancel pages), the privacy
notice, /healthz, and every same-site link those pages lead to.
"""

import re
from datetime import timedelta
from html import unescape
from urllib.parse import urljoin, urlsplit

import pytest
import time_machine
from django.conf import settings
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone

from events.demo.pdf import simple_pdf
from events.models import AgendaItem, Document, Event, Speaker
from registration import services

pytestmark = pytest.mark.django_db

MEETING_URL = "https://meet.example.org/j/4455667788?pwd=CrawlCanarySecret99"
MEETING_DETAILS = "Meeting ID 445 566 7788, passcode CRAWL-CANARY-5521"
SECRETS = [
    MEETING_URL,
    "meet.example.org",
    "4455667788",
    "CrawlCanarySecret99",
    "445 566 7788",
    "CRAWL-CANARY-5521",
]
LANGUAGES = [code for code, _name in settings.LANGUAGES]
MAX_PAGES = 400


@pytest.fixture
def event():
    starts = timezone.now() + timedelta(days=3)
    event = Event.objects.create(
        slug="crawl-event",
        title="Crawl event",
        summary="Summary",
        description="A **panel** with [a link](https://example.org/about).",
        starts_at=starts,
        ends_at=starts + timedelta(minutes=90),
        status=Event.Status.PUBLISHED,
        meeting_url=MEETING_URL,
        meeting_details=MEETING_DETAILS,
        interpretation_languages=LANGUAGES,
        capacity=50,
    )
    speaker = Speaker.objects.create(name="Ana Lima", organisation="UNOCT")
    item = AgendaItem.objects.create(event=event, starts_at=starts, title="Opening")
    item.speakers.add(speaker)
    pdf = simple_pdf("Concept note", ["What the side event is about."])
    Document.objects.create(
        event=event,
        kind=Document.Kind.CONCEPT_NOTE,
        title="Concept note",
        file=ContentFile(pdf, name="concept-note.pdf"),
        content_type="application/pdf",
        size=len(pdf),
    )
    return event


@pytest.fixture
def token(event):
    result = services.register(
        event=event,
        data={
            "name": "Amina Diallo",
            "email": "amina@example.org",
            "affiliation": "cso_ngo",
            "preferred_language": "fr",
            "interpretation_language": "fr",
            "consent": True,
        },
    )
    return result.token


def seeds(event, token):
    document = event.documents.get()
    urls = ["/", "/healthz"]
    for code in LANGUAGES:
        urls += [
            f"/{code}/",
            f"/{code}/events/past/",
            f"/{code}/events/{event.slug}/",
            f"/{code}/events/{event.slug}/calendar.ics",
            f"/{code}/events/{event.slug}/documents/{document.pk}/",
            f"/{code}/events/{event.slug}/register/",
            f"/{code}/events/{event.slug}/register/check-email/",
            f"/{code}/r/{token}/",
            f"/{code}/r/{token}/cancel/",
            f"/{code}/privacy/",
        ]
    return urls


def body(response):
    if response.streaming:
        return b"".join(response.streaming_content).decode("latin-1")
    return response.content.decode("utf-8", "replace")


def crawl(start_urls):
    """GET every URL and every same-site link found, breadth first; returns {url: text}."""
    client = Client()
    seen, queue, pages = set(), list(start_urls), {}
    while queue and len(pages) < MAX_PAGES:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        assert response.status_code in {200, 301, 302}, (url, response.status_code)
        text = body(response)
        pages[url] = text + "\n" + "\n".join(f"{k}: {v}" for k, v in response.items())
        if response.status_code in {301, 302}:
            queue.append(response["Location"])
            continue
        if "html" not in response.get("Content-Type", ""):
            continue
        for link in re.findall(r'(?:href|src|action)="([^"]+)"', text):
            target = urljoin(url, unescape(link))
            parts = urlsplit(target)
            if parts.netloc or parts.scheme or target.startswith(("/static/", "/media/")):
                continue
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if "/admin/" not in path and path not in seen:
                queue.append(path)
    return pages


def assert_no_secret(pages):
    for url, text in pages.items():
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} leaked on {url}"


def test_crawl_before_the_send_time_finds_no_meeting_link(event, token):
    pages = crawl(seeds(event, token))
    assert len(pages) > 60
    assert any("calendar.ics" in url for url in pages)
    assert_no_secret(pages)


def test_crawl_after_the_send_time_finds_no_meeting_link(event, token):
    with time_machine.travel(event.effective_meeting_link_send_at + timedelta(hours=1)):
        pages = crawl(seeds(event, token))
    assert_no_secret(pages)


def test_crawl_after_the_event_finds_no_meeting_link(event, token):
    with time_machine.travel(event.ends_at + timedelta(days=1)):
        pages = crawl(seeds(event, token))
        assert "crawl-event" in pages["/en/events/past/"]
    assert_no_secret(pages)
