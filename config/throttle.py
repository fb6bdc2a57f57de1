"""Organiser login throttling: repeated failed admin logins are refused for a while.

Every attempt counts against the (username, IP address) pair, the IP address alone and the
username alone (across addresses: a guess spread over many addresses), in the cache (Redis in
production, so every web worker sees the same counts). An attempt is counted *before* its
password is checked, with the cache's atomic add + incr: of 30 parallel guesses exactly as
many as the limit are checked, never more. Past a limit the login page answers 429 with "too
many attempts, try again in N minutes" — even for the right password, or guessing would simply
continue. A refused attempt gives back its count to the limits it was still under, and a
successful login clears its pair's count and gives back its own.

The window starts at the first attempt and lasts WINDOW seconds. Its end is kept beside the
count (the cache drops both then; the clock is compared too, so a clock moved by tests or a
cache that keeps keys longer end the window on time).
"""

import contextlib
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

# Attempts allowed per (username, IP), per IP and per username within WINDOW seconds.
FAILURES_PER_USER_AND_IP = 5
FAILURES_PER_IP = 20
FAILURES_PER_USER = 30
WINDOW = 15 * 60


def _digest(text):
    # Hashed: usernames are user input and cache keys must be short and printable.
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _limits(username, ip):
    """(cache key, limit) for each count this attempt is held to; the pair's first."""
    username = username.strip().lower()
    return (
        (f"login-fail:user-ip:{_digest(f'{username}\0{ip}')}", FAILURES_PER_USER_AND_IP),
        (f"login-fail:ip:{_digest(ip)}", FAILURES_PER_IP),
        (f"login-fail:user:{_digest(username)}", FAILURES_PER_USER),
    )


def _count(key, now):
    """Count one attempt under `key` atomically; (attempts in this window, its end)."""
    if cache.add(f"{key}:until", now + WINDOW, WINDOW):
        until = now + WINDOW
    else:
        until = cache.get(f"{key}:until", now + WINDOW)
    cache.add(f"{key}:count", 0, WINDOW)
    try:
        return cache.incr(f"{key}:count"), until
    except ValueError:  # expired between the two calls: this attempt opens the next window
        cache.add(f"{key}:count", 1, WINDOW)
        return 1, until


def _give_back(key):
    with contextlib.suppress(ValueError):  # the window ended meanwhile
        cache.decr(f"{key}:count")


def _count_attempt(limits):
    """Count this attempt against every limit; seconds until the caller may try again (0:
    allowed now, and the attempt may be checked)."""
    now = time.time()
    ended = [
        key
        for key, until in cache.get_many([f"{key}:until" for key, _limit in limits]).items()
        if until <= now
    ]
    if ended:  # windows the cache has not dropped yet
        cache.delete_many([*ended, *(key.replace(":until", ":count") for key in ended)])
    counted = [(key, limit, *_count(key, now)) for key, limit in limits]
    wait = max((until - now for _key, limit, count, until in counted if count > limit), default=0)
    if wait > 0:
        for key, limit, count, _until in counted:
            if count <= limit:
                _give_back(key)
    return max(0, math.ceil(wait))


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
    """admin.site.login, refusing with 429 while the (username, IP) pair, the IP or the
    username is over its limit."""
    if request.method != "POST":
        return admin.site.login(request, extra_context)
    username = request.POST.get("username", "")[:150]
    limits = _limits(username, client_ip(request))
    seconds = _count_attempt(limits)
    if seconds:
        return _too_many_attempts(request, username, seconds)
    response = admin.site.login(request, extra_context)
    if response.status_code == 302:  # LoginView redirects only after a successful login
        (pair, _limit), *others = limits
        cache.delete_many([f"{pair}:until", f"{pair}:count"])
        for key, _limit in others:
            _give_back(key)
    return response
