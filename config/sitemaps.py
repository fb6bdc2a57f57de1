"""/sitemap.xml: the public pages and every published event, in the six languages, each entry
with its hreflang alternates and x-default (django.contrib.sitemaps). Drafts never appear;
neither do cancelled events (nothing left to find there).

Absolute URLs are built from SITE_URL, never from the request's Host header.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from events.models import Event


class _SiteSitemap(Sitemap):
    i18n = True
    alternates = True
    x_default = True

    def get_protocol(self, protocol=None):
        return urlsplit(settings.SITE_URL).scheme

    def get_domain(self, site=None):
        return urlsplit(settings.SITE_URL).netloc


class PageSitemap(_SiteSitemap):
    def items(self):
        return ["events:list", "events:past", "registration:privacy"]

    def location(self, name):
        return reverse(name)


class EventSitemap(_SiteSitemap):
    def items(self):
        events = Event.objects.filter(status=Event.Status.PUBLISHED).only("slug", "updated_at")
        return events.order_by("starts_at", "pk")

    def lastmod(self, event):
        return event.updated_at


SITEMAPS = {"pages": PageSitemap, "events": EventSitemap}
