"""The laptop's default mailer: every message as an .eml file plus one log line."""

import logging
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

logger = logging.getLogger(__name__)


class MailFolderBackend(BaseEmailBackend):
    """Writes each message to <folder>/<time>-<id>.eml (opens in any mail client) and logs
    `[mail] to=... subject=... file=...` at INFO, so `make run` shows what was sent. (A line
    on stdout would not do: the Celery worker re-logs stdout at WARNING.)"""

    def __init__(self, *, folder: str | Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.folder = Path(folder)

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        self.folder.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            name = f"{timezone.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:12]}.eml"
            path = self.folder / name
            path.write_bytes(message.message().as_bytes())
            logger.info(
                "[mail] to=%s subject=%r file=%s",
                ", ".join(message.recipients()),
                str(message.subject),
                path,
            )
            sent += 1
        return sent
