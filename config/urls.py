from anymail import urls as anymail_urls
from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from config import throttle, views
from config.sitemaps import SITEMAPS
from events import views as event_views

# The error pages in the site's layout and the request's language (config/errors.py); a lost
# database connection answers 503 "try again in a minute", other errors 500.
handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.outage.server_error"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("i18n/", include("django.conf.urls.i18n")),
    # Only the tracking webhook of the ESP we send through (settings require its secret);
    # every other path under /anymail/ is a 404.
    path(
        "anymail/",
        include(
            [
                pattern
                for pattern in anymail_urls.urlpatterns
                if pattern.name == f"{settings.EMAIL_TRACKING_ESP}_tracking_webhook"
            ]
        ),
    ),
]
urlpatterns += i18n_patterns(
    # Before admin.site.urls so it wins: the admin login with failed-attempt throttling.
    path("admin/login/", throttle.admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
    path(
        "organisers/welcome/<uidb64>/<token>/",
        event_views.OrganiserWelcomeView.as_view(),
        name="organiser_welcome",
    ),
    path(
        "organisers/welcome/done/",
        event_views.OrganiserWelcomeDoneView.as_view(),
        name="organiser_welcome_done",
    ),
    path("", include("registration.urls")),
    path("", include("events.urls")),
    prefix_default_language=True,
)

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
