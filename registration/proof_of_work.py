"""Proof of work on the registration form (ALTCHA), for an event under attack.

Off by default. settings.REGISTRATION_PROOF_OF_WORK turns it on for every event; a site
administrator can turn it on for one event (Event.proof_of_work). Then the form carries the
ALTCHA widget (served from static/vendor/altcha/: no third-party service, no cookie): the
browser fetches a signed challenge from challenge(), finds the number behind it (half of
REGISTRATION_PROOF_OF_WORK_MAXNUMBER SHA-256 hashes on average, in Web Workers) and posts the
solution with the form, where ProofOfWorkField checks it: signature, expiry
(CHALLENGE_LIFETIME) and single use.

Single use is kept in the cache: a solved challenge's salt is stored until the challenge
expires, and a second submission with it is refused. While Redis is unreachable the cache
answers as an empty one (config/cache.py), so a solution can then be replayed until it
expires: we fail open. The alternative, refusing every sign-up during a cache outage, would
turn a Redis hiccup into a registration outage for everyone, while a replay still needs a
solution less than CHALLENGE_LIFETIME old, signed by us, and passes the per-address
registration rate limit (which fails open the same way) and the honeypot like any other.
"""

import binascii
import hashlib
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Final

from altcha import ChallengeOptionsV1, PayloadV1, create_challenge_v1, verify_solution_v1
from django import forms
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, JsonResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils.crypto import salted_hmac
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from config.http import client_ip
from events.models import Event

ALGORITHM: Final = "SHA-256"
# Long enough to fill in the form after ticking the box; the widget fetches a new challenge
# by itself when one expires on an open page.
CHALLENGE_LIFETIME = timedelta(minutes=10)
# Challenges one address may fetch per window: a form load fetches one, an expiry another.
CHALLENGE_RATE_LIMIT = 60
RATE_WINDOW_SECONDS = 600
FIELD_NAME = "altcha"
FIELD_TEMPLATE = "registration/widgets/altcha_field.html"

MESSAGES = {
    "required": _(
        "Tick the box “I am not a robot” and wait until it says “Verified”, then send the "
        "form again. This check needs JavaScript."
    ),
    "expired": _(
        "The check expired before the form was sent. Tick the box again, wait until it says "
        "“Verified”, then send the form."
    ),
    "invalid": _(
        "The check could not be confirmed. Tick the box again, wait until it says "
        "“Verified”, then send the form."
    ),
}


def required_for(event: Event) -> bool:
    return settings.REGISTRATION_PROOF_OF_WORK or event.proof_of_work


def hmac_key() -> str:
    """settings.ALTCHA_HMAC_KEY, else a key derived from SECRET_KEY (never the secret key
    itself: a challenge signature must not help anyone forge a session or a token)."""
    if settings.ALTCHA_HMAC_KEY:
        return settings.ALTCHA_HMAC_KEY
    return salted_hmac(
        "convene.registration.proof_of_work", "altcha", algorithm="sha256"
    ).hexdigest()


def new_challenge(*, now: float | None = None) -> dict:
    expires = datetime.fromtimestamp(now or time.time(), tz=UTC) + CHALLENGE_LIFETIME
    challenge = create_challenge_v1(
        ChallengeOptionsV1(
            algorithm=ALGORITHM,
            max_number=settings.REGISTRATION_PROOF_OF_WORK_MAXNUMBER,
            hmac_key=hmac_key(),
            expires=expires,
        )
    )
    return challenge.to_dict()


