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
