"""Strict parsing of environment variables for settings.py.

Every helper raises ImproperlyConfigured naming the variable, so a typo stops start-up with a
message instead of silently falling back to a laptop default in production.
"""

import os
import re
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a boolean: use one of 1/0, true/false, yes/no, on/off."
    )


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be at least {minimum}.")
    return value


def env_list(name: str, default: Iterable[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_url(name: str, default: str, *, schemes: Collection[str]) -> str:
    """A URL whose scheme must be one of `schemes`; returns the raw string."""
    raw = os.environ.get(name, default)
    scheme = raw.split(":", 1)[0].lower() if ":" in raw else ""
    if scheme not in schemes:
        allowed = ", ".join(f"{s}://" for s in sorted(schemes))
        raise ImproperlyConfigured(f"{name}={raw!r} is not a supported URL (use {allowed}).")
    return raw


def env_addr(name: str, default: str) -> str:
    """The address `make run` serves, as runserver takes it: `host:port` or a port alone.
    Returns `host:port`."""
    raw = os.environ.get(name, default).strip()
    match = re.fullmatch(r"(?:(\[[0-9a-fA-F:.]+\]|[\w.-]+):)?(\d{1,5})", raw)
    if not match or not 0 < int(match[2]) < 65536:
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not an address: use host:port or a port, e.g. 127.0.0.1:8000."
        )
    return f"{match[1] or '127.0.0.1'}:{match[2]}"


def local_url(addr: str) -> str:
    """http://host:port for an address from env_addr; a wildcard (0.0.0.0, [::]) is not a
    host a link can name, so links use the loopback address instead."""
    host, port = addr.rsplit(":", 1)
    if host in ("0.0.0.0", "[::]"):  # noqa: S104
        host = "127.0.0.1"
    return f"http://{host}:{port}"


def parse_database_url(name: str, url: str, *, base_dir: Path) -> dict[str, Any]:
    """DATABASE_URL -> a DATABASES['default'] dict (sqlite:///path or postgres://...)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        # As in dj-database-url: sqlite:///var/db.sqlite3 is relative to the project,
        # sqlite:////srv/db.sqlite3 is absolute.
        path = unquote(parts.path)
        if path.startswith("//"):
            db_path = path[1:]
        elif path.strip("/"):
            db_path = str(base_dir / path.lstrip("/"))
        else:
            db_path = str(base_dir / "var" / "db.sqlite3")
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": db_path,
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    if scheme in {"postgres", "postgresql", "pgsql"}:
        name_part = unquote(parts.path.lstrip("/"))
        if not name_part:
            raise ImproperlyConfigured(
                f"{name}={url!r} names no database (postgres://user@host:5432/NAME)."
            )
        options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name_part,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "OPTIONS": options,
        }
    raise ImproperlyConfigured(
        f"{name}={url!r}: unsupported scheme {scheme!r} (use sqlite:///path or postgres://...)."
    )


ESPS = {
    # name in EMAIL_URL -> anymail backend path. Each ESP reads its keys from ANYMAIL_* below.
    "amazon_ses": "anymail.backends.amazon_ses.EmailBackend",
    "brevo": "anymail.backends.brevo.EmailBackend",
    "mailgun": "anymail.backends.mailgun.EmailBackend",
    "mailjet": "anymail.backends.mailjet.EmailBackend",
    "mandrill": "anymail.backends.mandrill.EmailBackend",
    "postal": "anymail.backends.postal.EmailBackend",
    "postmark": "anymail.backends.postmark.EmailBackend",
    "resend": "anymail.backends.resend.EmailBackend",
    "sendgrid": "anymail.backends.sendgrid.EmailBackend",
    "sparkpost": "anymail.backends.sparkpost.EmailBackend",
}


def _esp(name: str, url: str) -> str | None:
    """The ESP of an anymail://<esp> URL (checked against ESPS), or None for other schemes."""
    if urlsplit(url).scheme.lower() != "anymail":
        return None
    return _anymail_esp(name, url)


def _anymail_esp(name: str, url: str) -> str:
    """The ESP an anymail://<esp> URL names; an unknown one stops start-up."""
    parts = urlsplit(url)
    esp = (parts.hostname or parts.path.strip("/")).lower()
    if esp not in ESPS:
        raise ImproperlyConfigured(
            f"{name}={url!r}: unknown ESP {esp!r}; known: {', '.join(sorted(ESPS))}."
        )
    return esp


# ESP -> the anymail setting holding the key its tracking webhook's signature is checked
# with, and whether anymail's view needs that key even when a webhook secret is set.
WEBHOOK_SIGNING_KEYS = {
    "mailgun": ("MAILGUN_WEBHOOK_SIGNING_KEY", True),
    "mandrill": ("MANDRILL_WEBHOOK_KEY", True),
    "postal": ("POSTAL_WEBHOOK_KEY", True),
    "resend": ("RESEND_SIGNING_SECRET", False),
    "sendgrid": ("SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY", False),
}


def tracking_webhook_esp(name: str, url: str, *, anymail: Mapping[str, Any]) -> str | None:
    """The ESP whose tracking webhook is mounted (EMAIL_URL=anymail://<esp>), else None.

    A bounce report stops mail to a registrant, so the webhook must prove it comes from the
    provider: the shared webhook secret (HTTP basic auth) or the ESP's signing key, read
    from the ANYMAIL_* variables in `anymail`. Without one, start-up stops here.
    """
    esp = _esp(name, url)
    if esp is None:
        return None
    key, key_required = WEBHOOK_SIGNING_KEYS.get(esp, (None, False))
    if key and anymail.get(key):
        return esp
    if anymail.get("WEBHOOK_SECRET") and not key_required:
        return esp
    needed = f"ANYMAIL_{key}" if key_required else "ANYMAIL_WEBHOOK_SECRET"
    alternative = f" (or ANYMAIL_{key})" if key and not key_required else ""
    raise ImproperlyConfigured(
        f"{name}={url!r} needs {needed}{alternative}: without it anyone could report bounces "
        "to the tracking webhook and stop a registrant's mail. "
        + (
            f"Set it to the webhook signing key from your {esp} account."
            if key_required
            else "Set it to a random 'user:password' and put the same credentials in the "
            f"webhook URL you give {esp}: https://user:password@<host>/anymail/{esp}/tracking/."
        )
    )


def parse_email_url(name: str, url: str, *, base_dir: Path) -> dict[str, Any]:
    """EMAIL_URL -> a MAILERS['default'] dict.

    smtp://user:pass@host:port (smtp+tls:// for STARTTLS, smtps:// for implicit TLS),
    file:///path, console:, files: (the laptop default: var/mail/ plus a console line),
    anymail://<esp> (e.g. anymail://postmark).
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in {"smtp", "smtp+tls", "smtps"}:
        if not parts.hostname:
            raise ImproperlyConfigured(f"{name}={url!r} names no host (smtp://host:port).")
        options = {
            "host": parts.hostname,
            "port": parts.port
            or (465 if scheme == "smtps" else 587 if scheme == "smtp+tls" else 25),
            "username": unquote(parts.username or ""),
            "password": unquote(parts.password or ""),
            "use_tls": scheme == "smtp+tls",
            "use_ssl": scheme == "smtps",
            "timeout": 20,
        }
        return {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": options}
    if scheme == "file":
        path = unquote(parts.path) or str(base_dir / "var" / "mail")
        return {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": path},
        }
    if scheme == "console":
        return {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if scheme == "files":
        path = unquote(parts.path) or str(base_dir / "var" / "mail")
        return {"BACKEND": "notifications.backends.MailFolderBackend", "OPTIONS": {"folder": path}}
    if scheme == "locmem":
        return {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    if scheme == "anymail":
        return {"BACKEND": ESPS[_anymail_esp(name, url)]}
    raise ImproperlyConfigured(
        f"{name}={url!r}: unsupported scheme {scheme!r} "
        "(use smtp://, smtp+tls://, smtps://, file:///path, files:, console:, anymail://ESP)."
    )
