"""The proof-of-work check in real Chromium: the vendored ALTCHA widget solves our challenge
under our Content-Security-Policy, with the keyboard alone, with nothing fetched from another
site; its labels are in the page's language (right to left in Arabic); axe finds nothing.
(Chromium shows no <noscript> even with JavaScript turned off in Playwright, so the words for
browsers without JavaScript are checked in tests/registration/test_proof_of_work.py.)

The solve time is printed (run with -s to see it), not asserted: it depends on the machine.
"""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from events.models import Event
from registration.models import Registration
from tests.e2e.test_accessibility import assert_accessible, url

pytestmark = pytest.mark.e2e

LANGUAGES = ["en", "fr", "es", "ru", "zh-hans", "ar"]
# The widget's checkbox label, per language (registration/proof_of_work.py widget_strings).
NOT_A_ROBOT = {
    "en": "I am not a robot",
    "fr": "Je ne suis pas un robot",
    "es": "No soy un robot",
    "ru": "Я не робот",
    "zh-hans": "我不是机器人",
    "ar": "لست روبوتًا",
}
VERIFIED = {
    "en": "Verified",
    "fr": "Vérifié",
    "es": "Verificado",
    "ru": "Проверено",
    "zh-hans": "已验证",
    "ar": "تم التحقق",
}
# Records when the widget starts and ends its work, and what the page refused under its CSP.
RECORDER = """
window.__pow = {};
window.__csp = [];
document.addEventListener('statechange', e => {
  const state = e.detail && e.detail.state;
  if (state === 'verifying') window.__pow.start = performance.now();
  if (state === 'verified') window.__pow.end = performance.now();
}, true);
document.addEventListener('securitypolicyviolation', e => {
  window.__csp.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""


@pytest.fixture
def guarded_event(transactional_db):
    starts_at = timezone.now() + timedelta(days=10)
    return Event.objects.create(
        slug="under-attack",
        title="Prison reform: what works",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=90),
        timezone="America/New_York",
        status=Event.Status.PUBLISHED,
        interpretation_languages=["en", "fr"],
        proof_of_work=True,
    )


def checkbox(page):
    return page.locator("altcha-widget input[type=checkbox]")


def watch_requests(page, live_server):
    """Every URL the page asks for that is not on our own site."""
    ours = urlsplit(live_server.url).netloc
    foreign = []
    page.on(
        "request",
        lambda request: (
            foreign.append(request.url)
            if urlsplit(request.url).scheme in {"http", "https"}
            and urlsplit(request.url).netloc != ours
            else None
        ),
    )
    return foreign


def test_keyboard_only_registration_solves_the_check_under_our_csp(
    live_server, page, guarded_event
):
    """Tab to the box, press Space, wait for "Verified", go on to the button, press Enter."""
    page.add_init_script(RECORDER)
    foreign = watch_requests(page, live_server)
    response = page.goto(url(live_server, "registration:register", "en", slug=guarded_event.slug))
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "blob:" not in csp
    expect(checkbox(page)).to_be_visible()
    # A screen reader entering the box hears what it is for.
    group = page.get_by_role("group", name=re.compile("^Anti-spam check"))
    expect(group).to_have_accessible_description(re.compile("^To keep automated sign-ups out"))
    expect(group.get_by_role("checkbox", name="I am not a robot")).to_be_visible()
    answers = {"name": "Sofia Ramírez", "email": "sofia@example.org"}
    solved = False
    for _ in range(60):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const e = document.activeElement;"
            " return {name: e.name || '', id: e.id || '', tag: e.tagName, type: e.type || '',"
            " inForm: !!e.closest('main form'), checked: !!e.checked,"
            " options: e.options ? e.options.length : 0}; }"
        )
        if not focused["inForm"]:
            continue
        name, tag, kind = focused["name"], focused["tag"], focused["type"]
        if name in answers:
            page.keyboard.type(answers.pop(name))
        elif tag == "SELECT" and focused["options"] > 1:
            page.keyboard.press("ArrowDown")
        elif kind == "checkbox" and "altcha" in focused["id"]:
            page.keyboard.press("Space")
            expect(page.locator("altcha-widget")).to_contain_text("Verified", timeout=60_000)
            solved = True
        elif kind == "checkbox" and name != "website" and not focused["checked"]:
            page.keyboard.press("Space")
        elif kind == "submit":
            with page.expect_navigation():
                page.keyboard.press("Enter")
            break
    else:
        pytest.fail("Tab never reached the form's submit button")
    assert solved, "Tab never reached the proof-of-work checkbox"
    assert not answers, f"fields never reached with Tab: {sorted(answers)}"
    assert page.url.startswith(
        url(live_server, "registration:check_email", "en", slug=guarded_event.slug)
    ), page.url
    assert Registration.objects.filter(email="sofia@example.org").exists()
    assert page.evaluate("window.__csp") == []
    assert foreign == []


def test_solve_time_in_chromium(live_server, page, guarded_event, settings):
    """Prints how long Chromium takes for challenges of the configured size."""
    page.add_init_script(RECORDER)
    times = []
    for _ in range(5):
        page.goto(url(live_server, "registration:register", "en", slug=guarded_event.slug))
        checkbox(page).click()
        expect(page.locator("altcha-widget")).to_contain_text("Verified", timeout=60_000)
        times.append(page.evaluate("window.__pow.end - window.__pow.start"))
    maxnumber = settings.REGISTRATION_PROOF_OF_WORK_MAXNUMBER
    cores = page.evaluate("navigator.hardwareConcurrency")
    print(
        f"\nproof of work, maxnumber {maxnumber}, {cores} cores: "
        f"{', '.join(f'{t:.0f}' for t in times)} ms (mean {sum(times) / len(times):.0f} ms)"
    )
    assert page.evaluate("window.__csp") == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_form_with_the_check_has_no_axe_violations_in_every_language(
    live_server, page, guarded_event, language, screenshot_dir
):
    page.goto(url(live_server, "registration:register", language, slug=guarded_event.slug))
    expect(checkbox(page)).to_be_visible()
    expect(page.locator("altcha-widget")).to_contain_text(NOT_A_ROBOT[language])
    expect(page.get_by_label(NOT_A_ROBOT[language])).to_be_visible()
    assert_accessible(page, language)
    checkbox(page).click()
    expect(page.locator("altcha-widget")).to_contain_text(VERIFIED[language], timeout=60_000)
    assert_accessible(page, language)
    page.locator("altcha-widget").screenshot(path=screenshot_dir / f"altcha-{language}.png")


def test_a_form_sent_without_solving_says_what_to_do_and_passes_axe(
    live_server, page, guarded_event
):
    page.goto(url(live_server, "registration:register", "ar", slug=guarded_event.slug))
    form = page.locator("main form[method=post]").first
    form.evaluate("form => { form.noValidate = true; }")
    # The widget asks for the check before the form goes; send it around the widget, as a
    # script would, to see the server's answer.
    with page.expect_navigation():
        form.evaluate("form => HTMLFormElement.prototype.submit.call(form)")
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("JavaScript")
    summary.get_by_role("link", name=re.compile("JavaScript")).click()
    assert page.evaluate("document.activeElement.id") == "id_altcha"
    expect(checkbox(page)).to_be_visible()
    assert_accessible(page, "ar")
