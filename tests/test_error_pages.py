"""The production error pages (DEBUG off): the site's layout in the request's language, with
the header, a way back to the events and a main landmark; the 500 page without the database,
and a plain page when even the layout cannot be rendered."""

import re

import pytest
from django.test import Client

from tests.conftest import BrowserClient

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.error_urls")]

TITLES = {
    ("en", 400): "Bad request",
    ("en", 403): "Access denied",
    ("en", 404): "Page not found",
    ("en", 500): "Something went wrong",
    ("en", 503): "Temporarily unavailable",
    ("ar", 400): "طلب غير صالح",
    ("ar", 403): "الوصول مرفوض",
    ("ar", 404): "الصفحة غير موجودة",
    ("ar", 500): "حدث خطأ ما",
    ("ar", 503): "الخدمة غير متاحة مؤقتًا",
    ("en", "csrf"): "The form could not be sent",
    ("ar", "csrf"): "تعذّر إرسال النموذج",
}
PATHS = {400: "fail/400/", 403: "fail/403/", 404: "no-such-page/", 500: "fail/500/"}


@pytest.fixture(autouse=True)
def production(settings):
    settings.DEBUG = False
    settings.ROOT_URLCONF = "tests.error_urls"


@pytest.fixture
def client():
    return Client(raise_request_exception=False)


def assert_site_page(html, language, status):
    direction = "rtl" if language == "ar" else "ltr"
    assert re.search(rf'<html lang="{language}" dir="{direction}">', html), html[:300]
    title = TITLES[language, status]
    assert f"<title>{title} · Convene</title>" in html
    assert f"<h1>{title}</h1>" in html
    assert '<header class="site-header' in html
    assert '<main id="main"' in html
    assert re.search(rf'<a class="site-name[^"]*" href="/{language}/">Convene</a>', html)
    # The way home is a link in the page's language, not the header alone.
    assert html.count(f'href="/{language}/"') >= 2
    assert 'name="robots" content="noindex"' in html
    assert 'rel="canonical"' not in html


@pytest.mark.parametrize("language", ["en", "ar"])
@pytest.mark.parametrize("status", [400, 403, 404, 500])
def test_error_page_has_the_site_layout_in_the_request_language(client, language, status):
    response = client.get(f"/{language}/{PATHS[status]}")

    assert response.status_code == status
    html = response.content.decode()
    assert_site_page(html, language, status)
    assert "Traceback" not in html and "a bug in a view" not in html


def test_not_found_without_a_language_prefix_speaks_the_browser_language(client):
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="ar,en;q=0.5")

    assert response.status_code == 404
    assert_site_page(response.content.decode(), "ar", 404)


def test_server_error_page_reads_nothing_from_the_database(
    client, django_user_model, django_assert_num_queries
):
    """A signed-in organiser hits a bug: the page would read the session (flash messages,
    the user) through context processors; the 500 page must not, the database may be why."""
    client.force_login(django_user_model.objects.create_user("organiser", is_staff=True))

    with django_assert_num_queries(0):
        response = client.get("/ar/fail/500/")

    assert response.status_code == 500
    assert_site_page(response.content.decode(), "ar", 500)


@pytest.mark.parametrize("language", ["en", "ar"])
def test_lost_database_is_a_503_in_the_site_layout(client, language):
    response = client.get(f"/{language}/fail/503/")

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert_site_page(response.content.decode(), language, 503)


def broken_context_processor(request):
    raise RuntimeError("a context processor that fails")


def test_failing_context_processor_gives_a_plain_not_found_page(client, settings):
    settings.TEMPLATES = [
        {
            **settings.TEMPLATES[0],
            "OPTIONS": {
                **settings.TEMPLATES[0]["OPTIONS"],
                "context_processors": [
                    *settings.TEMPLATES[0]["OPTIONS"]["context_processors"],
                    "tests.test_error_pages.broken_context_processor",
                ],
            },
        }
    ]

    response = client.get("/ar/no-such-page/")

    assert response.status_code == 404
    html = response.content.decode()
    assert '<html lang="ar" dir="rtl">' in html
    assert f"<h1>{TITLES['ar', 404]}</h1>" in html
    assert "<main>" in html and "<header>" in html
    assert 'href="/ar/"' in html


@pytest.mark.parametrize("status", [404, 500])
def test_broken_error_template_gives_a_plain_page(client, settings, status):
    settings.TEMPLATES = [
        {
            **settings.TEMPLATES[0],
            "APP_DIRS": False,
            "OPTIONS": {
                **settings.TEMPLATES[0]["OPTIONS"],
                "loaders": [
                    (
                        "django.template.loaders.locmem.Loader",
                        {
                            "error.html": "{% extends 'base.html' %}{% block content %}{% url 'no-such-view' %}{% endblock %}"
                        },
                    ),
                    "django.template.loaders.filesystem.Loader",
                    "django.template.loaders.app_directories.Loader",
                ],
            },
        }
    ]

    response = client.get(f"/ar/{PATHS[status]}")

    assert response.status_code == status
    html = response.content.decode()
    assert '<html lang="ar" dir="rtl">' in html
    assert f"<h1>{TITLES['ar', status]}</h1>" in html
    assert "<main>" in html and 'href="/ar/"' in html


@pytest.mark.parametrize("language", ["en", "ar"])
def test_expired_form_gets_the_site_forbidden_page(language):
    """A form posted without its CSRF cookie (left open for days, cookies blocked)."""
    client = BrowserClient(enforce_csrf_checks=True)

    response = client.post(f"/{language}/events/no-matter/register/", {"name": "Amina"})

    assert response.status_code == 403
    html = response.content.decode()
    assert_site_page(html, language, "csrf")
    assert "CSRF verification failed" not in html


def test_unknown_host_gets_the_site_bad_request_page(client):
    response = client.get("/ar/", HTTP_HOST="attacker.example.com")

    assert response.status_code == 400
    assert_site_page(response.content.decode(), "ar", 400)
    assert "attacker.example.com" not in response.content.decode()
