"""The laptop's default mailer: every message as an .eml file plus one line on the console."""

import sys
import uuid
from pathlib import Path

from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone


class MailFolderBackend(BaseEmailBackend):
    """Writes each message to <folder>/<time>-<id>.eml (opens in any mail client) and prints
    `[mail] to=... subject=... file=...` so `make run` shows what was sent."""

    def __init__(self, *, folder, stream=None, **kwargs):
        super().__init__(**kwargs)
        self.folder = Path(folder)
        self.summary_stream = stream or sys.stdout

    def send_messages(self, email_messages):
        self.folder.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            name = f"{timezone.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:12]}.eml"
            path = self.folder / name
            path.write_bytes(message.message().as_bytes())
            self.summary_stream.write(
                f"[mail] to={', '.join(message.recipients())} "
                f"subject={str(message.subject)!r} file={path}\n"
            )
            self.summary_stream.flush()
            sent += 1
        return sent
