"""The W3C Nu checker finds 0 errors on every public page (error pages included) and in the
HTML of every email, in English and in Arabic."""

import pytest

from tests import samples

pytestmark = pytest.mark.django_db
LANGUAGES = ["en", "ar"]


@pytest.fixture
def production(settings):
    """The error pages as production shows them."""
    settings.DEBUG = False
    settings.ROOT_URLCONF = "tests.error_urls"


def report(errors):
    return "\n".join(
        f"{name}:\n  " + "\n  ".join(messages) for name, messages in sorted(errors.items())
    )


def test_every_public_page_is_valid_html(vnu, production):
    event = samples.seed_demo_event()
    past_event = samples.make_closed_event()
    pages = {}
    for language in LANGUAGES:
        _registration, token = samples.register(event, language)
        found = samples.public_pages(language, event=event, past_event=past_event, token=token)
        pages.update({f"{language}: {name}": html for name, html in found.items()})

    errors = vnu(pages)

    assert len(pages) == 2 * 22
    assert not errors, report(errors)


def test_every_email_is_valid_html(vnu):
    event = samples.seed_demo_event()
    htmls = {}
    for language in LANGUAGES:
        found = samples.email_htmls(event, language)
        htmls.update({f"{language}: {kind}": html for kind, html in found.items()})

    errors = vnu(htmls)

    assert len(htmls) == 2 * 16
    assert not errors, report(errors)
