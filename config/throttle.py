"""Organiser login throttling: repeated failed admin logins are refused for a while.

A failure counts against the (username, IP address) pair and against the IP address alone,
in the cache (Redis in production, so every web worker sees the same counts). Past the limit
the login page answers 429 with "too many attempts, try again in N minutes" — even for the
right password, or guessing would simply continue. Other users and other addresses are not
affected, and a successful login clears its pair's count.
"""

import hashlib
import math
import time

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.cache import cache
from django.forms.utils import ErrorDict
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from config.http import client_ip

# Failures allowed per (username, IP) and per IP within WINDOW seconds.
FAILURES_PER_USER_AND_IP = 5
FAILURES_PER_IP = 20
WINDOW = 15 * 60


def _keys(username, ip):
    # Hashed: usernames are user input and cache keys must be short and printable.
    pair = hashlib.sha256(f"{username.strip().lower()}\0{ip}".encode()).hexdigest()[:32]
    return (
        (f"login-fail:user-ip:{pair}", FAILURES_PER_USER_AND_IP),
        (f"login-fail:ip:{hashlib.sha256(ip.encode()).hexdigest()[:32]}", FAILURES_PER_IP),
    )


def _seconds_blocked(keys):
    """Seconds until the caller may try again; 0 when not blocked."""
    counts = cache.get_many([key for key, _ in keys])
    wait = 0
    for key, limit in keys:
        entry = counts.get(key)
        if entry and entry["count"] >= limit:
            wait = max(wait, entry["until"] - time.time())
    return max(0, math.ceil(wait))


def _record_failure(keys):
    now = time.time()
    for key, _limit in keys:
        # The window starts at the first failure; later failures do not extend it. A lost
        # update between two concurrent failures undercounts by one, which is harmless.
        entry = cache.get(key)
        if not entry or entry["until"] <= now:
            entry = {"count": 0, "until": now + WINDOW}
        entry["count"] += 1
        cache.set(key, entry, timeout=max(1, math.ceil(entry["until"] - now)))


def _too_many_attempts(request, username, seconds):
    minutes = max(1, math.ceil(seconds / 60))
    message = ngettext(
        "Too many failed login attempts. Try again in %(minutes)d minute.",
        "Too many failed login attempts. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}
    form = AdminAuthenticationForm(request, initial={"username": username})
    form._errors, form.cleaned_data = ErrorDict(), {}
    form.add_error(None, message)
    context = {
        **admin.site.each_context(request),
        "title": _("Log in"),
        "subtitle": None,
        "app_path": request.get_full_path(),
        "form": form,
        "next": request.POST.get("next", ""),
    }
    response = TemplateResponse(request, "admin/login.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response


def admin_login(request, extra_context=None):
    """admin.site.login, refusing with 429 while the (username, IP) pair or the IP is blocked."""
    if request.method != "POST":
        return admin.site.login(request, extra_context)
    username = request.POST.get("username", "")[:150]
    keys = _keys(username, client_ip(request))
    seconds = _seconds_blocked(keys)
    if seconds:
        return _too_many_attempts(request, username, seconds)
    response = admin.site.login(request, extra_context)
    if response.status_code == 302:  # LoginView redirects only after a successful login
        cache.delete(keys[0][0])
    else:
        _record_failure(keys)
    return response
