"""Bounces reported by the mail provider through anymail's tracking webhook (Postmark's
payload format here), protected by the webhook secret."""

import base64
import json
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client

from notifications import services
from notifications.models import Delivery
from registration.models import Registration
from tests.notifications.conftest import SEND_AT, STARTS, register

pytestmark = pytest.mark.django_db(transaction=True)
URL = "/anymail/postmark/tracking/"
SECRET = "convene-hooks:5d2b7c0e9a"


@pytest.fixture(autouse=True)
def webhook_secret(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}


def post(payload, secret=SECRET):
    auth = base64.b64encode(secret.encode()).decode()
    return Client().post(
        URL,
        json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {auth}",
    )


def hard_bounce(message_id, email):
    return {
        "RecordType": "Bounce",
        "ID": 4323372036854775807,
        "Type": "HardBounce",
        "TypeCode": 1,
        "Name": "Hard bounce",
        "Tag": "",
        "MessageID": message_id,
        "ServerID": 23,
        "MessageStream": "outbound",
        "Description": "The server was unable to deliver your message (ex: unknown user).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": email,
        "From": "convene@localhost",
        "BouncedAt": "2021-06-23T16:31:05Z",
        "DumpAvailable": True,
        "Inactive": True,
        "CanActivate": True,
        "Subject": "Registration confirmed",
        "Content": None,
    }


@pytest.fixture
def registered(event, travel):
    travel(STARTS - timedelta(days=2))
    ana = register(event, "ana@example.org")
    register(event, "ben@example.org")
    return ana


def test_bounced_address_gets_no_further_mail(registered, event, travel):
    confirmation = Delivery.objects.get(registration=registered, kind="confirmation")
    assert confirmation.esp_message_id
    response = post(hard_bounce(confirmation.esp_message_id, "ana@example.org"))
    assert response.status_code == 200
    confirmation.refresh_from_db()
    assert confirmation.status == Delivery.Status.BOUNCED
    assert "does not exist" in confirmation.last_error
    registered.refresh_from_db()
    assert registered.email_bounced_at is not None
    mail.outbox.clear()
    travel(SEND_AT + timedelta(minutes=1))
    services.scan(now=SEND_AT + timedelta(minutes=1))
    assert [m.to[0] for m in mail.outbox] == ["ben@example.org"]


def test_webhook_refuses_a_wrong_secret(registered):
    confirmation = Delivery.objects.get(registration=registered, kind="confirmation")
    response = post(hard_bounce(confirmation.esp_message_id, "ana@example.org"), "x:y")
    assert response.status_code in (400, 401, 403)
    registered.refresh_from_db()
    assert registered.email_bounced_at is None
    confirmation.refresh_from_db()
    assert confirmation.status == Delivery.Status.SENT


def test_spam_complaint_without_our_message_id_flags_the_address(registered):
    payload = {
        "RecordType": "SpamComplaint",
        "ID": 42,
        "Type": "SpamComplaint",
        "TypeCode": 512,
        "Name": "Spam complaint",
        "Tag": "",
        "MessageID": "00000000-0000-0000-0000-000000000000",
        "ServerID": 23,
        "MessageStream": "outbound",
        "Description": "The subscriber explicitly marked this message as spam.",
        "Details": "Test spam complaint details",
        "Email": "Ben@Example.org",
        "From": "convene@localhost",
        "BouncedAt": "2021-06-23T16:40:00Z",
        "DumpAvailable": True,
        "Inactive": True,
        "CanActivate": False,
        "Subject": "Registration confirmed",
    }
    assert post(payload).status_code == 200
    flagged = Registration.objects.filter(email_bounced_at__isnull=False)
    assert list(flagged.values_list("email", flat=True)) == ["ben@example.org"]


def test_delivered_event_changes_nothing(registered):
    confirmation = Delivery.objects.get(registration=registered, kind="confirmation")
    payload = {
        "RecordType": "Delivery",
        "ServerID": 23,
        "MessageStream": "outbound",
        "MessageID": confirmation.esp_message_id,
        "Recipient": "ana@example.org",
        "Tag": "",
        "DeliveredAt": "2021-06-23T16:31:05Z",
        "Details": "Test delivery webhook details",
    }
    assert post(payload).status_code == 200
    registered.refresh_from_db()
    assert registered.email_bounced_at is None
