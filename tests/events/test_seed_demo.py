from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from events.models import Event

pytestmark = pytest.mark.django_db
SLUG = "csos-violent-extremist-prisoners"


def seed(*args):
    call_command("seed_demo", *args, stdout=StringIO())
    return Event.objects.get(slug=SLUG)


def test_default_demo_is_a_few_days_ahead_with_registration_open(client):
    event = seed()
    assert timezone.now() < event.starts_at < timezone.now() + timedelta(days=7)
    assert event.local_starts_at.strftime("%H:%M") == "12:30"
    assert event.local_ends_at.strftime("%H:%M") == "14:00"
    html = client.get(f"/en/events/{SLUG}/").content.decode()
    assert 'data-state="open"' in html
    assert "300 places left." in html


def test_historical_date_and_idempotence(client):
    event = seed("--date", "2021-06-25")
    seed("--date", "2021-06-25")
    assert Event.objects.count() == 1
    event.refresh_from_db()
    assert event.starts_at == datetime(2021, 6, 25, 16, 30, tzinfo=UTC)
    assert event.agenda_items.count() == 5
    assert event.documents.count() == 2
    assert event.interpretation_languages == ["ar", "zh-hans", "en", "fr", "ru", "es"]
    assert len(event.expected_outcomes.splitlines()) == 4
    html = client.get(f"/en/events/{SLUG}/").content.decode()
    assert ">EDT</abbr>" in html
    assert event.meeting_url not in html
    for document in event.documents.all():
        response = client.get(f"/en/events/{SLUG}/documents/{document.pk}/")
        assert response.status_code == 200
        assert b"".join(response.streaming_content).startswith(b"%PDF-")


def test_running_again_leaves_an_upcoming_demo_alone():
    first = seed()
    again = seed()
    assert (again.pk, again.starts_at, again.updated_at) == (
        first.pk,
        first.starts_at,
        first.updated_at,
    )


def test_the_demo_event_belongs_to_the_demo_team():
    event = seed()
    assert list(event.teams.values_list("slug", flat=True)) == ["demo"]
