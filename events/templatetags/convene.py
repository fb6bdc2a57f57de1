import functools

from django import template
from django.conf import settings
from django.urls import translate_url
from django.utils.text import capfirst
from django.utils.translation import get_language, get_language_info

register = template.Library()

_PREFIXES = tuple(f"/{code}/" for code, _name in settings.LANGUAGES)


@register.filter
def translate_path(path, language):
    """The same page in another language: /fr/events/x/?a=1 -> /ar/events/x/?a=1.

    Every page lives under a language prefix and our URL patterns are not translated, so
    swapping the prefix is exact, and far cheaper than resolving and reversing the URL
    (the switcher does it six times on every page).
    """
    for prefix in _PREFIXES:
        if path.startswith(prefix):
            return f"/{language}/{path[len(prefix) :]}"
    return translate_url(path, language)


# How each language separates the items of a list (locale data, not a translation).
_LIST_SEPARATORS = {"ar": "، ", "zh-hans": "、"}


@register.filter
def join_list(items):
    """Join names with the current language's separator: "a, b" / "a، b" / "a、b"."""
    return _LIST_SEPARATORS.get(get_language(), ", ").join(str(item) for item in items)


@functools.cache
def _language_names():
    """Each language named in its own script (the switcher's labels): the same on every page."""
    return [
        (code, capfirst(get_language_info(code)["name_local"]))
        for code, _name in settings.LANGUAGES
    ]


@register.simple_tag(takes_context=True)
def language_links(context):
    """The language switcher's entries for this page: code, name, this page's URL in that
    language and whether it is the current one (the names are looked up once, not per page)."""
    request = context.get("request")
    path = request.get_full_path() if request is not None else ""
    current = get_language()
    return [
        {"code": code, "name": name, "url": translate_path(path, code), "current": code == current}
        for code, name in _language_names()
    ]


@register.inclusion_tag("includes/page_alternates.html", takes_context=True)
def page_alternates(context):
    """<link rel=canonical> and one <link rel=alternate hreflang> per language plus x-default
    (the path without a prefix: / picks the visitor's language). Absolute URLs start with
    SITE_URL, never the Host header: the event page is cached and shared by every visitor."""
    request = context.get("request")
    if request is None:
        return {}
    path = request.path
    return {
        "canonical": settings.SITE_URL + path,
        "alternates": [
            (code, settings.SITE_URL + translate_path(path, code))
            for code, _name in settings.LANGUAGES
        ],
        "default": settings.SITE_URL + _without_prefix(path),
    }


def _without_prefix(path):
    for prefix in _PREFIXES:
        if path.startswith(prefix):
            return path[len(prefix) - 1 :]
    return path
