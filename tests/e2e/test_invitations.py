"""Inviting an organiser, in Chromium: a team's manager invites from the admin, the email
arrives, its link sets a password once, a second use and an expired link are refused, and the
new organiser signs in to see their team's event and not another team's (issue 15)."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from events import organisers
from events.models import Event, Membership, Team

pytestmark = pytest.mark.e2e

PASSWORD = "a long organiser passphrase"
NEW_PASSWORD = "another long passphrase 42"
LINK = re.compile(r"https?://\S+/organisers/welcome/\S+/")


def make_event(slug, team):
    starts_at = timezone.now() + timedelta(days=7)
    event = Event.objects.create(
        slug=slug,
        title=f"Side event {slug}",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
    )
    event.teams.add(team)
    return event


@pytest.fixture
def teams(transactional_db):
    ours = Team.objects.create(slug="unoct", name="UNOCT")
    theirs = Team.objects.create(slug="morocco", name="Permanent Mission of Morocco")
    make_event("ours", ours)
    make_event("theirs", theirs)
    manager = get_user_model().objects.create_user(
        "lead@unoct.example", "lead@unoct.example", PASSWORD, is_staff=True
    )
    Membership.objects.create(team=ours, user=manager, role=Membership.Role.MANAGER)
    return ours


def link_in(message, live_server):
    url = LINK.search(message.body).group(0)
    # SITE_URL is the configured site; the browser talks to the live server.
    return live_server.url + "/" + url.split("://", 1)[1].split("/", 1)[1]


def sign_in(page, base, username, password):
    page.goto(f"{base}/en/admin/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_an_invitation_sets_a_password_once_and_expires(live_server, page, browser, teams):
    page.set_default_timeout(15_000)
    base = live_server.url
    sign_in(page, base, "lead@unoct.example", PASSWORD)
    page.goto(f"{base}/en/admin/events/team/{teams.pk}/change/")
    page.get_by_role("link", name="Invite an organiser").click()
    page.locator("#id_email").fill("nadia@unoct.example")
    page.locator("#id_role").select_option("viewer")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.locator("ul.messagelist")).to_contain_text("the invitation is on its way")

    (message,) = mail.outbox
    assert message.to == ["nadia@unoct.example"]
    html = message.alternatives[0][0]
    link = link_in(message, live_server)
    assert "/en/organisers/welcome/" in link and LINK.search(html)
    assert PASSWORD not in message.body and PASSWORD not in html

    newcomer = browser.new_context().new_page()
    newcomer.set_default_timeout(15_000)
    newcomer.goto(link)
    newcomer.locator("#id_new_password1").fill(NEW_PASSWORD)
    newcomer.locator("#id_new_password2").fill(NEW_PASSWORD)
    newcomer.get_by_role("button", name="Set my password").click()
    expect(newcomer.locator("#content")).to_contain_text("Your password is set")

    # The same link again: refused.
    newcomer.goto(link)
    expect(newcomer.locator("#invitation-refused")).to_be_visible()
    expect(newcomer.locator("#id_new_password1")).to_have_count(0)

    # The new organiser signs in and sees their team's event only.
    sign_in(newcomer, base, "nadia@unoct.example", NEW_PASSWORD)
    newcomer.goto(f"{base}/en/admin/events/event/")
    expect(newcomer.locator("#result_list")).to_contain_text("Side event ours")
    expect(newcomer.locator("#result_list")).not_to_contain_text("Side event theirs")

    # An invitation sent eight days ago: its link has expired.
    mail.outbox.clear()
    with time_machine.travel(timezone.now() - timedelta(days=8)):
        organisers.add_organiser(email="late@unoct.example", team_slug="unoct")
    late = browser.new_context().new_page()
    late.goto(link_in(mail.outbox[-1], live_server))
    expect(late.locator("#invitation-refused")).to_be_visible()
    expect(late.locator("#id_new_password1")).to_have_count(0)
