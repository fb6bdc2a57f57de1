"""An organiser recreates the seed's side event in the admin from scratch, in Chromium, makes
each mistake the admin must refuse or flag, and publishes (issue 13).

The organiser sits in Geneva (browser zone Europe/Zurich, British English), the event is in
New York: Friday 25 June 2027, 12:30-14:00 EDT, six interpretation languages, three agenda
items with speakers, a PDF concept note, capacity 5, a meeting link. Screenshots of every
screen go to var/screenshots/organiser-*.png.
"""

import re
import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from events.demo.pdf import simple_pdf
from events.models import Event
from registration.models import Registration

pytestmark = pytest.mark.e2e

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
TITLE = "Engagement of CSOs in the management of VEPs in prisons"
STARTS = datetime(2027, 6, 25, 16, 30, tzinfo=UTC)  # 12:30 EDT
MEETING_URL = "https://meet.example.org/j/2027-cso-prisons"
AGENDA = [
    ("12:30", "12:45", "Opening remarks", "Amina Diallo"),
    ("12:45", "13:45", "Panel: CSOs inside prisons", "Tomás Herrera"),
    ("13:45", "14:00", "Questions and closing", "Mei Lin"),
]
SPEAKERS = [
    ("Amina Diallo", "Director", "Prison Reform Network"),
    ("Tomás Herrera", "Researcher", "Institute for Justice Studies"),
    ("Mei Lin", "Programme officer", "UN Office of Counter-Terrorism"),
]


@pytest.fixture
def browser_context_args(browser_context_args):
    return {
        **browser_context_args,
        "locale": "en-GB",
        "timezone_id": "Europe/Zurich",
        "viewport": {"width": 1280, "height": 900},
    }


@pytest.fixture
def organiser(transactional_db):
    return get_user_model().objects.create_superuser(
        "organiser", "organiser@example.org", "a long organiser passphrase"
    )


class Screens:
    def __init__(self, page, folder):
        self.page, self.folder, self.count = page, folder, 0

    def __call__(self, name, focus=None):
        """The screen as the organiser sees it, scrolled to `focus` (a selector)."""
        self.count += 1
        path = self.folder / f"organiser-{self.count:02d}-{name}.png"
        if focus:
            self.page.locator(focus).first.scroll_into_view_if_needed()
        self.page.screenshot(path=path)


def errors_text(page):
    return " ".join(page.locator("ul.errorlist").all_inner_texts())


def messages_text(page):
    return " ".join(page.locator("ul.messagelist").all_inner_texts())


def save(page, button="Save and continue editing"):
    page.get_by_role("button", name=button, exact=True).first.click()
    page.wait_for_load_state("domcontentloaded")


def set_datetime(page, field, day, time):
    page.locator(f"#id_{field}_0").fill(day)
    page.locator(f"#id_{field}_1").fill(time)


def choose_speaker(page, index, name):
    row = page.locator(f"#agenda_items-{index}")
    row.locator(".select2-selection").click()
    search = page.locator(".select2-container--open .select2-search__field")
    search.fill(name.split()[0])
    page.locator(".select2-results__option", has_text=name).click()


