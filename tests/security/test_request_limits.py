"""Oversized request bodies are refused before they are read: a clear 413 (or 415 for file
uploads, which no public form takes), not a 500, nothing stored and nothing spooled to disk.
(config/limits.py: 64 KiB on public pages; staff in the admin: the largest document + 1 MiB.)"""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.test.client import MULTIPART_CONTENT
from django.utils import timezone

from events.models import Event
from registration.models import Registration
from tests.conftest import BrowserClient as Client

ONE_MIB = 1024 * 1024
CSRF_COOKIE = "a" * 32  # as a form load sets it: the CSRF check then reads the form's token


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
def test_registration_post_over_one_mib_is_refused_with_413(event, encoding):
    client = Client(raise_request_exception=False)
    data = form(organisation="x" * (ONE_MIB + 1))
    url = f"/en/events/{event.slug}/register/"
    if encoding == "urlencoded":
        response = client.post(
            url, urlencode(data), content_type="application/x-www-form-urlencoded"
        )
    else:
        response = client.post(url, data, MULTIPART_CONTENT)
    assert response.status_code == 413
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
    response = Client().post(f"/en/events/{event.slug}/register/", form(organisation="x" * 50_000))
    assert response.status_code == 200
    assert "at most 200 characters" in response.content.decode()
    assert not Registration.objects.exists()


def test_oversized_admin_login_is_refused_with_413(db):
    response = Client(raise_request_exception=False).post(
        "/en/admin/login/",
        urlencode({"username": "x" * (ONE_MIB + 1), "password": "y"}),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413


# Every temporary file Django spools an upload into, with its size when it was complete.
spooled = []


class RecordingTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    """Django's own disk spooling, noting what it wrote (the file is gone after the request)."""

    def file_complete(self, file_size):
        spooled.append((self.file.temporary_file_path(), file_size))
        return super().file_complete(file_size)


@pytest.fixture
def record_spooling(settings, tmp_path):
    settings.FILE_UPLOAD_HANDLERS = [f"{__name__}.RecordingTemporaryFileUploadHandler"]
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    spooled.clear()
    yield spooled
    spooled.clear()


def test_a_large_file_posted_to_the_registration_form_is_refused_before_it_is_spooled(
    event, record_spooling
):
    # The CSRF check would read (and spool) the body first, to find the token matching the
    # cookie a form load set; the refusal comes before it.
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.cookies["csrftoken"] = CSRF_COOKIE
    upload = SimpleUploadedFile("big.bin", b"\0" * (5 * ONE_MIB))
    response = client.post(f"/en/events/{event.slug}/register/", {**form(), "cv": upload})

    assert record_spooling == []
    assert response.status_code == 413
    page = response.content.decode()
    assert "Too much data" in page
    assert "at most 64.0\xa0KB of form data" in page
    assert not Registration.objects.exists()


def test_a_small_multipart_post_to_a_public_page_is_refused_with_415_in_its_language(
    event, record_spooling
):
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.cookies["csrftoken"] = CSRF_COOKIE
    response = client.post(
        f"/fr/events/{event.slug}/register/",
        {**form(), "cv": SimpleUploadedFile("cv.pdf", b"%PDF-1.4 tiny")},
    )
    assert response.status_code == 415  # not 403: refused before the CSRF check parsed it
    page = response.content.decode()
    assert 'lang="fr"' in page
    assert "accepte pas de fichiers" in page
    assert not Registration.objects.exists()


def test_anonymous_uploads_to_the_admin_are_refused_too(event, record_spooling):
    client = Client(raise_request_exception=False)
    upload = SimpleUploadedFile("note.pdf", b"%PDF-1.4" + b"\0" * (3 * ONE_MIB))
    response = client.post(f"/en/admin/events/event/{event.pk}/change/", {"file": upload})
    assert response.status_code == 413
    assert record_spooling == []


def test_staff_may_upload_up_to_the_document_limit_in_the_admin_and_no_more(
    event, admin_client, settings, record_spooling
):
    settings.DOCUMENT_MAX_UPLOAD_MB = 1
    url = f"/en/admin/events/event/{event.pk}/change/"
    within = SimpleUploadedFile("note.pdf", b"%PDF-1.4" + b"\0" * (ONE_MIB // 2))
    assert admin_client.post(url, {"documents-0-file": within}).status_code == 200
    over = SimpleUploadedFile("note.pdf", b"%PDF-1.4" + b"\0" * (3 * ONE_MIB))
    response = admin_client.post(url, {"documents-0-file": over})
    assert response.status_code == 413
    assert "at most 2.0\xa0MB" in response.content.decode()
