"""gzip for the responses where it is safe: no CSRF token, no session.

Compressing a page that holds a secret next to text an attacker can put in the request (a
query string, a form field) leaks the secret byte by byte through the compressed size
(BREACH). Our secrets in a response body are the CSRF token (forms) and whatever a session
shows (flash messages, the admin). So a response is compressed only when

- it answers a GET or HEAD without a session cookie, and
- no CSRF token went into it (a page that uses the token gets the CSRF cookie set again
  with it, to renew its expiry) and it starts no session, and
- it is HTML, XML or plain text (static files come precompressed from whitenoise).

That covers the public event page (the cached hits too: this middleware sits above the page
cache's), the event lists, the sitemap and robots.txt; the registration form, the manage page
and the admin are sent as they are. Personal manage links carry their token in the URL, which
an attacker would need to know already to make a browser fetch it. Django's GZipMiddleware
also pads each compressed body with a random number of bytes, which blurs the sizes more.
"""

from django.conf import settings
from django.middleware.gzip import GZipMiddleware

COMPRESSIBLE_TYPES = ("text/html", "application/xml", "text/xml", "text/plain")


class PublicGZipMiddleware(GZipMiddleware):
    def process_response(self, request, response):
        if (
            request.method in ("GET", "HEAD")
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
            # Whenever a page uses the CSRF token, CsrfViewMiddleware (re)sets its cookie.
            and settings.CSRF_COOKIE_NAME not in response.cookies
            and settings.SESSION_COOKIE_NAME not in response.cookies
            and response.get("Content-Type", "").startswith(COMPRESSIBLE_TYPES)
        ):
            return super().process_response(request, response)
        return response
