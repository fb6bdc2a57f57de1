"""The event page in the six UN languages, reached through the language switcher, and the
screenshots (English, Arabic, the registration form with errors) in var/screenshots/."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

# Each language as its readers write its name; the switcher must show exactly this.
LOCAL_NAMES = {
    "ar": "العربيّة",
    "zh-hans": "简体中文",
    "en": "English",
    "fr": "Français",
    "ru": "Русский",
    "es": "Español",
}
ARABIC_TITLE = "إشراك المجتمع المدني في منع التطرف في السجون"


@pytest.fixture
def side_event(transactional_db):
    from events.models import AgendaItem, Event

    starts = (timezone.now() + timedelta(days=30)).replace(
        hour=16, minute=30, second=0, microsecond=0
    )
    event = Event.objects.create(
        slug="csos-in-prisons",
        title="Engaging civil society in preventing radicalisation in prisons",
        summary="A virtual side event of UN Counter-Terrorism Week.",
        description="Civil society organisations can support **rehabilitation**.",
        expected_outcomes="Share good practice\nRaise awareness of the challenges",
        translations={"ar": {"title": ARABIC_TITLE}},
        starts_at=starts,
        ends_at=starts + timedelta(minutes=90),
        timezone="America/New_York",
        interpretation_languages=["ar", "zh-hans", "en", "fr", "ru", "es"],
        status=Event.Status.PUBLISHED,
    )
    AgendaItem.objects.create(
        event=event, starts_at=starts, ends_at=starts + timedelta(minutes=90), title="Panel"
    )
    return event


def event_path(event, language):
    with translation.override(language):
        return reverse("events:detail", kwargs={"slug": event.slug})


def switch_language(page, code):
    switcher = page.locator(".language-switcher")
    switcher.locator("summary").click()
    link = switcher.locator(f"a[hreflang='{code}']")
    expect(link).to_be_visible()
    expect(link).to_have_text(LOCAL_NAMES[code])
    expect(link).to_have_attribute("lang", code)
    with page.expect_navigation():
        link.click()


def test_switcher_takes_the_event_page_through_all_six_languages(live_server, page, side_event):
    page.goto(live_server.url + event_path(side_event, "en"))
    for code in ["ar", "zh-hans", "fr", "ru", "es", "en"]:
        switch_language(page, code)

        assert page.url == live_server.url + event_path(side_event, code)
        assert page.url.startswith(f"{live_server.url}/{code}/")
        html = page.locator("html")
        expect(html).to_have_attribute("lang", code)
        expect(html).to_have_attribute("dir", "rtl" if code == "ar" else "ltr")
        # The switcher now shows this language as the current one.
        expect(page.locator(".language-switcher summary")).to_contain_text(LOCAL_NAMES[code])
        expect(page.locator(f".language-switcher a[hreflang='{code}']")).to_have_attribute(
            "aria-current", "page"
        )
        # A string from the compiled catalogues: the interpretation languages are named in
        # the page's language ("Espagnol", "西班牙语", ...).
        with translation.override(code):
            spanish = gettext("Spanish")
        assert code == "en" or spanish != "Spanish"
        expect(page.locator("main")).to_contain_text(spanish)
        title = page.locator("h1")
        if code == "ar":
            expect(title).to_have_text(ARABIC_TITLE)  # the organiser's Arabic title
        else:
            expect(title).to_have_text(side_event.title)  # falls back to English


def test_arabic_page_lays_out_right_to_left(live_server, page, side_event):
    page.goto(live_server.url + event_path(side_event, "ar"))
    stylesheets = page.evaluate("[...document.styleSheets].map(s => s.href || '')")
    assert any(href.endswith("bootstrap.rtl.min.css") for href in stylesheets)
    # The header is mirrored: site name on the right, language menu on the left.
    viewport = page.viewport_size["width"]
    name = page.locator(".site-name").bounding_box()
    switcher = page.locator(".language-switcher").bounding_box()
    assert name["x"] > viewport / 2 > switcher["x"] + switcher["width"]
    # The language menu opens towards the page, not off the left edge of the screen.
    page.locator(".language-switcher summary").click()
    menu = page.locator(".language-switcher .dropdown-menu").bounding_box()
    assert menu["x"] >= 0 and menu["x"] + menu["width"] <= viewport


def test_language_menu_works_from_the_keyboard(live_server, page, side_event):
    page.goto(live_server.url + event_path(side_event, "en"))
    summary = page.locator(".language-switcher summary")
    summary.focus()
    page.keyboard.press("Enter")
    french = page.locator(".language-switcher a[hreflang=fr]")
    expect(french).to_be_visible()
    page.keyboard.press("Escape")
    expect(french).to_be_hidden()
    expect(summary).to_be_focused()
    page.keyboard.press("Enter")
    while not page.evaluate("document.activeElement.hreflang === 'fr'"):
        page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == live_server.url + event_path(side_event, "fr")


def test_language_menu_fits_a_phone_screen(live_server, page, side_event, screenshot_dir):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(live_server.url + event_path(side_event, "ar"))
    page.locator(".language-switcher summary").click()
    for code in LOCAL_NAMES:
        box = page.locator(f".language-switcher a[hreflang='{code}']").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360, code
        assert box["height"] >= 24, f"{code}: a {box['height']}px tap target"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=screenshot_dir / "event-page-ar-phone-language-menu.png")


@pytest.mark.parametrize("language", ["en", "ar"])
def test_screenshot_event_page(live_server, page, side_event, screenshot_dir, language):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url + event_path(side_event, language))
    expect(page.locator("h1")).to_be_visible()
    path = screenshot_dir / f"event-page-{language}.png"
    page.screenshot(path=path, full_page=True)
    assert path.stat().st_size > 10_000


@pytest.mark.parametrize("language", ["en", "ar"])
def test_screenshot_registration_form_with_errors(
    live_server, page, side_event, screenshot_dir, language
):
    page.set_viewport_size({"width": 1280, "height": 900})
    with translation.override(language):
        register = reverse("registration:register", kwargs={"slug": side_event.slug})
    page.goto(live_server.url + register)
    form = page.locator("main form[method=post]").first
    form.evaluate("form => { form.noValidate = true; }")
    with page.expect_navigation():
        form.locator("[type=submit]").last.click()
    expect(page.get_by_role("alert").first).to_be_visible()
    path = screenshot_dir / f"registration-form-errors-{language}.png"
    page.screenshot(path=path, full_page=True)
    assert path.stat().st_size > 10_000


def test_chosen_language_is_remembered_for_the_home_page(live_server, page, side_event):
    page.set_extra_http_headers({"Accept-Language": "en"})
    page.goto(live_server.url + event_path(side_event, "en"))
    switch_language(page, "ru")
    page.goto(live_server.url + "/")
    assert page.url == live_server.url + "/ru/"
    expect(page.locator("html")).to_have_attribute("lang", "ru")
