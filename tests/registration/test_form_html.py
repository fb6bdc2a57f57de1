"""The sign-up form served from registration.form_html's cache is the form crispy renders:
the same bytes for every language and registration mode, with questions present, each
visitor with their own CSRF token, and a fresh render as soon as anything in the form changes."""

import re

import pytest
from django import forms
from django.conf import settings
from django.template import Context, Template
from django.utils import translation

from events.models import Event
from registration.form_html import forget_rendered_forms, per_visitor, render_form
from registration.forms import RegistrationForm
from tests.conftest import BrowserClient
from tests.registration.questions_data import add_questions

LANGUAGES = [code for code, _ in settings.LANGUAGES]
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CRISPY = Template("{% load crispy_forms_tags %}{% crispy form %}")


@pytest.fixture(autouse=True)
def _empty_form_cache():
    forget_rendered_forms()
    yield
    forget_rendered_forms()


def crispy_html(form, token):
    """The form as `{% crispy form %}` rendered it before the cache."""
    return CRISPY.render(Context({"form": form, "csrf_token": token}))


def form_part(page):
    start = page.index("<form")
    return page[start : page.index("</form>", start) + len("</form>")]


def served_form(event, language):
    """The form of a new visitor's page (a fresh browser), and the CSRF token it carries."""
    page = BrowserClient().get(f"/{language}/events/{event.slug}/register/")
    assert page.status_code == 200
    html = form_part(page.content.decode())
    return html, TOKEN.search(html).group(1)


# Invitation-only events show no public form: invitees use their one-step page.
PUBLIC_FORM_MODES = [m for m in Event.RegistrationMode if m != Event.RegistrationMode.INVITATION]


@pytest.mark.parametrize("proof_of_work", [False, True], ids=["plain", "proof-of-work"])
@pytest.mark.parametrize("mode", PUBLIC_FORM_MODES)
def test_cached_form_is_crispys_form_in_every_language_and_mode(make_event, mode, proof_of_work):
    event = make_event(registration_mode=mode, proof_of_work=proof_of_work)
    add_questions(event)
    for language in LANGUAGES:
        first, first_token = served_form(event, language)  # rendered and cached
        second, second_token = served_form(event, language)  # from the cache
        assert first_token != second_token  # each visitor has their own token
        with translation.override(language):
            expected_first = crispy_html(RegistrationForm(event=event), first_token)
            expected_second = crispy_html(RegistrationForm(event=event), second_token)
        assert first == form_part(expected_first)
        assert second == form_part(expected_second)
        assert 'name="q_position"' in second
        assert ('name="access_code"' in second) == (mode == Event.RegistrationMode.CODE)
        assert ("<altcha-widget" in second) == proof_of_work


def test_form_shows_a_changed_question_to_the_next_visitor(make_event):
    event = make_event()
    add_questions(event)
    served_form(event, "en")
    question = event.questions.get(key="position")
    question.label = "Your rank"
    question.save()
    html, token = served_form(event, "en")
    assert "Your rank" in html
    assert "Your position" not in html
    expected = crispy_html(RegistrationForm(event=event), token)
    assert html == form_part(expected)


def test_form_follows_the_events_interpretation_languages(make_event):
    event = make_event(interpretation_languages=["en", "fr"])
    served_form(event, "fr")
    event.interpretation_languages = ["en", "fr", "es"]
    event.save()
    html, token = served_form(event, "fr")
    assert 'value="es"' in html.split('name="interpretation_language"')[1].split("</select>")[0]
    with translation.override("fr"):
        assert html == form_part(crispy_html(RegistrationForm(event=event), token))


def test_form_shown_again_with_errors_keeps_what_the_visitor_typed(make_event):
    event = make_event()
    add_questions(event)
    client = BrowserClient()
    client.get(f"/en/events/{event.slug}/register/")
    response = client.post(
        f"/en/events/{event.slug}/register/",
        {"name": "Amina <Diallo>", "email": "not an address", "consent": "on"},
    )
    page = response.content.decode()
    assert 'value="Amina &lt;Diallo&gt;"' in page
    assert 'value="not an address"' in page
    assert "is-invalid" in page


class ChallengeForm(RegistrationForm):
    """A form with a field whose widget differs for every visitor, as a proof-of-work
    challenge does: registered with per_visitor()."""

    issued = 0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        ChallengeForm.issued += 1
        self.fields["challenge"] = per_visitor(
            forms.CharField(
                label="Challenge",
                required=False,
                widget=forms.TextInput(attrs={"data-challenge": f"c-{ChallengeForm.issued}"}),
            )
        )


def test_per_visitor_widget_is_rendered_for_each_visitor(event):
    token = "t0k3n"
    with translation.override("en"):
        outputs = []
        for _ in range(3):
            form = ChallengeForm(event=event)
            challenge = form.fields["challenge"].widget.attrs["data-challenge"]
            html = render_form(form, Context({"csrf_token": token}))
            outputs.append(html)
            assert f'data-challenge="{challenge}"' in html
            assert html == crispy_html(ChallengeForm(event=event), token).replace(
                f'data-challenge="c-{ChallengeForm.issued}"', f'data-challenge="{challenge}"'
            )
        # The challenge differs, the rest (served from the cache) is the same.
        assert len(set(outputs)) == 3


def test_form_without_csrf_token_in_context_has_no_token_input(event):
    with translation.override("en"):
        html = render_form(RegistrationForm(event=event), Context({}))
        again = render_form(RegistrationForm(event=event), Context({"csrf_token": "abc"}))
    assert "csrfmiddlewaretoken" not in html
    assert 'name="csrfmiddlewaretoken" value="abc"' in again


def test_cached_form_is_what_crispy_renders_in_the_pages_own_context(rf, make_event):
    """The cache renders with a bare context; the page rendered crispy with the request's
    (context processors and all): the same HTML, tokens aside."""
    from django.template import RequestContext

    event = make_event(registration_mode=Event.RegistrationMode.CODE)
    add_questions(event)
    request = rf.get(f"/ar/events/{event.slug}/register/")
    fast = Template("{% load registration_tags %}{% registration_form form %}")
    with translation.override("ar"):
        expected = CRISPY.render(RequestContext(request, {"form": RegistrationForm(event=event)}))
        served = [
            fast.render(RequestContext(request, {"form": RegistrationForm(event=event)}))
            for _ in range(2)  # rendered, then from the cache
        ]
    assert TOKEN.search(expected)
    for html in served:
        assert TOKEN.sub("TOKEN", html) == TOKEN.sub("TOKEN", expected)
