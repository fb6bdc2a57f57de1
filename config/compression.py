"""gzip for the responses where it is safe: no CSRF token, no session.

Compressing a page that holds a secret next to text an attacker can put in the request (a
query string, a form field) leaks the secret byte by byte through the compressed size
(BREACH). Our secrets in a response body are the CSRF token (forms) and whatever a session
shows (flash messages, the admin). So a response is compressed only when

- it answers a GET or HEAD without a session cookie,
- no CSRF token went into it (a page that uses the token gets the CSRF cookie set again
  with it, to renew its expiry) and it starts no session, and
- it is HTML, XML or plain text (static files come precompressed from whitenoise).

That covers the public event page (the cached hits too: this middleware sits above the page
cache's), the event lists, the privacy notice, the sitemap and robots.txt; the registration
form, the manage page and the admin are sent as they are. Personal manage links carry their
token in the URL, which an attacker would need to know already to make a browser fetch it.

Many visitors get byte-for-byte the same page (a cached event page changes when its seats
left do), so the last bodies compressed are kept per process: a repeated page costs a hash
and a lookup (~0.01 ms) instead of compressing 17 kB again (~0.3 ms at level 6).
"""

import functools
import gzip
import re

from django.conf import settings
from django.utils.cache import patch_vary_headers

COMPRESSIBLE_TYPES = ("text/html", "application/xml", "text/xml", "text/plain")
MIN_LENGTH = 200
_ACCEPTS_GZIP = re.compile(r"\bgzip\b")


@functools.lru_cache(maxsize=128)
def _compressed(content):
    return gzip.compress(content, compresslevel=6, mtime=0)


def _public(request, response):
    return (
        request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and settings.CSRF_COOKIE_NAME not in response.cookies
        and settings.SESSION_COOKIE_NAME not in response.cookies
        and response.get("Content-Type", "").startswith(COMPRESSIBLE_TYPES)
    )


class PublicGZipMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.streaming
            or response.has_header("Content-Encoding")
            or len(response.content) < MIN_LENGTH
            or not _public(request, response)
        ):
            return response
        patch_vary_headers(response, ("Accept-Encoding",))
        if not _ACCEPTS_GZIP.search(request.META.get("HTTP_ACCEPT_ENCODING", "")):
            return response
        compressed = _compressed(response.content)
        if len(compressed) >= len(response.content):
            return response
        response.content = compressed
        response.headers["Content-Length"] = str(len(compressed))
        response.headers["Content-Encoding"] = "gzip"
        etag = response.get("ETag", "")
        if etag.startswith('"'):
            response.headers["ETag"] = "W/" + etag
        return response
