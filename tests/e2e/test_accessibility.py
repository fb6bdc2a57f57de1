"""WCAG 2.1 A + AA checks with axe-core, in English and in Arabic (right to left), on every
page an attendee goes through: event list, event page, registration form (empty and with
errors), "check your email" and the personal manage page.

axe-core comes from the axe-playwright-python wheel (axe.min.js inside; no npm needed) and is
evaluated in the page through the DevTools protocol, which the pages' strict CSP does not
block. Also checked here, by hand, what axe cannot see: the skip link, the focus outline and
a registration done with the keyboard alone.
"""

from datetime import timedelta
from pathlib import Path

import axe_playwright_python
import pytest
from django.urls import reverse
from django.utils import timezone, translation
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

AXE_SOURCE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
LANGUAGES = ["en", "ar"]


@pytest.fixture
def side_event(transactional_db):
    """A published side event like the one we model, with an agenda, speakers and a
    translated title, six interpretation languages and registration open."""
    from events.models import AgendaItem, Event, Speaker

    starts = (timezone.now() + timedelta(days=30)).replace(
        hour=16, minute=30, second=0, microsecond=0
    )
    event = Event.objects.create(
        slug="csos-in-prisons",
        title="Engaging civil society in preventing radicalisation in prisons",
        summary="A virtual side event of UN Counter-Terrorism Week.",
        description="Civil society organisations can support **rehabilitation**.",
        expected_outcomes="Share good practice\nRaise awareness of the challenges",
        translations={"ar": {"title": "إشراك المجتمع المدني في منع التطرف في السجون"}},
        organiser="Example Mission to the United Nations",
        starts_at=starts,
        ends_at=starts + timedelta(minutes=90),
        timezone="America/New_York",
        format=Event.Format.VIRTUAL,
        interpretation_languages=["ar", "zh-hans", "en", "fr", "ru", "es"],
        capacity=300,
        status=Event.Status.PUBLISHED,
    )
    speaker = Speaker.objects.create(
        name="Amina Diallo", title="Director", organisation="Prison Reform Network"
    )
    opening = AgendaItem.objects.create(
        event=event, starts_at=starts, ends_at=starts + timedelta(minutes=15), title="Opening"
    )
    opening.speakers.add(speaker)
    AgendaItem.objects.create(
        event=event,
        starts_at=starts + timedelta(minutes=15),
        ends_at=starts + timedelta(minutes=90),
        title="Panel discussion",
        position=1,
    )
    return event


@pytest.fixture
def manage_token(side_event):
    from registration import services

    result = services.register(
        event=side_event,
        data={
            "name": "Li Wei",
            "email": "li.wei@example.org",
            "affiliation": "cso_ngo",
            "preferred_language": "en",
            "consent": True,
        },
    )
    return result.token


def url(live_server, name, language, **kwargs):
    with translation.override(language):
        return live_server.url + reverse(name, kwargs=kwargs)


def axe_violations(page):
    page.evaluate(AXE_SOURCE)
    return page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
        ".then(results => results.violations)",
        WCAG_21_AA,
    )


def describe(violations):
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']}"
            f"\n  {violation['helpUrl']}"
        )
        for node in violation["nodes"][:5]:
            lines.append(f"    at {', '.join(map(str, node['target']))}: {node['html'][:160]}")
            summary = node.get("failureSummary", "").replace("\n", " ")
            lines.append(f"       {summary[:300]}")
        if len(violation["nodes"]) > 5:
            lines.append(f"    ... and {len(violation['nodes']) - 5} more")
    return "\n".join(lines)


def assert_accessible(page, language):
    assert page.evaluate("document.documentElement.lang") == language
    expected_dir = "rtl" if language == "ar" else "ltr"
    assert page.evaluate("document.documentElement.dir") == expected_dir
    violations = axe_violations(page)
    assert not violations, (
        f"{page.url}: {len(violations)} WCAG 2.1 AA violation(s) found by axe-core:\n"
        + describe(violations)
    )


def submit_empty_registration_form(page):
    """Send the form empty, past the browser's own checks, to get the server's errors."""
    form = page.locator("main form[method=post]").first
    form.evaluate("form => { form.noValidate = true; }")
    with page.expect_navigation():
        form.locator("[type=submit]").last.click()