def test_organiser_recreates_the_side_event_and_every_mistake_is_caught(
    live_server, page, organiser, screenshot_dir, tmp_path
):
    shot = Screens(page, screenshot_dir)
    page.set_default_timeout(15_000)
    admin = f"{live_server.url}/en/admin"
    page.goto(f"{admin}/login/")
    page.locator("#id_username").fill("organiser")
    page.locator("#id_password").fill("a long organiser passphrase")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#site-name")).to_be_visible()

    # Speakers first, as an organiser adds them.
    for name, role, organisation in SPEAKERS:
        page.goto(f"{admin}/events/speaker/add/")
        page.locator("#id_name").fill(name)
        page.locator("#id_title").fill(role)
        page.locator("#id_organisation").fill(organisation)
        save(page, "Save")
        expect(page.locator("ul.messagelist")).to_contain_text("was added successfully")

    # --- the new event -----------------------------------------------------------------------
    page.goto(f"{admin}/events/event/add/")
    page.locator("#id_title").fill(TITLE)
    page.locator("#id_summary").fill(
        "How civil society can help manage violent extremist prisoners."
    )
    page.locator("#id_expected_outcomes").fill(
        "Show the role of CSOs\nShow joint work with Member States"
    )

    # The zone list: every zone with its offset, the common ones first; no Europe/Geneva.
    zone = page.locator("#id_timezone")
    expect(zone).to_have_value("America/New_York")
    options = page.locator("#timezone-list option")
    assert options.nth(1).get_attribute("value") == "Europe/Zurich"
    assert page.locator('#timezone-list option[value="Europe/Geneva"]').count() == 0
    assert re.fullmatch(r"UTC\+0[12]:00 Europe/Zurich", options.nth(1).inner_text())

    # Switching the zone: the help texts, the "you are ahead" note and "Now" follow it.
    help_zone = page.locator("#id_starts_at_helptext [data-event-zone]")
    expect(help_zone).to_have_text("America/New_York")
    warning = page.locator("#id_starts_at_timezone_warning_helptext")
    expect(warning).to_contain_text("America/New_York")
    zone.fill("Asia/Tokyo")
    expect(help_zone).to_have_text("Asia/Tokyo")
    expect(page.locator("#content [data-event-zone]").first).to_have_text("Asia/Tokyo")
    expect(warning).to_contain_text("Asia/Tokyo")
    shot("zone-switched-to-tokyo", "#id_ends_at_0")
    page.locator("#clocklink0").click()
    page.locator("#clockbox0").get_by_role("button", name="Now").click()
    tokyo_now = timezone.localtime(timezone.now(), zoneinfo.ZoneInfo("Asia/Tokyo"))
    typed = datetime.strptime(page.locator("#id_starts_at_1").input_value(), "%H:%M:%S")
    minutes_apart = (typed.hour * 60 + typed.minute - tokyo_now.hour * 60 - tokyo_now.minute) % (
        24 * 60
    )
    assert minutes_apart in (0, 1, 24 * 60 - 1), (typed, tokyo_now)
    zone.fill("America/New_York")
    expect(help_zone).to_have_text("America/New_York")
    expect(warning).to_contain_text("America/New_York")

    # Dates the British way; one typed with dots, which is no date in en-GB.
    set_datetime(page, "starts_at", "25.06.2027", "12:30")
    set_datetime(page, "ends_at", "25/06/2027", "14:00")
    for code in ["ar", "zh-hans", "en", "fr", "ru", "es"]:
        page.locator(f'input[name="interpretation_languages"][value="{code}"]').check()
    page.locator("#id_meeting_url").fill(MEETING_URL)
    page.locator("#id_meeting_details").fill("Meeting ID 2027 0625, passcode 1230")
    # Mistake: the meeting link after the event (the day after, 9:00).
    set_datetime(page, "meeting_link_send_at", "26/06/2027", "09:00")
    # Mistake: registration closing after the event ended.
    set_datetime(page, "registration_closes_at", "25/06/2027", "18:00")
    page.locator("#id_capacity").fill("5")

    # The agenda: the date once (blank: the event's), times per item. Mistake: the first
    # item starts before the event.
    add_item = page.locator("#agenda_items-group .add-row a")
    for index, (start, end, title, speaker) in enumerate(AGENDA):
        add_item.click()
        row = page.locator(f"#agenda_items-{index}")
        row.locator(f"#id_agenda_items-{index}-start_time").fill("12:00" if index == 0 else start)
        row.locator(f"#id_agenda_items-{index}-end_time").fill(end)
        row.locator(f"#id_agenda_items-{index}-title").fill(title)
        row.locator(f"#id_agenda_items-{index}-position").fill(str(index))
        choose_speaker(page, index, speaker)

    # The concept note, a real PDF.
    pdf = tmp_path / "concept-note.pdf"
    pdf.write_bytes(simple_pdf("Concept note", ["CSOs and prisons: concept note."]))
    page.locator("#documents-group .add-row a").click()
    page.locator("#id_documents-0-kind").select_option("concept_note")
    page.locator("#id_documents-0-title").fill("Concept note")
    page.locator("#id_documents-0-file").set_input_files(pdf)
    shot("filled-with-mistakes", "#agenda_items-group")
    save(page)

    # Refused, each mistake named where it was made.
    errors = errors_text(page)
    assert "Enter a valid date, like 25/06/2027 or 2027-06-25." in errors
    assert "Kept from your last try: concept-note.pdf." in page.content()
    shot("refused-date-format", ".field-starts_at")
    assert not Event.objects.exists()

    set_datetime(page, "starts_at", "25/06/2027", "12:30")
    save(page)
    errors = errors_text(page)
    assert "The meeting link must go out before the event starts (25 Jun 2027, 12:30 EDT)" in errors
    assert "Registration must close by the end of the event (25 Jun 2027, 14:00 EDT)" in errors
    assert (
        "Agenda items must be within the event's time, 25 Jun 2027, 12:30\N{EN DASH}14:00 EDT."
        in errors
    )
    # The concept note is still attached: not chosen again.
    assert "Kept from your last try: concept-note.pdf. No need to attach it again." in (
        page.content()
    )
    shot("refused-link-registration-agenda", ".field-meeting_link_send_at")
    shot("refused-registration-close", ".field-capacity")
    shot("refused-agenda-item", "#agenda_items-0 .field-title")
    shot("concept-note-kept", "#documents-group")
    assert not Event.objects.exists()

    # Fixes: the first item at 12:30, registration closing at the start (blank), and the link
    # sent at noon: saved, with a warning.
    page.locator("#id_agenda_items-0-start_time").fill("12:30")
    set_datetime(page, "registration_closes_at", "", "")
    set_datetime(page, "meeting_link_send_at", "25/06/2027", "12:00")
    save(page)
    expect(page.locator("ul.messagelist")).to_contain_text(
        "only 30 minutes before the start: some registrants may not see it in time."
    )
    shot("saved-with-send-time-warning")
    event = Event.objects.get()
    assert (event.starts_at, event.capacity, event.status) == (STARTS, 5, "draft")
    assert event.documents.get().file.read().startswith(b"%PDF-")
    agenda = list(event.agenda_items.order_by("starts_at"))
    assert [item.title for item in agenda] == [title for _s, _e, title, _sp in AGENDA]
    assert [item.speakers.get().name for item in agenda] == [sp for *_r, sp in AGENDA]
    assert agenda[0].starts_at == STARTS
    set_datetime(page, "meeting_link_send_at", "", "")  # back to 24 hours before

    # --- moving the event ----------------------------------------------------------------------
    set_datetime(page, "starts_at", "25/06/2027", "13:00")
    set_datetime(page, "ends_at", "25/06/2027", "14:30")
    move = page.locator("#id_move_agenda")
    expect(move).to_be_checked()
    move.uncheck()
    save(page)
    assert "Agenda items must be within the event's time, 25 Jun 2027, 13:00" in errors_text(page)
    shot("refused-agenda-left-behind", "#agenda_items-0")
    page.locator("#id_move_agenda").check()
    save(page)
    expect(page.locator("ul.messagelist")).to_contain_text(
        "3 agenda items moved with the event (30\N{NO-BREAK SPACE}minutes later)."
    )
    expect(page.locator("#id_agenda_items-0-start_time")).to_have_value("13:00:00")
    shot("agenda-moved-with-event")

    # --- changing the saved event's zone: which time is meant? ---------------------------------
    page.locator("#id_timezone").fill("Europe/Zurich")
    save(page)
    question = page.locator(".field-zone_change")
    expect(question).to_contain_text("Should the event keep its moment or its clock time?")
    expect(question).to_contain_text(
        "Same moment: it stays at 25 Jun 2027, 13:00 EDT in America/New_York, "
        "which is 25 Jun 2027, 19:00 CEST in Europe/Zurich."
    )
    expect(question).to_contain_text(
        "Same clock time: it moves to 25 Jun 2027, 13:00 CEST in Europe/Zurich, "
        "which is 25 Jun 2027, 07:00 EDT in America/New_York."
    )
    shot("zone-change-question", ".field-starts_at")
    event.refresh_from_db()
    assert event.timezone == "America/New_York"
    # The organiser meant New York after all: back to it, nothing to ask.
    page.locator("#id_timezone").fill("America/New_York")
    set_datetime(page, "starts_at", "25/06/2027", "12:30")
    set_datetime(page, "ends_at", "25/06/2027", "14:00")
    save(page)
    expect(page.locator("ul.messagelist")).to_contain_text("3 agenda items moved with the event")
    event.refresh_from_db()
    assert (event.timezone, event.starts_at) == ("America/New_York", STARTS)

    # --- publish, then a change of time tells how many people hear of it -----------------
    page.locator("#id_status").select_option("published")
    save(page)
    expect(page.locator("ul.messagelist")).to_contain_text("was changed successfully")
    event.refresh_from_db()
    assert event.status == Event.Status.PUBLISHED
    for number in range(5):
        Registration.objects.create(
            event=event,
            email=f"participant{number}@example.org",
            name=f"Participant {number}",
            consent_at=timezone.now(),
        )
    page.reload()
    set_datetime(page, "ends_at", "25/06/2027", "14:15")
    save(page)
    expect(page.locator("ul.messagelist")).to_contain_text(
        "The time or meeting link changed: 5 people will be emailed in about 5 minutes "
        "(after your last change)."
    )
    shot("change-notice-count")

    # --- "Send meeting links now" months ahead: the question says how far away it is ---------
    page.goto(f"{admin}/events/event/")
    page.locator(f'input[name="_selected_action"][value="{event.pk}"]').check()
    page.locator('select[name="action"]').select_option("send_meeting_links_now")
    page.get_by_role("button", name="Run").click()
    expect(page.locator("#content")).to_contain_text(re.compile(r"starts in \d+\s+months"))
    expect(page.locator("#content")).to_contain_text("(25 Jun 2027, 12:30 EDT)")
    shot("send-now-says-how-far")
    page.get_by_role("link", name="No, take me back").click()
    assert not event.registrations.filter(deliveries__kind="meeting_link").exists()
    local = timezone.localtime(event.starts_at, NEW_YORK)
    assert local.strftime("%A %H:%M %Z") == "Friday 12:30 EDT"
    assert event.effective_meeting_link_send_at == STARTS - timedelta(hours=24)
