"""A normal day logs at INFO and below: a WARNING means an operator should look."""

import logging
from datetime import timedelta

import pytest

from notifications import services
from notifications.models import Delivery
from tests.notifications.conftest import SEND_AT, STARTS
from tests.registration.conftest import form_post

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def mail_folder(settings, tmp_path):
    """The laptop's mailer (`make run`): .eml files plus a log line each."""
    settings.MAILERS = {
        "default": {
            "BACKEND": "notifications.backends.MailFolderBackend",
            "OPTIONS": {"folder": str(tmp_path)},
        }
    }
    return tmp_path


def test_registering_and_getting_the_emails_logs_nothing_above_info(
    client, event, travel, mail_folder, caplog
):
    caplog.set_level(logging.INFO)
    travel(STARTS - timedelta(days=3))

    response = client.post(
        f"/en/events/{event.slug}/register/", form_post(1, preferred_language="en")
    )
    travel(SEND_AT + timedelta(minutes=1))
    services.scan(now=SEND_AT + timedelta(minutes=1))

    assert response.status_code == 302
    assert Delivery.objects.filter(status=Delivery.Status.SENT).count() == 2
    assert len(list(mail_folder.glob("*.eml"))) == 2
    mail_lines = [r for r in caplog.records if r.getMessage().startswith("[mail] to=")]
    assert [r.levelname for r in mail_lines] == ["INFO", "INFO"]
    assert "amina.1@example.org" in mail_lines[0].getMessage()
    loud = [f"{r.levelname} {r.name}: {r.getMessage()}" for r in caplog.records]
    assert not [line for line in loud if not line.startswith(("INFO", "DEBUG"))], loud
