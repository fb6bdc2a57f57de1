"""Start-up refuses anymail://<esp> without what authenticates its tracking webhook: a
bounce report stops a registrant's mail, so an anonymous one must not be accepted."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import tracking_webhook_esp

ROOT = Path(__file__).resolve().parents[2]


def check(**extra_env):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANYMAIL_", "EMAIL_"))}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", **extra_env)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_anymail_without_a_webhook_secret_stops_start_up():
    result = check(EMAIL_URL="anymail://postmark", ANYMAIL_POSTMARK_SERVER_TOKEN="t0ken")
    assert result.returncode != 0
    assert "ANYMAIL_WEBHOOK_SECRET" in result.stderr


def test_anymail_with_a_webhook_secret_starts():
    result = check(
        EMAIL_URL="anymail://postmark",
        ANYMAIL_POSTMARK_SERVER_TOKEN="t0ken",
        ANYMAIL_WEBHOOK_SECRET="hooks:5d2b7c0e9a",
    )
    assert result.returncode == 0, result.stderr


def test_only_anymail_urls_mount_a_webhook():
    assert tracking_webhook_esp("EMAIL_URL", "smtp://mail.example.org", anymail={}) is None
    assert tracking_webhook_esp("EMAIL_URL", "files:", anymail={}) is None


def test_signing_key_is_enough_where_the_provider_signs():
    anymail = {"RESEND_SIGNING_SECRET": "whsec_abc"}
    assert tracking_webhook_esp("EMAIL_URL", "anymail://resend", anymail=anymail) == "resend"
    anymail = {"MAILGUN_WEBHOOK_SIGNING_KEY": "key-abc"}
    assert tracking_webhook_esp("EMAIL_URL", "anymail://mailgun", anymail=anymail) == "mailgun"


@pytest.mark.parametrize(
    ("esp", "variable"),
    [
        ("mailgun", "ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY"),
        ("mandrill", "ANYMAIL_MANDRILL_WEBHOOK_KEY"),
        ("postal", "ANYMAIL_POSTAL_WEBHOOK_KEY"),
    ],
)
def test_providers_whose_webhook_needs_its_key_name_it(esp, variable):
    # anymail's views for these answer 500 without the key, whatever the webhook secret.
    with pytest.raises(ImproperlyConfigured, match=variable):
        tracking_webhook_esp("EMAIL_URL", f"anymail://{esp}", anymail={"WEBHOOK_SECRET": "a:b"})


@pytest.mark.parametrize("esp", ["postmark", "sendgrid", "mailjet", "sparkpost", "brevo"])
def test_basic_auth_providers_need_the_webhook_secret(esp):
    with pytest.raises(ImproperlyConfigured, match="ANYMAIL_WEBHOOK_SECRET"):
        tracking_webhook_esp("EMAIL_URL", f"anymail://{esp}", anymail={})
    anymail = {"WEBHOOK_SECRET": "a:b"}
    assert tracking_webhook_esp("EMAIL_URL", f"anymail://{esp}", anymail=anymail) == esp
