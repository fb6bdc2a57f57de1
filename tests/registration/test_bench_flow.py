"""The registration-flow benchmark (benchmarks/flow.py) must sign up as a browser does, or its
figures measure an error page; and the SMTP sink must tell who got how many emails, or its
"stored once, confirmed once" check proves nothing."""

import smtplib
import socket
import subprocess
import sys
import time
from collections import Counter
from email.message import EmailMessage
from pathlib import Path

from django.test import Client
from django.urls import reverse

from benchmarks.flow import form_body, read_form
from registration.models import Registration

ROOT = Path(__file__).resolve().parents[2]


def test_flow_fills_the_form_as_served_and_the_sign_up_goes_through(event):
    browser = Client(enforce_csrf_checks=True)
    url = reverse("registration:register", kwargs={"slug": event.slug})
    page = browser.get(url).content.decode()

    body = form_body(page, read_form(page), "visitor-1@bench.example.org")
    response = browser.post(url, body, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 302
    assert response["Location"].endswith("/check-email/")
    registration = Registration.objects.get(event=event)
    assert registration.email == "visitor-1@bench.example.org"
    assert registration.name == "Bench Registrant"
    assert registration.interpretation_language == "en"


def test_sink_records_how_many_messages_each_address_received(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    count_file, recipients_file = tmp_path / "count", tmp_path / "recipients"
    args = ["--port", str(port), "--count-file", str(count_file)]
    args += ["--recipients-file", str(recipients_file)]
    sink = subprocess.Popen([sys.executable, "-m", "benchmarks.smtp_sink", *args], cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while not count_file.exists():
            assert sink.poll() is None and time.monotonic() < deadline, "the sink did not start"
            time.sleep(0.05)
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            for to in ("a@example.org", "b@example.org", "a@example.org"):
                message = EmailMessage()
                message["From"], message["To"], message["Subject"] = "x@example.org", to, "Hi"
                message.set_content("Confirmed.")
                smtp.send_message(message)
        while count_file.read_text() != "3 2" and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        sink.terminate()
        sink.wait(10)

    assert Counter(recipients_file.read_text().split()) == {
        "a@example.org": 2,
        "b@example.org": 1,
    }
