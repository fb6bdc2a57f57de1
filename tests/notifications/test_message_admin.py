"""Organisers' messages in the admin: write, count, preview per language, test to oneself,
send now, cancel, progress; and another team's messages do not exist."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse

from events.models import AuditEntry
from notifications.models import Delivery, Message
from registration.models import Registration
from tests.notifications.conftest import STARTS, register

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def listeners(event, travel):
    travel(STARTS - timedelta(days=3))
    for email, listening in (("ana@example.org", "fr"), ("ben@example.org", "en")):
        registration = register(event, email, language="fr" if listening == "fr" else "en")
        Registration.objects.filter(pk=registration.pk).update(interpretation_language=listening)
    mail.outbox.clear()
    return event


def form_data(event, **changes):
    data = {
        "event": event.pk,
        "key": "speaker",
        "send": "now",
        "offset": "",
        "send_at_0": "",
        "send_at_1": "",
        "status": ["confirmed"],
        "interpretation_language": ["fr"],
        "attended": "",
        "answers": "",
        "subject": "A new speaker: {event_title}",
        "body": "Dear {name}, **Ms Diallo** joins the panel.",
        "subject_fr": "Une nouvelle intervenante",
        "body_fr": "Bonjour {name}, **Mme Diallo** rejoint le panel.",
    }
    data.update(changes)
    return data


def test_organiser_writes_previews_tests_and_sends_an_announcement(listeners, admin_client):
    add = reverse("admin:notifications_message_add")
    response = admin_client.post(add, form_data(listeners, _continue="1"))
    assert response.status_code == 302, response.content.decode()[:3000]
    message = Message.objects.get(key="speaker")
    assert message.audience == {"status": ["confirmed"], "interpretation_language": ["fr"]}
    change = reverse("admin:notifications_message_change", args=[message.pk])
    page = admin_client.get(change).content.decode()
    assert "1 person matches." in page

    preview = reverse("admin:notifications_message_preview", args=[message.pk, "fr"])
    html = admin_client.get(preview).content.decode()
    assert "<strong>Mme Diallo</strong>" in html and "Bonjour Ana" in html

    admin_client.post(change, form_data(listeners, _send_test="1", test_language="fr"))
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["admin@example.com"], "[Test] Une nouvelle intervenante")
    ]
    assert not Delivery.objects.filter(kind="message").exists()  # a test is not a delivery

    mail.outbox.clear()
    admin_client.post(change, form_data(listeners, _send_now="1"))
    assert [m.to for m in mail.outbox] == [["ana@example.org"]]
    assert AuditEntry.objects.filter(action="sent", event=listeners).exists()
    page = admin_client.get(change).content.decode()
    assert "1 of 1 emails processed" in page
    deliveries = reverse("admin:notifications_delivery_changelist")
    listed = admin_client.get(
        f"{deliveries}?event__id__exact={listeners.pk}&kind__exact=message&version={message.pk}"
    )
    assert listed.status_code == 200 and "ana@example.org" in listed.content.decode()
    event_page = admin_client.get(reverse("admin:events_event_change", args=[listeners.pk]))
    assert "Meeting link (built in" in event_page.content.decode()
    assert "speaker</a>" in event_page.content.decode()


def test_meeting_link_placeholder_for_the_waiting_list_is_refused(listeners, admin_client):
    data = form_data(listeners, status=["waitlisted"], body="Join: {meeting_link}")
    page = admin_client.post(reverse("admin:notifications_message_add"), data)
    assert page.status_code == 200
    assert "is allowed only in messages to the confirmed registrants alone" in (
        page.content.decode()
    )
    assert not Message.objects.exists()


def test_cancel_before_sending(listeners, admin_client):
    admin_client.post(
        reverse("admin:notifications_message_add"),
        form_data(listeners, send="before_start", offset="01:00:00", _continue="1"),
    )
    message = Message.objects.get()
    change = reverse("admin:notifications_message_change", args=[message.pk])
    admin_client.post(
        change, form_data(listeners, send="before_start", offset="01:00:00", _cancel="1")
    )
    message.refresh_from_db()
    assert message.state == Message.State.CANCELLED


def test_another_teams_message_does_not_exist(listeners, client, django_user_model):
    message = Message.objects.create(
        event=listeners, key="x", subject="S", body="B", send="now", state="draft"
    )
    from events.models import Membership, Team

    stranger = django_user_model.objects.create_user("other", "o@example.org", "pw", is_staff=True)
    team = Team.objects.create(slug="other", name="Other")
    Membership.objects.create(team=team, user=stranger, role="manager")
    client.force_login(stranger)
    change = reverse("admin:notifications_message_change", args=[message.pk])
    preview = reverse("admin:notifications_message_preview", args=[message.pk, "en"])
    assert client.get(change).status_code == 404
    assert client.get(preview).status_code == 404
