from django.core.cache import cache

from events import cache as event_cache
from registration import services
from tests.registration.conftest import person


def test_seats_left_on_the_cached_event_page_follow_registrations_at_once(
    client, make_event, django_capture_on_commit_callbacks
):
    event = make_event(capacity=3)
    page = event.get_absolute_url()

    def seats_line():
        html = client.get(page).content.decode()
        return next(
            line.strip() for line in html.splitlines() if "left." in line or "is full" in line
        )

    assert "3 places left." in seats_line()
    with django_capture_on_commit_callbacks(execute=True):
        services.register(event=event, data=person(1))
    assert "2 places left." in seats_line()

    with django_capture_on_commit_callbacks(execute=True):
        second = services.register(event=event, data=person(2)).registration
        services.register(event=event, data=person(3))
    assert "The event is full." in seats_line()

    with django_capture_on_commit_callbacks(execute=True):
        services.cancel(registration=second)
    assert "1 place left." in seats_line()


def test_a_snapshot_the_previous_release_cached_is_not_read_after_a_deploy(client, make_event):
    # Before the registration rule moved to registration/availability.py, the snapshot held
    # the seat count as "confirmed": read as one of today's, it would fail every page view.
    event = make_event(capacity=3)
    page = event.get_absolute_url()
    assert "3 places left." in client.get(page).content.decode()  # the page is cached
    fresh = event_cache.snapshot(event.pk)
    event_cache.bump_event(event.pk)
    old = {
        **{k: v for k, v in fresh.items() if k != "registration_seats_taken"},
        "confirmed": 0,
    }
    cache.set(f"events:snapshot:{event.pk}", old, event_cache.STATUS_SECONDS)

    response = client.get(page)

    assert response.status_code == 200
    assert "3 places left." in response.content.decode()
