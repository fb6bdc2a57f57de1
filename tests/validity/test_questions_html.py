"""The W3C Nu checker finds 0 errors on the registration form with a question of every type,
its errors, the manage page and the confirmation email that repeats the answers, in English
and Arabic."""

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation

from registration import services
from registration.models import Registration
from tests.registration.conftest import form_post, person
from tests.registration.questions_data import ANSWERS_POST, add_questions
from tests.samples import seed_demo_event
from tests.validity.test_html import report

pytestmark = pytest.mark.django_db


def test_question_pages_and_the_confirmation_are_valid_html(
    vnu, client, settings, django_capture_on_commit_callbacks
):
    settings.REGISTRATION_RATE_LIMIT = 1000
    event = add_questions(seed_demo_event())
    pages = {}
    for language in ("en", "ar"):
        url = f"/{language}/events/{event.slug}/register/"
        pages[f"{language}: form"] = client.get(url).content.decode()
        wrong = {
            **form_post(),
            **ANSWERS_POST,
            "q_access": "",
            "q_delegates": "x",
            "q_arrival": "24/06",
        }
        pages[f"{language}: errors"] = client.post(url, wrong).content.decode()
        email = f"valid-{language}@example.org"
        data = {**form_post(), **ANSWERS_POST, "email": email, "preferred_language": language}
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(url, data).status_code == 302
        (message,) = [m for m in mail.outbox if email in m.to]
        pages[f"{language}: confirmation email"] = message.alternatives[0][0]
        assert Registration.objects.filter(email=email).exists()
        # The manage page, with a required question added since (asked, with a notice).
        result = services.register(
            event=event, data=person({"en": 50, "ar": 51}[language], answers={"access": "sign"})
        )
        with translation.override(language):
            manage = reverse("registration:manage", kwargs={"token": result.token})
        pages[f"{language}: manage"] = client.get(manage).content.decode()
        assert "q_position" in pages[f"{language}: manage"]

    errors = vnu(pages)

    assert not errors, report(errors)
