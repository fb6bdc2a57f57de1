import pytest

from events import services
from events.models import Event, Speaker
from events.signals import event_cancelled, event_changed
from tests.events.conftest import add_agenda, make_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard():
    received = []

    def on_changed(sender, event, changes, **kwargs):
        received.append(("changed", event.pk, set(changes)))

    def on_cancelled(sender, event, **kwargs):
        received.append(("cancelled", event.pk, None))

    event_changed.connect(on_changed)
    event_cancelled.connect(on_cancelled)
    yield received
    event_changed.disconnect(on_changed)
    event_cancelled.disconnect(on_cancelled)


def test_meeting_link_change_of_published_event_is_announced(event, heard):
    event.meeting_url = "https://meet.example.org/new"
    changes = services.save_event(event=event, changed_fields=["meeting_url", "title"])
    assert changes == {"meeting_url"}
    assert heard == [("changed", event.pk, {"meeting_url"})]
    event.refresh_from_db()
    assert event.sequence == 1 and event.changed_at is not None


def test_a_field_the_form_thought_changed_but_did_not_is_not_announced(event, heard):
    assert services.save_event(event=event, changed_fields=["starts_at"]) == set()
    assert heard == []


def test_changes_to_a_draft_are_not_announced(heard):
    draft = make_event(status=Event.Status.DRAFT)
    draft.meeting_url = "https://meet.example.org/other"
    assert services.save_event(event=draft, changed_fields=["meeting_url"]) == set()
    assert heard == []


def test_cancel_is_announced_once_and_drafts_silently(event, heard):
    draft = make_event(slug="draft", status=Event.Status.DRAFT)
    assert services.cancel_event(event=event) is True
    assert services.cancel_event(event=event) is False
    assert services.cancel_event(event=draft) is True
    assert heard == [("cancelled", event.pk, None)]


def test_publish_and_unpublish(event):
    assert services.publish(event=event) is False  # already published
    assert services.unpublish(event=event) is True
    event.refresh_from_db()
    assert event.status == Event.Status.DRAFT
    assert services.publish(event=event) is True


def test_saving_a_speaker_shows_on_the_cached_pages_of_their_events(
    client, db, django_capture_on_commit_callbacks
):
    event = make_event()
    add_agenda(event, 2)
    speaker = Speaker.objects.filter(agenda_items__event=event).first()
    assert speaker.name in client.get(event.get_absolute_url()).content.decode()  # now cached

    speaker.name = "Dr. Amina Diallo-Renamed"
    with django_capture_on_commit_callbacks(execute=True):
        services.save_speaker(speaker=speaker)

    assert "Dr. Amina Diallo-Renamed" in client.get(event.get_absolute_url()).content.decode()
