"""The site's URLs plus views that fail in each way an error page must handle (the error
page tests use this as ROOT_URLCONF, with DEBUG off)."""

from django.conf.urls.i18n import i18n_patterns
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.db import OperationalError
from django.urls import path

from config.urls import *  # noqa: F403
from config.urls import urlpatterns as site_urlpatterns


def bad_request(request):
    raise SuspiciousOperation("a malformed request")


def forbidden(request):
    raise PermissionDenied


def broken(request):
    raise RuntimeError("a bug in a view")


def database_gone(request):
    raise OperationalError("server closed the connection unexpectedly")


urlpatterns = [
    *site_urlpatterns,
    *i18n_patterns(
        path("fail/400/", bad_request),
        path("fail/403/", forbidden),
        path("fail/500/", broken),
        path("fail/503/", database_gone),
        prefix_default_language=True,
    ),
]
