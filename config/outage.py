"""When the database is unreachable: a plain 503 page (and Retry-After) instead of a 500.

Wired as handler500 in config/urls.py. Django calls it for every unhandled exception while
that exception is still being handled, so it can tell a lost or refused database connection
(OperationalError / InterfaceError) from a bug. The transaction of the request was rolled
back by then, so nothing half-written stays behind; the page itself needs no database.
"""

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template import loader
from django.views import defaults

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30


def server_error(request):
    error = sys.exc_info()[1]
    if isinstance(error, (OperationalError, InterfaceError)):
        log.error("Database unavailable: %s", error)
        html = loader.get_template("503.html").render({"request": request})
        response = HttpResponse(html, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return defaults.server_error(request)
