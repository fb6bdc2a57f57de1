"""Whose address the per-IP limits count behind reverse proxies (config/http.py client_ip):
with DJANGO_BEHIND_PROXY the DJANGO_PROXY_HOPS-th X-Forwarded-For entry from the right, which
no client can forge; without it, the proxy's own address, shared by everyone behind it."""

import pytest
from django.test import RequestFactory

from config.http import client_ip
from tests.registration.conftest import form_post

PROXY = "10.0.0.2"  # the proxy next to the app: REMOTE_ADDR of every request


def register_url(event):
    return f"/en/events/{event.slug}/register/"


@pytest.fixture
def behind_proxies(settings):
    def configure(hops):
        settings.BEHIND_PROXY = True
        settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
        settings.PROXY_HOPS = hops
        settings.REGISTRATION_RATE_LIMIT = 2

    return configure


def post(client, event, n, forwarded):
    return client.post(
        register_url(event), form_post(n), REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded
    )


def test_two_clients_behind_two_proxies_are_counted_apart(client, event, behind_proxies):
    # A CDN, then a load balancer: each appends the address it was connected from.
    behind_proxies(hops=2)
    for n in range(2):
        assert post(client, event, n, "198.51.100.7, 10.0.0.1").status_code == 302
    assert post(client, event, 2, "198.51.100.7, 10.0.0.1").status_code == 429
    # Another visitor through the same two proxies still gets in.
    assert post(client, event, 3, "203.0.113.9, 10.0.0.1").status_code == 302


def test_a_forged_x_forwarded_for_entry_does_not_escape_the_limit(client, event, behind_proxies):
    behind_proxies(hops=2)
    for n in range(2):
        assert post(client, event, n, f"192.0.2.{n}, 198.51.100.7, 10.0.0.1").status_code == 302
    forged = post(client, event, 2, "192.0.2.200, 198.51.100.7, 10.0.0.1")
    assert forged.status_code == 429


def test_without_the_flag_everyone_behind_a_proxy_shares_its_limit(client, event, settings):
    settings.REGISTRATION_RATE_LIMIT = 2
    for n in range(2):
        assert post(client, event, n, "198.51.100.7").status_code == 302
    # A different person, but the same proxy address: refused.
    assert post(client, event, 2, "203.0.113.9").status_code == 429


@pytest.mark.parametrize(
    ("hops", "forwarded", "expected"),
    [
        (1, "192.0.2.1, 198.51.100.7", "198.51.100.7"),
        (2, "192.0.2.1, 198.51.100.7, 10.0.0.1", "198.51.100.7"),
        (3, "198.51.100.7, 10.0.0.1", "198.51.100.7"),  # shorter than the hops: its first
        (1, " 198.51.100.7 ,", "198.51.100.7"),
        (1, "", PROXY),
    ],
)
def test_client_ip_is_the_hop_th_entry_from_the_right(settings, hops, forwarded, expected):
    settings.BEHIND_PROXY = True
    settings.PROXY_HOPS = hops
    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected
