"""The admin site under the site's own name (SITE_NAME) instead of "Django administration"."""

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext


class ConveneAdminSite(admin.AdminSite):
    # The app list on the left of every page, beside a changelist's filters, left a 1280 px
    # screen too little for the registrations table; the home page and breadcrumbs remain.
    enable_nav_sidebar = False

    # Read per request, so a changed SITE_NAME (or a test's override) shows at once.
    @property
    def site_header(self):
        return settings.SITE_NAME

    @property
    def site_title(self):
        return gettext("%(site_name)s admin") % {"site_name": settings.SITE_NAME}

    @property
    def index_title(self):
        return gettext("%(site_name)s administration") % {"site_name": settings.SITE_NAME}


class ConveneAdminConfig(AdminConfig):
    """Replaces django.contrib.admin in INSTALLED_APPS: `admin.site` is a ConveneAdminSite."""

    default_site = "config.admin.ConveneAdminSite"
