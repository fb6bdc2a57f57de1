"""Oversized request bodies are refused before they are read: a clear 400, not a 500, and
nothing stored. (DATA_UPLOAD_MAX_MEMORY_SIZE is 1 MiB; uploaded files do not count.)"""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.utils import timezone

from events.models import Event
from registration.models import Registration

ONE_MIB = 1024 * 1024


@pytest.fixture
def event(db):
    starts = timezone.now() + timedelta(days=7)
    return Event.objects.create(
        slug="limits",
        title="Limits",
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        status=Event.Status.PUBLISHED,
        interpretation_languages=["en"],
    )


def form(**overrides):
    return {
        "name": "Amina Diallo",
        "email": "amina@example.org",
        "affiliation": "cso_ngo",
        "preferred_language": "en",
        "interpretation_language": "en",
        "consent": "on",
        **overrides,
    }


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_registration_post_over_one_mib_is_refused_with_400(event, encoding):
    client = Client(raise_request_exception=False)
    data = form(organisation="x" * (ONE_MIB + 1))
    url = f"/en/events/{event.slug}/register/"
    if encoding == "urlencoded":
        response = client.post(
            url, urlencode(data), content_type="application/x-www-form-urlencoded"
        )
    else:
        response = client.post(url, data)
    assert response.status_code in {400, 413}
    assert not Registration.objects.exists()


def test_many_small_fields_are_refused_too(event):
    client = Client(raise_request_exception=False)
    data = {**form(), **{f"f{n}": "1" for n in range(1500)}}  # DATA_UPLOAD_MAX_NUMBER_FIELDS
    response = client.post(
        f"/en/events/{event.slug}/register/",
        urlencode(data),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert not Registration.objects.exists()


def test_just_under_the_limit_is_an_ordinary_form_error(event):
    # A long organisation name within the body limit: the form says it is too long.
    response = Client().post(
        f"/en/events/{event.slug}/register/", form(organisation="x" * (ONE_MIB // 2))
    )
    assert response.status_code == 200
    assert "at most 200 characters" in response.content.decode()
    assert not Registration.objects.exists()


def test_oversized_admin_login_is_refused_with_400(db):
    response = Client(raise_request_exception=False).post(
        "/en/admin/login/",
        urlencode({"username": "x" * (ONE_MIB + 1), "password": "y"}),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
