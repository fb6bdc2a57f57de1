"""After the organiser login, an unsafe `next` leads to the admin's index, never off the site
and never to Django's default /accounts/profile/ (which does not exist here: a 404)."""

import pytest
from django.contrib.auth import get_user_model

PASSWORD = "correct horse battery"


@pytest.fixture
def organiser(db):
    return get_user_model().objects.create_user("organiser", "", PASSWORD, is_staff=True)


@pytest.mark.parametrize(
    "unsafe", ["https://evil.example/", "//evil.example/admin/", "javascript:alert(1)"]
)
def test_login_with_an_unsafe_next_lands_on_the_admin_index(client, organiser, unsafe):
    response = client.post(
        f"/fr/admin/login/?next={unsafe}",
        {"username": "organiser", "password": PASSWORD, "next": unsafe},
    )
    assert response.status_code == 302
    assert response["Location"] == "/fr/admin/"
    assert client.get(response["Location"]).status_code == 200


def test_login_with_a_safe_next_goes_there(client, organiser):
    response = client.post(
        "/en/admin/login/",
        {"username": "organiser", "password": PASSWORD, "next": "/en/admin/events/event/"},
    )
    assert response["Location"] == "/en/admin/events/event/"
