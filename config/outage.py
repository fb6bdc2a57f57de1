"""When the database is unreachable: a 503 page (and Retry-After) instead of a 500.

Wired as handler500 in config/urls.py. Django calls it for every unhandled exception while
that exception is still being handled, so it can tell a lost or refused database connection
(OperationalError / InterfaceError) from a bug. The transaction of the request was rolled
back by then, so nothing half-written stays behind; the page itself needs no database (it
is rendered as the 500 page is: config/errors.py).
"""

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.utils.translation import gettext_lazy as _

from config import errors

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30


def server_error(request):
    error = sys.exc_info()[1]
    if isinstance(error, (OperationalError, InterfaceError)):
        log.error("Database unavailable: %s", error)
        response = errors.render_error(
            request,
            status=503,
            title=_("Temporarily unavailable"),
            message=_(
                "We cannot reach our database right now, so nothing you sent was saved. "
                "Please try again in a minute."
            ),
            safe=True,
        )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return errors.server_error(request)
