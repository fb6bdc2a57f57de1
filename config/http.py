from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address, for the per-IP limits on the registration form and the organiser
    login.

    Without DJANGO_BEHIND_PROXY: the connection's address (behind a proxy that is the proxy's,
    shared by every client). With it: each of our DJANGO_PROXY_HOPS proxies appended the
    address it was connected from to X-Forwarded-For, so the client is the hop-th entry from
    the right; entries further left were written by the client and prove nothing. A header
    shorter than that (a request that did not pass every proxy) gives its first entry.
    """
    if settings.BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        addresses = [address.strip() for address in forwarded.split(",") if address.strip()]
        if addresses:
            return addresses[max(len(addresses) - settings.PROXY_HOPS, 0)]
    return request.META.get("REMOTE_ADDR", "")
