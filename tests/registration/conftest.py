from datetime import timedelta

import pytest
from django.utils import timezone

from events.models import Event
from registration import services


@pytest.fixture
def make_event(db):
    """A published virtual event a week ahead, open for registration; override any field."""

    def make(**fields):
        starts_at = fields.pop("starts_at", timezone.now() + timedelta(days=7))
        defaults = {
            "slug": f"side-event-{Event.objects.count() + 1}",
            "title": "Civil society and the prevention of violent extremism in prisons",
            "starts_at": starts_at,
            "ends_at": starts_at + timedelta(minutes=90),
            "timezone": "America/New_York",
            "status": Event.Status.PUBLISHED,
            "interpretation_languages": ["ar", "zh-hans", "en", "fr", "ru", "es"],
            "meeting_url": "https://meet.example.org/j/secret-room",
        }
        return Event.objects.create(**{**defaults, **fields})

    return make


@pytest.fixture
def event(make_event):
    return make_event()


def person(n=1, **overrides):
    """Cleaned registration data, as the form hands it to register()."""
    return {
        "name": f"Amina Diallo {n}",
        "email": f"amina.{n}@example.org",
        "organisation": "Prison Reform Network",
        "job_title": "Programme officer",
        "country": "SN",
        "affiliation": "cso_ngo",
        "preferred_language": "fr",
        "interpretation_language": "fr",
        "timezone": "Africa/Dakar",
        "consent": True,
        **overrides,
    }


def form_post(n=1, **overrides):
    """What a browser posts from the registration form."""
    data = {**person(n), "consent": "on", "website": ""}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def register():
    def do(event, n=1, **overrides):
        return services.register(event=event, data=person(n, **overrides))

    return do
