"""The facts each email states: the time in the registrant's own zone beside the event's and
UTC, an end on another day, what a change of time changed, a date rather than "soon", and
left-to-right runs kept in place in Arabic."""

from datetime import timedelta

import pytest
from django.core import mail

from events import services as event_services
from notifications import services
from tests.notifications.conftest import (
    MEETING_URL,
    SEND_AT,
    STARTS,
    html_of,
    register,
)

pytestmark = pytest.mark.django_db(transaction=True)

FSI, PDI = "\u2068", "\u2069"


def mail_to(address):
    return [m for m in mail.outbox if m.to == [address]]


def move(event, *, minutes):
    event.refresh_from_db()
    event.starts_at += timedelta(minutes=minutes)
    event.ends_at += timedelta(minutes=minutes)
    event_services.save_event(event=event, changed_fields={"starts_at", "ends_at"})


def test_every_email_shows_the_registrants_own_time_beside_the_events_and_utc(event, travel):
    travel(STARTS - timedelta(days=3))
    register(event, "kenji@example.org", timezone="Asia/Tokyo")
    register(event, "ana@example.org", timezone="America/New_York")
    travel(SEND_AT + timedelta(minutes=1))
    services.scan(now=SEND_AT + timedelta(minutes=1))
    for message in mail_to("kenji@example.org"):  # the confirmation and the meeting link
        for body in (message.body, html_of(message)):
            assert "When: Friday, June 25, 2021, 12:30 p.m.\u20132 p.m. EDT" in body
            assert (
                "In your time zone (Asia/Tokyo): Saturday, June 26, 2021, 1:30 a.m.\u20133 a.m. JST"
                in body
            )
            assert "In UTC: June 25, 2021, 4:30 p.m.\u20136 p.m." in body
    # Someone in the event's own zone is not told the same time twice.
    for message in mail_to("ana@example.org"):
        assert "In your time zone" not in message.body


def test_an_end_on_another_day_is_said(event, travel):
    event.starts_at = STARTS + timedelta(hours=9)  # 21:30 EDT
    event.ends_at = STARTS + timedelta(hours=12)  # 00:30 EDT the next day
    event.save()
    travel(STARTS - timedelta(days=3))
    register(event, "ana@example.org", timezone="Europe/Paris")
    (confirmation,) = mail_to("ana@example.org")
    assert (
        "When: Friday, June 25, 2021, 9:30 p.m.\u201312:30 a.m. EDT (ends on Saturday, June 26, 2021)"
        in confirmation.body
    )
    assert (
        "In your time zone (Europe/Paris): Saturday, June 26, 2021, 3:30 a.m.\u20136:30 a.m. CEST"
        in confirmation.body
    )
    assert "(ends on Saturday, June 26, 2021)" in html_of(confirmation)


def test_a_time_change_says_what_changed_for_confirmed_and_waitlisted_alike(
    event, travel, settings
):
    event.capacity = 1
    event.save()
    travel(STARTS - timedelta(days=3))
    register(event, "ana@example.org", language="fr")
    register(event, "eva@example.org", language="es")  # waiting list
    travel(SEND_AT + timedelta(minutes=1))
    services.scan(now=SEND_AT + timedelta(minutes=1))  # ana has the link
    mail.outbox.clear()
    move(event, minutes=15)
    travel(SEND_AT + timedelta(minutes=3))
    move(event, minutes=15)  # a burst: registrants hear of 12:30 -> 13:00 once
    settled = SEND_AT + timedelta(minutes=4 + settings.EVENT_CHANGE_NOTICE_DELAY_MINUTES)
    travel(settled)
    services.scan(now=settled)
    (to_ana,) = mail_to("ana@example.org")
    (to_eva,) = mail_to("eva@example.org")
    for body in (to_ana.body, html_of(to_ana)):
        assert "Auparavant\u00a0: vendredi 25 juin 2021, 12:30\u201314:00 EDT" in body
        assert "Désormais\u00a0: vendredi 25 juin 2021, 13:00\u201314:30 EDT" in body
    assert MEETING_URL in to_ana.body
    assert "Antes: viernes, 25 de junio de 2021, de 12:30 a 14:00 EDT" in to_eva.body
    assert "Ahora: viernes, 25 de junio de 2021, de 13:00 a 14:30 EDT" in to_eva.body


def test_a_change_of_link_alone_says_no_time_changed(event, travel, settings):
    travel(STARTS - timedelta(days=3))
    register(event, "ana@example.org")
    travel(SEND_AT + timedelta(minutes=1))
    services.scan(now=SEND_AT + timedelta(minutes=1))
    move(event, minutes=30)
    settled = SEND_AT + timedelta(minutes=2 + settings.EVENT_CHANGE_NOTICE_DELAY_MINUTES)
    travel(settled)
    services.scan(now=settled)
    event.refresh_from_db()
    event.meeting_url = "https://meet.example.org/j/5550100?pwd=new-room"
    event_services.save_event(event=event, changed_fields={"meeting_url"})
    later = settled + timedelta(hours=1)
    travel(later)
    services.scan(now=later)
    *_, time_notice, link_notice = mail_to("ana@example.org")
    assert "Was: Friday, June 25, 2021, 12:30 p.m.\u20132 p.m. EDT" in time_notice.body
    assert "new-room" in link_notice.body
    assert "Was:" not in link_notice.body


def test_the_meeting_link_says_the_date_of_an_event_months_away(event, travel):
    """ "Send meeting links now" seven months ahead: "takes place soon" was wrong."""
    travel(STARTS - timedelta(days=210))
    register(event, "ana@example.org")
    services.send_meeting_links_now(event=event)
    link = next(m for m in mail_to("ana@example.org") if MEETING_URL in m.body)
    assert "“Engagement of CSOs in the management of VEPs in prisons” takes place on" in link.body
    assert "takes place on Friday, June 25, 2021. Here is how to join." in link.body
    assert "soon" not in link.body and "soon" not in html_of(link)


def test_arabic_emails_isolate_left_to_right_runs(event, travel):
    travel(STARTS - timedelta(days=3))
    register(event, "amal@example.org", language="ar")
    register(event, "ana@example.org")
    travel(SEND_AT + timedelta(minutes=1))
    services.scan(now=SEND_AT + timedelta(minutes=1))
    link = next(m for m in mail_to("amal@example.org") if MEETING_URL in m.body)
    text, html = link.body, html_of(link)
    assert f"«{FSI}{event.title}{PDI}»" in text
    assert f"{FSI} {MEETING_URL} {PDI}" in text  # spaces: no client links the marks too
    assert f"{FSI}Meeting ID 867 5309, passcode 2021{PDI}" in text
    assert f"{FSI} http://127.0.0.1:8000/ar/events/{event.slug}/ {PDI}" in text
    # Inside translated sentences the title carries the isolates in HTML too (a tag there
    # would split a word for spam filters); URLs and details sit in elements with dir.
    assert f"«{FSI}{event.title}{PDI}»" in html
    assert f"<bdi>{event.title}" not in html
    assert f'<p class="muted" dir="ltr">{MEETING_URL.replace("&", "&amp;")}</p>' in html
    assert '<pre dir="auto">Meeting ID 867 5309, passcode 2021</pre>' in html
    assert f'dir="ltr">http://127.0.0.1:8000/ar/events/{event.slug}/</a>' in html
    assert f"<title>{event.title}</title>" in html
    # A left-to-right email needs no marks.
    for message in mail_to("ana@example.org"):
        assert FSI not in message.body and PDI not in message.body