def check(payload: str, *, now: float | None = None) -> str | None:
    """None when `payload` (the widget's base64 JSON) solves a challenge we signed, that has
    not expired and was not used before (it is then marked used); else the reason, a key of
    MESSAGES."""
    now = now or time.time()
    try:
        solution = PayloadV1.from_base64(payload)
        _nonce, expires, _params = solution.parse_salt()
    except (ValueError, TypeError, KeyError, AttributeError, binascii.Error):
        return "invalid"
    # Every challenge we sign carries its expiry inside the signed salt.
    if expires is None or solution.algorithm != ALGORITHM:
        return "invalid"
    ok, _error = verify_solution_v1(solution, hmac_key(), check_expires=False)
    if not ok:
        return "invalid"
    if expires < now:
        return "expired"
    digest = hashlib.sha256(solution.salt.encode()).hexdigest()[:32]
    # add() is atomic: of two submissions of one solution, one gets True. During a cache
    # outage add() answers True (the module docstring says why that is acceptable).
    if not cache.add(f"registration:pow:used:{digest}", 1, int(expires - now) + 1):
        return "invalid"
    return None


def _over_rate_limit(ip: str) -> bool:
    window = int(time.time() // RATE_WINDOW_SECONDS)
    key = f"registration:pow:challenges:{hashlib.sha256(ip.encode()).hexdigest()[:24]}:{window}"
    try:
        count = cache.incr(key)
    except ValueError:  # the first challenge for this address in this window
        count = 1 if cache.add(key, 1, RATE_WINDOW_SECONDS) else cache.incr(key)
    return count > CHALLENGE_RATE_LIMIT


@never_cache  # no-store: every challenge is fetched fresh and used once
@require_safe
def challenge(request: HttpRequest) -> JsonResponse:
    """The widget's challenge: JSON, no cookie read or set, limited per address."""
    if _over_rate_limit(client_ip(request)):
        response = JsonResponse({"error": "Too many requests"}, status=429)
        response["Retry-After"] = str(RATE_WINDOW_SECONDS)
        return response
    return JsonResponse(new_challenge())


def widget_strings() -> str:
    """The widget's labels in the active language, as its `strings` attribute takes them."""
    return json.dumps(
        {
            "label": gettext("I am not a robot"),
            "verifying": gettext("Verifying…"),
            "verified": gettext("Verified"),
            "waitAlert": gettext("Verifying… please wait."),
            "error": gettext("The check failed. Tick the box to try again."),
            "expired": gettext("The check expired. Tick the box to try again."),
            "verificationRequired": gettext("Tick the box “I am not a robot” first."),
        },
        ensure_ascii=False,
    )


class AltchaWidget(forms.Widget):
    """<altcha-widget>, which adds the hidden input named FIELD_NAME once solved. Its box
    carries the field's id, where the error summary's link leads, and is a group named and
    described by the field template's label and help (FIELD_TEMPLATE), so a screen reader
    says what the checkbox inside is for."""

    def render(self, name, value, attrs=None, renderer=None):
        box = self.build_attrs(self.attrs, attrs).get("id", "")
        return format_html(
            '<div id="{}" tabindex="-1" role="group" aria-labelledby="{}_label" '
            'aria-describedby="{}_helptext"><altcha-widget name="{}" challengeurl="{}" '
            'workerurl="{}" credentials="omit" auto="off" hidelogo hidefooter strings="{}">'
            "</altcha-widget></div>",
            box,
            box,
            box,
            name,
            reverse("registration:pow_challenge"),
            static("vendor/altcha/worker.js"),
            widget_strings(),
        )

    def value_from_datadict(self, data, files, name):
        return data.get(name, "")


class ProofOfWorkField(forms.CharField):
    """Checked with the other fields, under the event lock: a solution is used up by the
    submission that carries it, even one sent back for another field's error (the form comes
    back with a fresh widget anyway)."""

    widget = AltchaWidget

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Anti-spam check"))
        kwargs.setdefault("max_length", 4096)
        kwargs.setdefault("error_messages", {"required": MESSAGES["required"]})
        super().__init__(**kwargs)

    def validate(self, value):
        super().validate(value)
        reason = check(value)
        if reason is not None:
            raise forms.ValidationError(MESSAGES[reason], code=reason)
