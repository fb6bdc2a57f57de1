"""Bounces reported by the mail provider through anymail's tracking webhook (Postmark's
payload format here), protected by the webhook secret. Only the webhook of the ESP that
EMAIL_URL selects is mounted, and only with a secret (config/env.py, config/urls.py)."""

import base64
import importlib
import json
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client, override_settings
from django.urls import clear_url_caches

from notifications import services
from notifications.models import Delivery
from registration.models import Registration
from tests.notifications.conftest import SEND_AT, STARTS, make_event, register

pytestmark = pytest.mark.django_db(transaction=True)
URL = "/anymail/postmark/tracking/"
SECRET = "convene-hooks:5d2b7c0e9a"


def _reload_urls():
    importlib.reload(importlib.import_module(settings.ROOT_URLCONF))
    clear_url_caches()


@contextmanager
def mounted(esp, **anymail):
    """The URLs as start-up builds them for EMAIL_URL=anymail://<esp> (None: not anymail)."""
    with override_settings(EMAIL_TRACKING_ESP=esp, ANYMAIL=anymail):
        _reload_urls()
        yield
    _reload_urls()


@pytest.fixture(autouse=True)
def webhook_secret():
    with mounted("postmark", WEBHOOK_SECRET=SECRET):
        yield


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


def test_spam_complaint_without_our_message_id_changes_nothing(registered, caplog):
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
    assert not Registration.objects.filter(email_bounced_at__isnull=False).exists()
    assert not Delivery.objects.filter(status=Delivery.Status.BOUNCED).exists()
    assert "Bounce report for no message of ours ignored" in caplog.text


def test_bounce_marks_only_the_delivery_with_that_message_id(registered, event):
    """The same address registered for another event keeps getting that event's mail."""
    other_event = make_event(slug="second-side-event")
    elsewhere = register(other_event, "ana@example.org")
    confirmation = Delivery.objects.get(registration=registered, kind="confirmation")
    other = Delivery.objects.get(registration=elsewhere, kind="confirmation")
    assert post(hard_bounce(confirmation.esp_message_id, "ana@example.org")).status_code == 200
    assert list(Delivery.objects.filter(status=Delivery.Status.BOUNCED)) == [confirmation]
    other.refresh_from_db()
    assert other.status == Delivery.Status.SENT
    flagged = Registration.objects.filter(email_bounced_at__isnull=False)
    assert list(flagged) == [registered]


# What an attacker posted (issue 11): each ESP's shape of "this address bounced", with
# neither credentials nor a message id of ours.
ANONYMOUS_REPORTS = {
    "postmark": {"RecordType": "Bounce", "Type": "HardBounce", "Email": "ana@example.org"},
    "sendgrid": [{"event": "bounce", "type": "bounce", "email": "ana@example.org"}],
    "mailjet": {"event": "bounce", "hard_bounce": True, "email": "ana@example.org"},
    "sparkpost": [
        {
            "msys": {
                "message_event": {
                    "type": "bounce",
                    "bounce_class": "10",
                    "rcpt_to": "ana@example.org",
                }
            }
        }
    ],
}
# ESPs whose webhook views cannot even start without a key: they answered 500 per request.
KEYLESS = ["mailgun", "amazon_ses", "brevo", "resend", "postal", "mandrill", "sendinblue"]


def assert_nothing_changed(registered):
    registered.refresh_from_db()
    assert registered.email_bounced_at is None
    assert not Registration.objects.filter(email_bounced_at__isnull=False).exists()
    assert not Delivery.objects.filter(status=Delivery.Status.BOUNCED).exists()


@pytest.mark.parametrize("esp", sorted(ANONYMOUS_REPORTS))
def test_without_a_webhook_secret_anonymous_bounce_reports_are_404(registered, esp):
    with mounted(None):
        response = Client(raise_request_exception=False).post(
            f"/anymail/{esp}/tracking/",
            json.dumps(ANONYMOUS_REPORTS[esp]),
            content_type="application/json",
        )
    assert response.status_code == 404
    assert_nothing_changed(registered)


@pytest.mark.parametrize("esp", sorted(ANONYMOUS_REPORTS))
def test_anonymous_bounce_reports_to_the_mounted_webhook_are_refused(registered, esp):
    with mounted(esp, WEBHOOK_SECRET=SECRET):
        client = Client(raise_request_exception=False)
        for target in ANONYMOUS_REPORTS:
            response = client.post(
                f"/anymail/{target}/tracking/",
                json.dumps(ANONYMOUS_REPORTS[target]),
                content_type="application/json",
            )
            assert response.status_code == (400 if target == esp else 404), target
    assert_nothing_changed(registered)


@pytest.mark.parametrize("esp", KEYLESS)
def test_webhooks_of_other_providers_are_a_plain_404(registered, esp):
    response = Client(raise_request_exception=False).post(
        f"/anymail/{esp}/tracking/", "{}", content_type="application/json"
    )
    assert response.status_code == 404
    assert b"Traceback" not in response.content


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
