from django.conf import settings


def client_ip(request):
    """The client's address; behind our own proxy, the one it appended to X-Forwarded-For.

    Used for the per-IP limits on the registration form and the organiser login."""
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")