@pytest.mark.parametrize("language", LANGUAGES)
def test_event_list_has_no_axe_violations(live_server, page, side_event, language):
    page.goto(url(live_server, "events:list", language))
    expect(page.locator("h1")).to_have_count(1)
    assert_accessible(page, language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_event_page_has_no_axe_violations(live_server, page, side_event, language):
    page.goto(url(live_server, "events:detail", language, slug=side_event.slug))
    expect(page.locator("h1")).to_have_count(1)
    assert_accessible(page, language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_registration_form_has_no_axe_violations(live_server, page, side_event, language):
    page.goto(url(live_server, "registration:register", language, slug=side_event.slug))
    expect(page.locator("main form[method=post]")).to_have_count(1)
    assert_accessible(page, language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_registration_form_with_errors_has_no_axe_violations(
    live_server, page, side_event, language
):
    page.goto(url(live_server, "registration:register", language, slug=side_event.slug))
    submit_empty_registration_form(page)
    # The errors are there for everyone: announced, and tied to the fields they are about.
    expect(page.get_by_role("alert").first).to_be_visible()
    invalid = page.locator("main [aria-invalid=true]")
    assert invalid.count() >= 2
    for index in range(invalid.count()):
        described_by = invalid.nth(index).get_attribute("aria-describedby") or ""
        assert described_by, f"field {index} has no aria-describedby pointing to its error"
    assert_accessible(page, language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_check_your_email_page_has_no_axe_violations(live_server, page, side_event, language):
    page.goto(url(live_server, "registration:check_email", language, slug=side_event.slug))
    expect(page.locator("h1")).to_have_count(1)
    assert_accessible(page, language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_manage_page_has_no_axe_violations(live_server, page, manage_token, language):
    page.goto(url(live_server, "registration:manage", language, token=manage_token))
    expect(page.locator("h1")).to_have_count(1)
    assert_accessible(page, language)


def test_skip_link_is_the_first_stop_and_shows_on_focus(live_server, page, side_event):
    page.goto(url(live_server, "events:detail", "en", slug=side_event.slug))
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).not_to_be_in_viewport()
    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    # The next Tab lands inside the page content, not back in the header.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")


def test_keyboard_focus_is_clearly_visible(live_server, page, side_event):
    page.goto(url(live_server, "registration:register", "en", slug=side_event.slug))
    for _ in range(3):
        page.keyboard.press("Tab")
        outline = page.evaluate(
            "() => { const s = getComputedStyle(document.activeElement);"
            " return [s.outlineStyle, parseFloat(s.outlineWidth)]; }"
        )
        assert outline[0] != "none" and outline[1] >= 2, (
            f"{page.evaluate('document.activeElement.outerHTML.slice(0, 120)')}: {outline}"
        )


def test_registration_can_be_done_with_the_keyboard_alone(live_server, page, side_event):
    """Tab from field to field, type, tick the box with Space, send with Enter."""
    page.goto(url(live_server, "registration:register", "en", slug=side_event.slug))
    answers = {
        "name": "Sofia Ramírez",
        "email": "sofia@example.org",
        "organisation": "Prison Reform Network",
    }
    form = page.locator("main form[method=post]")
    for _ in range(60):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const e = document.activeElement;"
            " return {name: e.name || '', tag: e.tagName, type: e.type || '',"
            " inForm: !!e.closest('main form'), checked: !!e.checked,"
            " options: e.options ? e.options.length : 0}; }"
        )
        if not focused["inForm"]:
            continue
        name, tag, kind = focused["name"], focused["tag"], focused["type"]
        if name in answers:
            page.keyboard.type(answers.pop(name))
        elif tag == "SELECT" and focused["options"] > 1:
            page.keyboard.press("ArrowDown")  # from "Choose..." to the first real choice
        elif kind == "checkbox" and name != "website" and not focused["checked"]:
            page.keyboard.press("Space")
        elif kind == "submit":
            with page.expect_navigation():
                page.keyboard.press("Enter")
            break
    else:
        pytest.fail("Tab never reached the form's submit button")
    assert not answers, f"fields never reached with Tab: {sorted(answers)}"
    expect(form).to_have_count(0)
    check_email = url(live_server, "registration:check_email", "en", slug=side_event.slug)
    assert page.url.startswith(check_email), page.url


@pytest.mark.parametrize("language", LANGUAGES)
def test_open_language_menu_has_no_axe_violations(live_server, page, side_event, language):
    page.goto(url(live_server, "events:detail", language, slug=side_event.slug))
    page.locator(".language-switcher summary").click()
    expect(page.locator(".language-switcher a[hreflang=fr]")).to_be_visible()
    assert_accessible(page, language)


@pytest.fixture
def past_event(transactional_db):
    from tests import samples

    return samples.make_closed_event()


@pytest.mark.parametrize("language", LANGUAGES)
def test_other_public_pages_have_no_axe_violations(
    live_server, page, manage_token, past_event, language
):
    """Past events, the privacy notice, cancelling, a registration no longer available, and
    the pages of the other registration modes (email verification, access code, invitation
    only: the by-invitation page, an invitation's one-step form, a withdrawn invitation)."""
    from tests import samples

    access = samples.access_paths(language, event=past_event)
    for path in [
        *(f"{live_server.url}{access_path}" for access_path in access.values()),
        url(live_server, "events:past", language),
        url(live_server, "registration:privacy", language),
        url(live_server, "registration:cancel", language, token=manage_token),
        url(live_server, "registration:register", language, slug=past_event.slug),
        url(live_server, "events:detail", language, slug=past_event.slug),
    ]:
        page.goto(path)
        expect(page.locator("h1")).to_have_count(1)
        assert_accessible(page, language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_error_pages_have_no_axe_violations(live_server, page, settings, language):
    settings.DEBUG = False
    settings.ROOT_URLCONF = "tests.error_urls"
    for path, status in [("no-such-page/", 404), ("fail/500/", 500), ("fail/503/", 503)]:
        response = page.goto(f"{live_server.url}/{language}/{path}")
        assert response.status == status
        expect(page.get_by_role("main")).to_have_count(1)
        expect(page.get_by_role("banner")).to_have_count(1)
        expect(page.locator(f"main a[href='/{language}/']")).to_have_count(1)
        assert_accessible(page, language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_email_has_no_axe_violations(page, side_event, language):
    from tests import samples

    htmls = samples.email_htmls(side_event, language)
    assert len(htmls) == 16
    for kind, html in htmls.items():
        page.set_content(html)
        violations = axe_violations(page)
        assert not violations, f"{language} {kind} email:\n{describe(violations)}"
        assert page.evaluate("document.documentElement.lang") == language
