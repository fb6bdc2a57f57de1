"""What organisers see and do in the admin: the meeting-link panel, "send meeting links now"
(after a confirmation page), "resend the meeting link" and the delivery list."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from notifications import services
from notifications.models import Delivery
from notifications.retry import retry_failed_deliveries
from registration import services as registration_services
from tests.notifications.conftest import MEETING_URL, SEND_AT, STARTS, register

pytestmark = pytest.mark.django_db(transaction=True)


def links_to():
    return sorted(m.to[0] for m in mail.outbox if MEETING_URL in m.body)


@pytest.fixture
def crowd(event, travel):
    travel(STARTS - timedelta(days=3))
    event.capacity = 2
    event.save()
    for name in ("ana", "ben", "eva"):  # eva waitlisted
        register(event, f"{name}@example.org")
    mail.outbox.clear()
    return event


def test_event_page_shows_send_time_counts_progress_and_bounces(crowd, travel, admin_client):
    url = reverse("admin:events_event_change", args=[crowd.pk])
    page = admin_client.get(url).content.decode()
    assert "Scheduled to go out at:" in page
    assert "June 24, 2021, 12:30 p.m. EDT" in page
    assert "No meeting-link email has been queued yet." in page
    travel(SEND_AT + timedelta(minutes=1))
    ben = crowd.registrations.get(email="ben@example.org")
    ben.email_bounced_at = timezone.now()
    ben.save()
    services.scan(now=SEND_AT + timedelta(minutes=1))
    page = admin_client.get(url).content.decode()
    assert "Sending started at:" in page
    assert f'<progress id="meeting-link-progress-{crowd.pk}" value="1" max="1">' in page
    assert "1 of 1 meeting-link emails processed" in page
    assert "1 address bounced: it gets no further email" in page
    assert "ben@example.org" in page
    assert 'style="' not in page.split("meeting-link-panel")[1].split("</div>")[0]


def test_send_now_asks_first_then_sends_to_confirmed_registrants(crowd, travel, admin_client):
    travel(SEND_AT - timedelta(hours=6))
    changelist = reverse("admin:events_event_changelist")
    data = {"action": "send_meeting_links_now", "_selected_action": [crowd.pk]}
    page = admin_client.post(changelist, data)
    assert page.status_code == 200
    assert "Yes, send the meeting links now" in page.content.decode()
    assert "2 confirmed registrants" in page.content.decode()
    assert links_to() == []
    response = admin_client.post(changelist, {**data, "confirmed": "yes"}, follow=True)
    assert "2 meeting links are on their way." in response.content.decode()
    assert links_to() == ["ana@example.org", "ben@example.org"]
    # From now on late confirmations get theirs straight away too.
    ana = crowd.registrations.get(email="ana@example.org")

    registration_services.cancel(registration=ana)  # eva is promoted
    assert links_to() == ["ana@example.org", "ben@example.org", "eva@example.org"]


def test_resend_meeting_link_to_selected_registrations(crowd, travel, admin_client):
    travel(SEND_AT + timedelta(minutes=1))
    services.scan(now=SEND_AT + timedelta(minutes=1))
    mail.outbox.clear()
    selected = crowd.registrations.filter(email__in=["ana@example.org", "eva@example.org"])
    response = admin_client.post(
        reverse("admin:registration_registration_changelist"),
        {
            "action": "resend_meeting_link",
            "_selected_action": list(selected.values_list("pk", flat=True)),
        },
        follow=True,
    )
    page = response.content.decode()
    assert "The meeting link is on its way to 1 person." in page
    assert "1 selected registration is not confirmed" in page
    assert links_to() == ["ana@example.org"]


def test_delivery_list_filters_by_status_and_shows_the_last_error(crowd, travel, admin_client):
    travel(SEND_AT + timedelta(minutes=1))
    services.scan(now=SEND_AT + timedelta(minutes=1))
    Delivery.objects.filter(registration__email="ben@example.org", kind="meeting_link").update(
        status="failed", last_error="SMTPRecipientsRefused: 550 5.1.1 no such user"
    )
    url = reverse("admin:notifications_delivery_changelist")
    page = admin_client.get(url, {"status__exact": "failed"}).content.decode()
    assert "ben@example.org" in page
    assert "550 5.1.1 no such user" in page
    assert "ana@example.org" not in page
    response = admin_client.post(
        url,
        {
            "action": "retry_failed",
            "_selected_action": list(
                Delivery.objects.filter(status="failed").values_list("pk", flat=True)
            ),
        },
        follow=True,
    )
    assert "1 message will be tried again." in response.content.decode()
    assert "ben@example.org" in [m.to[0] for m in mail.outbox]


def test_delivery_detail_shows_what_was_sent_not_the_outbox_bookkeeping(
    crowd, travel, admin_client
):
    travel(SEND_AT + timedelta(minutes=1))
    services.scan(now=SEND_AT + timedelta(minutes=1))
    delivery = Delivery.objects.get(registration__email="ana@example.org", kind="meeting_link")
    url = reverse("admin:notifications_delivery_change", args=[delivery.pk])

    page = admin_client.get(url).content.decode()

    for internal in ("Version", "Context", "Lease expires at", "Next attempt at"):
        assert f">{internal}:<" not in page
    sent = next(m for m in mail.outbox if m.to == ["ana@example.org"])
    assert sent.subject in page
    assert "Ana &lt;ana@example.org&gt;" in page
    assert ">English<" in page
    assert "Queued at June 24, 2021" in page and "EDT." in page
    assert "1 attempt to send it." in page
    assert "Sent at June 24, 2021" in page
    # The plain text as sent, meeting link included (organisers may see it), and the HTML
    # part in a sandboxed frame.
    assert "https://meet.example.org/j/8675309?pwd=side-event" in page
    preview_url = reverse("admin:notifications_delivery_preview", args=[delivery.pk])
    assert f'<iframe class="email-preview" src="{preview_url}" sandbox=""' in page


def test_email_preview_is_the_html_part_under_a_strict_policy_and_issues_no_link(
    crowd, travel, admin_client
):
    from registration.models import ManageToken

    delivery = Delivery.objects.filter(registration__email="ben@example.org").first()
    tokens = ManageToken.objects.count()
    preview_url = reverse("admin:notifications_delivery_preview", args=[delivery.pk])

    response = admin_client.get(preview_url)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith("<!doctype html>") and "Dear Ben," in html
    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'self'" in policy
    assert "script-src" not in policy
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert ManageToken.objects.count() == tokens
    assert (
        admin_client.get(reverse("admin:notifications_delivery_preview", args=[0])).status_code
        == 404
    )


def test_failed_delivery_history_says_when_and_why(crowd, travel, admin_client):
    delivery = Delivery.objects.filter(registration__email="eva@example.org").first()
    Delivery.objects.filter(pk=delivery.pk).update(
        status="failed", attempts=12, last_error="SMTPRecipientsRefused: 550 no such user"
    )
    url = reverse("admin:notifications_delivery_change", args=[delivery.pk])

    page = admin_client.get(url).content.decode()

    assert "12 attempts to send it." in page
    assert "Gave up at June 22, 2021" in page
    assert "550 no such user" in page


def test_retrying_failed_deliveries_sends_only_the_failed_ones_again(crowd, travel):
    travel(SEND_AT + timedelta(minutes=1))
    services.scan(now=SEND_AT + timedelta(minutes=1))
    links = Delivery.objects.filter(kind="meeting_link")
    ben = links.get(registration__email="ben@example.org")
    links.filter(pk=ben.pk).update(status="failed", attempts=5, last_error="550 no such user")
    mail.outbox.clear()

    queued = retry_failed_deliveries(deliveries=links)

    assert queued == [ben.pk]
    assert [message.to[0] for message in mail.outbox] == ["ben@example.org"]
    ben.refresh_from_db()
    assert (ben.status, ben.attempts) == ("sent", 1)
