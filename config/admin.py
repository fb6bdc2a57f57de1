"""The admin site under the site's own name (SITE_NAME) instead of "Django administration"."""

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import Http404
from django.urls import path
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

    def get_urls(self):
        # Matched before Django's own "view on site", which redirects to any object's page
        # (revealing, say, another team's draft event address) without asking its ModelAdmin.
        view = self.admin_view(self.view_on_site)
        route = "r/<path:content_type_id>/<path:object_id>/"
        return [path(route, view, name="view_on_site"), *super().get_urls()]

    def view_on_site(self, request, content_type_id, object_id):
        """Django's redirect to an object's public page, for objects the user may view."""
        # Imported here: this module is loaded with the app registry, before the models.
        from django.contrib.contenttypes.models import ContentType
        from django.contrib.contenttypes.views import shortcut

        try:
            model = ContentType.objects.get_for_id(int(content_type_id)).model_class()
        except (ValueError, ContentType.DoesNotExist):
            raise Http404 from None
        model_admin = self._registry.get(model)
        obj = model_admin.get_object(request, object_id) if model_admin else None
        if obj is None or not model_admin.has_view_permission(request, obj):
            raise Http404
        return shortcut(request, content_type_id, object_id)


class ConveneAdminConfig(AdminConfig):
    """Replaces django.contrib.admin in INSTALLED_APPS: `admin.site` is a ConveneAdminSite."""

    default_site = "config.admin.ConveneAdminSite"
