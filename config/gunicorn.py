"""gunicorn's settings for the Procfile's web process: `gunicorn -c config/gunicorn.py config.wsgi`.

Beyond bind, workers and the access log, two things gunicorn has no setting for:
- the access log never holds a personal manage-link token: /r/<token>/ paths (in the request
  line, the path, the referrer, any header or environ value) and token-like query parameters
  are written as [redacted];
- no `Server: gunicorn` header: it only tells an attacker which server's bugs to try.
"""

import os

from gunicorn.glogging import Logger
from gunicorn.http import wsgi

from config.logs import redact

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
accesslog = "-"


class RedactingLogger(Logger):
    """gunicorn's logger, with tokens removed from every access-log field."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {name: redact(value) for name, value in atoms.items()}


logger_class = RedactingLogger


class _Response(wsgi.Response):
    def default_headers(self):
        return [line for line in super().default_headers() if not line.startswith("Server:")]


# gunicorn builds every response through this module-level name.
wsgi.Response = _Response
