"""When the mail provider says no: transient answers are tried again later with backoff,
permanent ones become failed with the reason. Through a real SMTP server on 127.0.0.1 and
anymail's Postmark backend talking HTTP to a stand-in for Postmark's API."""

import json
import threading
import uuid
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from notifications import services
from notifications.models import Delivery
from tests.notifications.conftest import SEND_AT, STARTS, register
from tests.notifications.smtp_server import SMTPServer, free_port

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def smtp(settings):
    server = SMTPServer().start()
    settings.MAILERS = {"default": server.mailer}
    yield server
    server.stop()


def links(recorder):
    return sorted(
        str(m["To"])
        for m in recorder.messages
        if str(m["Subject"]).strip().startswith("Your meeting")
    )


def meeting_link(email):
    return Delivery.objects.get(registration__email=email, kind="meeting_link")


@pytest.fixture
def three_registered(event, travel, smtp):
    travel(STARTS - timedelta(days=2))
    for name in ("ana", "ben", "cai"):
        register(event, f"{name}@example.org")
    return event


def scan_at(travel, when):
    travel(when)
    services.scan(now=when)


def test_refused_recipient_fails_for_good_and_the_others_still_get_theirs(
    three_registered, smtp, travel
):
    smtp.recorder.refuse["ben@example.org"] = "550 5.1.1 <ben@example.org>: no such user"
    scan_at(travel, SEND_AT + timedelta(minutes=1))
    assert links(smtp.recorder) == ["ana@example.org", "cai@example.org"]
    ben = meeting_link("ben@example.org")
    assert ben.status == Delivery.Status.FAILED
    assert "no such user" in ben.last_error
    scan_at(travel, SEND_AT + timedelta(hours=3))
    assert links(smtp.recorder) == ["ana@example.org", "cai@example.org"]


def test_temporary_refusal_is_retried_after_a_backoff(three_registered, smtp, travel):
    smtp.recorder.refuse["ben@example.org"] = "451 4.7.1 Greylisted, try again later"
    scan_at(travel, SEND_AT + timedelta(minutes=1))
    ben = meeting_link("ben@example.org")
    assert ben.status == Delivery.Status.PENDING
    assert "Greylisted" in ben.last_error
    assert ben.next_attempt_at > timezone.now()
    del smtp.recorder.refuse["ben@example.org"]
    scan_at(travel, ben.next_attempt_at + timedelta(minutes=1, seconds=1))
    assert links(smtp.recorder) == ["ana@example.org", "ben@example.org", "cai@example.org"]
    assert meeting_link("ben@example.org").attempts == 2


def test_server_down_then_up_delivers_everything_once(three_registered, smtp, travel):
    smtp.stop()
    scan_at(travel, SEND_AT + timedelta(minutes=1))
    waiting = Delivery.objects.filter(kind="meeting_link")
    assert set(waiting.values_list("status", flat=True)) == {"pending"}
    assert all("Connection refused" in d.last_error for d in waiting)
    # Still down at the first retries: backoff grows.
    first_wait = max(d.next_attempt_at for d in waiting) - timezone.now()
    scan_at(travel, max(d.next_attempt_at for d in waiting) + timedelta(minutes=1))
    waiting = Delivery.objects.filter(kind="meeting_link")
    assert set(waiting.values_list("attempts", flat=True)) == {2}
    second_wait = min(d.next_attempt_at for d in waiting) - timezone.now()
    assert second_wait > first_wait / 2
    smtp.start()
    for minutes in (10, 20, 40, 80):
        scan_at(travel, SEND_AT + timedelta(minutes=minutes))
    assert links(smtp.recorder) == ["ana@example.org", "ben@example.org", "cai@example.org"]
    assert set(waiting.values_list("status", flat=True)) == {"sent"}


def test_gives_up_after_the_maximum_number_of_attempts(three_registered, smtp, travel, settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 2
    smtp.recorder.refuse["ben@example.org"] = "421 4.3.2 Service shutting down"
    for minutes in (1, 10, 30, 90):
        scan_at(travel, SEND_AT + timedelta(minutes=minutes))
    ben = meeting_link("ben@example.org")
    assert (ben.status, ben.attempts) == (Delivery.Status.FAILED, 2)
    assert "Service shutting down" in ben.last_error


# --- anymail (Postmark's API, served locally) -------------------------------------------------


class PostmarkAPI(BaseHTTPRequestHandler):
    """Answers POST /email like Postmark does, depending on the recipient."""

    answers = {}  # recipient -> (HTTP status, JSON body)

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        recipient = body["To"]
        status, answer = self.answers.get(recipient, (None, None))
        if status is None:
            status = 200
            answer = {
                "To": recipient,
                "SubmittedAt": "2021-06-24T12:31:00Z",
                "MessageID": str(uuid.uuid4()),
                "ErrorCode": 0,
                "Message": "OK",
            }
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def postmark(settings):
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), PostmarkAPI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.MAILERS = {"default": {"BACKEND": "anymail.backends.postmark.EmailBackend"}}
    settings.ANYMAIL = {
        "POSTMARK_SERVER_TOKEN": "test-token",
        "POSTMARK_API_URL": f"http://127.0.0.1:{server.server_port}/",
    }
    PostmarkAPI.answers = {}
    yield PostmarkAPI
    server.shutdown()
    server.server_close()


def test_esp_answers_decide_between_retry_and_failure(event, travel, postmark):
    postmark.answers = {
        "ben@example.org": (503, {"ErrorCode": 100, "Message": "Service unavailable"}),
        "cai@example.org": (429, {"ErrorCode": 429, "Message": "Rate limit exceeded"}),
        "dan@example.org": (
            422,
            {
                "ErrorCode": 406,
                "Message": "You tried to send to recipient(s) that have been marked as "
                "inactive. Found inactive addresses: dan@example.org. Inactive recipients "
                "are ones that have generated a hard bounce or a spam complaint.",
            },
        ),
        "eva@example.org": (422, {"ErrorCode": 300, "Message": "Invalid email request"}),
    }
    travel(STARTS - timedelta(days=2))
    for name in ("ana", "ben", "cai", "dan", "eva"):
        register(event, f"{name}@example.org")
    confirmations = {
        d.registration.email: d for d in Delivery.objects.select_related("registration")
    }
    status = {email: d.status for email, d in confirmations.items()}
    # One registration at a time, so a transient answer stops only its own batch.
    assert status == {
        "ana@example.org": "sent",
        "ben@example.org": "pending",
        "cai@example.org": "pending",
        "dan@example.org": "failed",
        "eva@example.org": "failed",
    }
    assert len(confirmations["ana@example.org"].esp_message_id) == 36  # Postmark's MessageID
    assert "rejected" in confirmations["dan@example.org"].last_error
    assert "422" in confirmations["eva@example.org"].last_error
    postmark.answers = {}
    travel(STARTS - timedelta(days=1, hours=12))
    services.scan(now=timezone.now())
    sent = Delivery.objects.filter(status="sent").values_list("registration__email", flat=True)
    assert sorted(sent) == ["ana@example.org", "ben@example.org", "cai@example.org"]
