"""The outbox's MIME writer: replaces Django's EmailMessage.message() for its messages.

What it replaces: Django 6 builds every message with the email package's modern API
(email.policy.default), which parses, validates and refolds each header through the header
registry. Why: that was the largest single cost of a worker's time per meeting link. The
messages the outbox sends have one plain shape: ASCII addresses, a text body, an HTML
alternative, text attachments (the .ics) and a few ASCII headers; for that shape the legacy
compat32 API writes an equivalent message (same headers, parts and content once decoded).
Anything else, and every message an ESP backend sends through its API (anymail never calls
message()), goes Django's way. message() is documented for overriding; Compat32 below
overrides the standard library's private _fold for the common one-line header.
How much: send_deliveries takes about half the CPU per message with it
(benchmarks/profile_send.py: 2.3 ms, 5.0 ms with Django's message(); the _fold override
alone about 0.1 ms).
Checked by tests/notifications/test_mime.py, which reads every kind of message in every
language both ways and compares what a mail client shows.
"""

import email.policy
from datetime import UTC, datetime
from email import charset as charsets
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from secrets import token_hex

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.utils import DNS_NAME
from django.utils import timezone

# Mostly-Latin text is shortest as quoted-printable; Arabic, Chinese or Russian as base64.
QUOTED_PRINTABLE = charsets.Charset("utf-8")
QUOTED_PRINTABLE.body_encoding = charsets.QP
BASE64 = charsets.Charset("utf-8")
BASE64.body_encoding = charsets.BASE64
NON_ASCII_BYTES = bytes(range(128, 256))
# Headers this module writes itself; an extra header of the same name takes Django's way.
OWN_HEADERS = {"subject", "from", "to", "cc", "bcc", "reply-to", "date", "mime-version"}


def _ascii(text):
    """Printable ASCII on one line: safe to write as a header without encoding."""
    return isinstance(text, str) and text.isascii() and "\r" not in text and "\n" not in text


def _text_part(text, subtype, policy):
    """A text/<subtype> part in whichever of quoted-printable and base64 is shorter."""
    encoded = text.encode()
    ascii_bytes = len(encoded.translate(None, NON_ASCII_BYTES))
    quoted_size = ascii_bytes + 3 * (len(encoded) - ascii_bytes)
    charset = BASE64 if len(encoded) * 4 < quoted_size * 3 else QUOTED_PRINTABLE
    return MIMEText(text, subtype, charset, policy=policy)


def _split_type(mimetype):
    """("calendar", [("method", "REQUEST")]) for "text/calendar; method=REQUEST; charset=utf-8":
    the subtype and the parameters Django's way keeps too (the charset is the part's own)."""
    full, *params = mimetype.split(";")
    pairs = [param.strip().partition("=") for param in params]
    return full.strip().split("/", 1)[1], [
        (name.strip(), value.strip().strip('"'))
        for name, _equals, value in pairs
        if name.strip().lower() != "charset"
    ]


class Compat32(email.policy.Compat32):
    """compat32 that writes a short one-line ASCII header as it is, the common case, rather
    than refolding every header through email.header.Header; the same output. Overrides the
    standard library's private _fold (tests/test_private_apis.py checks it is still there)."""

    def _fold(self, name, value, sanitize):
        if (
            isinstance(value, str)
            and len(name) + len(value) + 2 <= (self.max_line_length or 78)
            and _ascii(value)
        ):
            return f"{name}: {value}{self.linesep}"
        return super()._fold(name, value, sanitize)


class OutboxEmail(EmailMultiAlternatives):
    """EmailMultiAlternatives with a fast message() for the simple shape described above;
    same attributes, so every backend and test sees an ordinary Django email. For that
    shape message() returns a compat32 email.message.Message (as Django 5 did), whose
    as_bytes() and as_string() are what mail backends use; parse those bytes with
    email.policy.default for the modern API (get_body(), iter_attachments())."""

    # Not Django's return type for the simple shape (a compat32 Message, see above).
    def message(  # type: ignore[override]
        self, *, policy: email.policy.Policy = email.policy.default
    ) -> Message:
        if not self._simple_shape():
            return super().message(policy=policy)
        legacy = Compat32(linesep=policy.linesep)
        encoding = self.encoding or settings.DEFAULT_CHARSET
        alternative = MIMEMultipart("alternative", boundary=token_hex(16), policy=legacy)
        alternative.attach(_text_part(self.body, self.content_subtype, legacy))
        for content, mimetype in self.alternatives:
            if isinstance(content, bytes):
                content = content.decode(encoding)
            alternative.attach(_text_part(content, mimetype.split("/", 1)[1], legacy))
        if self.attachments:
            msg = MIMEMultipart("mixed", boundary=token_hex(16), policy=legacy)
            msg.attach(alternative)
            for filename, content, mimetype in self.attachments:
                if isinstance(content, bytes):
                    content = content.decode(encoding)
                subtype, params = _split_type(mimetype)
                part = MIMEText(content, subtype, BASE64, policy=legacy)  # type: ignore[arg-type]
                for name, value in params:  # e.g. text/calendar's method=REQUEST
                    part.set_param(name, value)
                part.add_header("Content-Disposition", "attachment", filename=filename)
                msg.attach(part)
        else:
            msg = alternative
        subject = str(self.subject)
        if subject.isascii():
            msg["Subject"] = subject
        else:
            # compat32 takes a Header as a value (typeshed says str only).
            msg["Subject"] = Header(subject, "utf-8", header_name="Subject")  # type: ignore[assignment]
        name, address = parseaddr(str(self.from_email))
        msg["From"] = formataddr((name, address), charset="utf-8")
        msg["To"] = ", ".join(self.to)
        tz = timezone.get_current_timezone() if settings.EMAIL_USE_LOCALTIME else UTC
        headers = {key.lower(): value for key, value in self.extra_headers.items()}
        if "date" not in headers:
            msg["Date"] = format_datetime(datetime.now(tz))
        if "message-id" not in headers:
            msg["Message-ID"] = make_msgid(domain=DNS_NAME)
        for key, value in self.extra_headers.items():
            msg[key] = str(value)
        return msg

    def _simple_shape(self):
        """True when the fast path writes this message exactly as Django would read it."""
        _name, from_address = parseaddr(str(self.from_email))
        subject = str(self.subject)
        return (
            self.body
            and (self.encoding or settings.DEFAULT_CHARSET).lower() in ("utf-8", "utf8")
            and "\r" not in subject
            and "\n" not in subject
            and not self.cc
            and not self.bcc
            and not self.reply_to
            and all(_ascii(address) and "," not in address for address in self.to)
            and _ascii(from_address)
            and "@" in from_address
            and all(
                _ascii(key) and _ascii(str(value)) and key.lower() not in OWN_HEADERS
                for key, value in self.extra_headers.items()
            )
            and all(mimetype.startswith("text/") for _content, mimetype in self.alternatives)
            and all(
                isinstance(attachment, tuple)
                and _ascii(attachment[0])
                and _ascii(attachment[2])
                and attachment[2].startswith("text/")
                for attachment in self.attachments
            )
        )
