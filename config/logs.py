"""Personal tokens never reach a log: /r/<token>/ (registration.urls: the manage and cancel
links, with or without a language prefix), /organisers/welcome/<uid>/<token>/ (an organiser's
invitation, events.organisers) and token-like query parameters are written as
[redacted]. Used by Django's log handler (settings.LOGGING) and gunicorn's access log
(config/gunicorn.py). Keep it importable without Django set up."""

import logging
import re

SECRET_IN_URL = re.compile(
    r"(?P<keep>/r/|/organisers/welcome/[^/?&;#\s\"']+/|[?&;](?:token|key|secret|signature|sig)=)"
    r"[^/?&;#\s\"']+",
    re.IGNORECASE,
)


def redact[T](value: T) -> T | str:
    """`value` with every token in a URL replaced by [redacted]; anything else unchanged."""
    if not isinstance(value, str) or (
        "/r/" not in value and "=" not in value and "/welcome/" not in value
    ):
        return value
    return SECRET_IN_URL.sub(r"\g<keep>[redacted]", value)


class RedactTokens(logging.Filter):
    """Rewrites a record's message with the tokens redacted (e.g. Django's "Not Found: /en/r/…")."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
