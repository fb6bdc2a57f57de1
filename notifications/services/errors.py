"""What a mail provider's error means for the message: try again later, or never; and when
"later" is (exponential backoff with jitter)."""

import enum
import random
import smtplib
import socket
from datetime import timedelta

from anymail.exceptions import AnymailAPIError, AnymailError, AnymailRecipientsRefused
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import InterfaceError, OperationalError

RETRY_CAP_SECONDS = 3600


class Failure(enum.Enum):
    """What an error raised while sending one message says about trying it again."""

    # Worth trying again later: connection refused, timeout, 4xx SMTP, 5xx/429 API.
    TRANSIENT = "transient"
    # Will fail the same way again: refused recipient, 5xx SMTP, 4xx API.
    PERMANENT = "permanent"


def classify(error: BaseException) -> Failure:
    """TRANSIENT or PERMANENT for an exception raised while sending one message."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in error.recipients.values()]
        transient = bool(codes) and all(400 <= code < 500 for code in codes)
        return Failure.TRANSIENT if transient else Failure.PERMANENT
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return Failure.TRANSIENT  # our configuration, not the recipient: retry once fixed
    if isinstance(error, smtplib.SMTPResponseException):
        return Failure.TRANSIENT if 400 <= error.smtp_code < 500 else Failure.PERMANENT
    if isinstance(error, smtplib.SMTPServerDisconnected | ConnectionError | TimeoutError):
        return Failure.TRANSIENT
    if isinstance(error, OperationalError | InterfaceError):
        return Failure.TRANSIENT  # our database, e.g. restarting: nothing wrong with the message
    if isinstance(error, AnymailRecipientsRefused):
        return Failure.PERMANENT
    if isinstance(error, AnymailAPIError):
        code = error.status_code
        transient = code is None or code == 429 or code >= 500
        return Failure.TRANSIENT if transient else Failure.PERMANENT
    if isinstance(error, AnymailError | ValueError):
        return Failure.PERMANENT  # e.g. an invalid address or a feature the ESP lacks
    if isinstance(error, socket.gaierror | OSError):
        return Failure.TRANSIENT
    return Failure.PERMANENT


def describe(error: BaseException, message: EmailMessage | None = None) -> str:
    """The reason recorded on the row: the exception, the provider's answer, and the
    recipient's status where anymail reports one (e.g. "rejected" for a suppressed address)."""
    text = f"{type(error).__name__}: {error}".strip()
    status = getattr(message, "anymail_status", None)
    if status is not None and status.status:
        text += f" (recipient status: {', '.join(sorted(status.status))})"
    return text


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with jitter: base x 2^(attempts-1), capped, between 1/2 and 1x."""
    delay = min(
        RETRY_CAP_SECONDS, settings.NOTIFICATIONS_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    )
    return timedelta(seconds=delay / 2 + random.uniform(0, delay / 2))
