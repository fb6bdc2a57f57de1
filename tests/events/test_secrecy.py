"""The meeting link and details are for registrants only: no public URL may reveal them."""

import pytest
from django.conf import settings
from django.core.files.base import ContentFile

from events import services
from events.demo.pdf import simple_pdf
from events.models import Document
from tests.events.conftest import SECRET_MEETING_DETAILS, SECRET_MEETING_URL, add_agenda

pytestmark = pytest.mark.django_db

SECRETS = [SECRET_MEETING_URL, "SecretLeakCanary42", "987654321", "LEAKCANARY-7734"]
LANGUAGES = [code for code, _name in settings.LANGUAGES]


@pytest.fixture
def full_event(event):
    add_agenda(event, 3)
    document = Document(event=event, kind=Document.Kind.CONCEPT_NOTE, title="Concept note")
    document.file.save(
        "concept-note.pdf", ContentFile(simple_pdf("Concept", ["Text."])), save=False
    )
    document.full_clean()
    document.save()
    return event


def public_urls(event):
    document = event.documents.get()
    urls = [
        "/en/",
        "/en/events/past/",
        f"/en/events/{event.slug}/calendar.ics",
        f"/en/events/{event.slug}/documents/{document.pk}/",
    ]
    urls += [f"/{code}/events/{event.slug}/" for code in LANGUAGES]
    urls += [f"/{code}/" for code in LANGUAGES]
    return urls


def body(response):
    if response.streaming:
        return b"".join(response.streaming_content).decode("latin-1")
    return response.content.decode()


def assert_no_secret(client, urls):
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        text = body(response) + str(response.headers)
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} leaked on {url}"


def test_meeting_link_is_on_no_public_url(client, full_event):
    assert full_event.meeting_url == SECRET_MEETING_URL
    assert full_event.meeting_details == SECRET_MEETING_DETAILS
    assert_no_secret(client, public_urls(full_event))
    # and again, served from the page cache
    assert_no_secret(client, public_urls(full_event))


def test_meeting_link_stays_secret_when_the_event_is_cancelled(client, full_event):
    services.cancel_event(event=full_event)
    assert_no_secret(client, public_urls(full_event))


def test_meeting_link_in_a_past_event_stays_secret(client, june_event):
    response = client.get("/en/events/past/")
    assert "june-event" in response.content.decode()
    for code in LANGUAGES:
        text = client.get(f"/{code}/events/june-event/").content.decode()
        for secret in SECRETS:
            assert secret not in text
