"""The 400, 403, 404 and 500 pages: the site's layout, in the language of the request.

Wired as handler400/403/404 in config/urls.py (handler500 is config.outage.server_error, which
tells a lost database from a bug and comes here for the bug). Django calls them only when
DEBUG is off.

A 404, 403 or 400 renders like any page, context processors included. The 500 page must work
while whatever broke the request is still broken, so it gets no context processors (the
messages and auth ones read the session, i.e. the database) and only what the layout needs.
If a page still cannot be rendered (a broken template or context processor, a missing static
files manifest), a plain page that needs nothing but this module is sent instead.
"""

import logging

from django.conf import settings
from django.http import HttpResponse
from django.template import loader
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext

log = logging.getLogger(__name__)

_LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}


def request_language(request):
    """The language of the page asked for (its /ar/ prefix), else what LocaleMiddleware would
    pick (cookie, Accept-Language); it may not have run yet when the error happened."""
    language = translation.get_language_from_path(request.path_info)
    if language in _LANGUAGE_CODES:
        return language
    try:
        return translation.get_language_from_request(request)
    except Exception:
        return settings.LANGUAGE_CODE


def _plain_page(title, message, status):
    """The last resort: no template, no static files, no database; still translated."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    html = format_html(
        '<!doctype html><html lang="{language}" dir="{direction}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>{title} · {site}</title></head>"
        '<body><header><p><a href="/{language}/">{site}</a></p></header>'
        '<main><h1>{title}</h1><p>{message}</p><p><a href="/{language}/">{home}</a></p></main>'
        "</body></html>",
        language=language,
        direction="rtl" if translation.get_language_bidi() else "ltr",
        title=title,
        site=settings.SITE_NAME,
        message=message,
        home=gettext("Go to the list of events"),
    )
    return HttpResponse(html, status=status)


def render_error(request, *, status, title, message, template_name="error.html", safe=False):
    """The error page in the request's language, or the plain page.

    `safe`: render without context processors (the 500 and 503 pages)."""
    with translation.override(request_language(request)):
        title, message = str(title), str(message)
        try:
            template = loader.get_template(template_name)
            context = {"status": status, "title": title, "message": message}
            if safe:
                context.update(request=request, SITE_NAME=settings.SITE_NAME)
                html = template.render(context)
            else:
                html = template.render(context, request)
        except Exception:
            log.exception("The %s page could not be rendered; sent the plain one", status)
            return _plain_page(title, message, status)
        return HttpResponse(html, status=status)


def bad_request(request, exception):
    return render_error(
        request,
        status=400,
        title=translation.gettext_lazy("Bad request"),
        message=translation.gettext_lazy("We could not understand what your browser sent."),
    )


def permission_denied(request, exception):
    return render_error(
        request,
        status=403,
        title=translation.gettext_lazy("Access denied"),
        message=translation.gettext_lazy("You are not allowed to see this page."),
    )


def page_not_found(request, exception):
    return render_error(
        request,
        status=404,
        title=translation.gettext_lazy("Page not found"),
        message=translation.gettext_lazy(
            "There is no page at this address. It may have moved, or the link may be mistyped."
        ),
    )


def server_error(request):
    return render_error(
        request,
        status=500,
        title=translation.gettext_lazy("Something went wrong"),
        message=translation.gettext_lazy(
            "The error was on our side and has been recorded. Please try again in a few minutes."
        ),
        safe=True,
    )


def csrf_failure(request, reason=""):
    """settings.CSRF_FAILURE_VIEW: the 403 an attendee meets most (a form left open for days,
    cookies blocked). CsrfViewMiddleware has logged the reason; the visitor needs a way on."""
    return render_error(
        request,
        status=403,
        title=translation.gettext_lazy("The form could not be sent"),
        message=translation.gettext_lazy(
            "For your security, forms on this site expire and need cookies. Go back, reload "
            "the page and send the form again."
        ),
    )
