"""What a browser receives on every page: CSP with nonces, no framing, no sniffing."""

import re

import pytest

PAGES = ["/en/", "/fr/", "/ar/", "/en/admin/login/"]


def csp_directives(response):
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.parametrize("url", PAGES)
def test_pages_carry_a_nonce_based_csp_without_unsafe_inline_scripts(client, db, url):
    response = client.get(url)
    assert response.status_code == 200
    csp = csp_directives(response)
    scripts = csp["script-src"]
    assert "'unsafe-inline'" not in scripts
    assert "'unsafe-eval'" not in scripts
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in csp["default-src"]

    # Django adds the nonce to the header only when the page used it; every inline script
    # (and any tag carrying a nonce) must match the header's, or the browser blocks it.
    nonces = [v.removeprefix("'nonce-").removesuffix("'") for v in scripts if "nonce-" in v]
    html = response.content.decode()
    used = set(re.findall(r'\bnonce="([^"]+)"', html))
    assert used == set(nonces)
    for tag in re.findall(r"<script\b[^>]*>", html):
        if "src=" not in tag:
            assert nonces and f'nonce="{nonces[0]}"' in tag, tag


def test_each_response_gets_a_fresh_nonce(client, db):
    # The admin login page uses the nonce (for its stylesheet), so the header carries one.
    first = csp_directives(client.get("/en/admin/login/"))["script-src"]
    second = csp_directives(client.get("/en/admin/login/"))["script-src"]
    assert any("nonce-" in value for value in first)
    assert first != second


@pytest.mark.parametrize("url", [*PAGES, "/healthz"])
def test_pages_forbid_framing_and_sniffing_and_limit_the_referrer(client, db, url):
    response = client.get(url)
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_every_response_carries_a_permissions_policy(client, db, settings):
    from tests.events.conftest import make_event

    settings.EVENT_PAGE_CACHE_SECONDS = 300
    event = make_event()
    urls = [*PAGES, "/healthz", f"/en/events/{event.slug}/", "/en/no-such-page/"]
    urls.append(f"/en/events/{event.slug}/")  # now a hit, served by the page-cache middleware
    for url in urls:
        policy = client.get(url)["Permissions-Policy"]
        for feature in ["camera", "microphone", "geolocation", "payment"]:
            assert f"{feature}=()" in policy, url
