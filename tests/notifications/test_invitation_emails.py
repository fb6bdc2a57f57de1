"""The invitation email (issue 18): in the invitee's language, right to left in Arabic, with
the personal link in both parts, no calendar entry, and a footer that says why it came."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import translation
from django.utils.translation import gettext

from events.models import Event
from registration import invitations
from tests.notifications.conftest import STARTS, calendar_of, html_of, make_event, parsed

pytestmark = pytest.mark.django_db(transaction=True)

LANGUAGES = ["ar", "zh-hans", "en", "fr", "ru", "es"]
SUBJECT = "You are invited: %(event_title)s"
LINK = re.compile(r"https?://\S+?/([a-z-]+)/r/[A-Za-z0-9_-]{43}/")


@pytest.fixture
def invitation_event(travel):
    travel(STARTS - timedelta(days=5))
    return make_event(
        registration_mode=Event.RegistrationMode.INVITATION, organiser="Mission of Senegal"
    )


def test_every_invitee_reads_their_invitation_in_their_language(invitation_event):
    people = [
        {"email": f"guest.{code}@example.org", "name": f"Guest {code}", "language": code}
        for code in LANGUAGES
    ]
    invitations.invite(event=invitation_event, people=people)

    assert len(mail.outbox) == 6
    for code in LANGUAGES:
        (message,) = [m for m in mail.outbox if m.to == [f"guest.{code}@example.org"]]
        with translation.override(code):
            subject = gettext(SUBJECT) % {"event_title": invitation_event.title}
        assert message.subject == " ".join(subject.split())  # subjects are one line
        assert (code == "en") == message.subject.startswith("You are invited")
        html = html_of(message)
        direction = "rtl" if code == "ar" else "ltr"
        assert f'<html lang="{code}" dir="{direction}">' in html
        assert parsed(message)["Content-Language"] == code
        link = LINK.search(message.body)
        assert link and link.group(1) == code, message.body
        assert link.group(0) in html
        assert calendar_of(message) is None  # no seat yet: nothing for the calendar
        assert "Mission of Senegal" in message.body


def test_the_footer_says_the_person_was_invited_not_registered(invitation_event):
    invitations.invite(
        event=invitation_event, people=[{"email": "ana@example.org", "name": "Ana Ruiz"}]
    )

    html = html_of(mail.outbox[0])
    assert "invited you on" in html
    assert "because you registered" not in html
    assert "Register with my invitation" in html
