import hashlib
import time

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from config.http import client_ip
from events.models import Event
from registration import invitations, services, verification
from registration.availability import State, event_availability
from registration.forms import InvitationForm, ManageForm, RegistrationForm

RATE_WINDOW_SECONDS = 600
LONG_TEXT_FIELDS = (
    "summary",
    "description",
    "expected_outcomes",
    "translations",
    "meeting_details",
)


def _public_events():
    return Event.objects.exclude(status=Event.Status.DRAFT)


# The sign-up's read of the event, built once: each POST only clones it with its slug.
_LOCKED_EVENT = (
    # Long texts are only needed to re-render the form after an error.
    _public_events().select_for_update().defer(*LONG_TEXT_FIELDS)
)


def _over_code_attempts(ip, *, count):
    """True once this address gave settings.REGISTRATION_CODE_ATTEMPTS wrong access codes in
    10 minutes; `count=True` counts one more wrong code."""
    window = int(time.time() // RATE_WINDOW_SECONDS)
    key = f"registration:codes:{hashlib.sha256(ip.encode()).hexdigest()[:24]}:{window}"
    if count:
        if not cache.add(key, 1, RATE_WINDOW_SECONDS):
            cache.incr(key)
        return False
    return (cache.get(key) or 0) >= settings.REGISTRATION_CODE_ATTEMPTS


def _over_rate_limit(ip):
    """Counts this submission; True past settings.REGISTRATION_RATE_LIMIT per 10 minutes."""
    window = int(time.time() // RATE_WINDOW_SECONDS)
    key = f"registration:rate:{hashlib.sha256(ip.encode()).hexdigest()[:24]}:{window}"
    # incr first: the common case (not the first submission in this window) then costs no
    # add() round trip.
    try:
        count = cache.incr(key)
    except ValueError:  # the first submission from this address in this window
        count = 1 if cache.add(key, 1, RATE_WINDOW_SECONDS) else cache.incr(key)
    return count > settings.REGISTRATION_RATE_LIMIT


def _unavailable(request, event, reason, *, status=200):
    if reason == State.BY_INVITATION:
        # A page of its own: who to ask (the organisers' address), not "try later". A refused
        # sign-up (a POST) is a 403; nothing was stored either way.
        status = 403 if request.method == "POST" else status
        return render(request, "registration/by_invitation.html", {"event": event}, status=status)
    return render(
        request,
        "registration/unavailable.html",
        {"event": event, "reason": reason, "message": services.Unavailable.MESSAGES[reason]},
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
def register(request: HttpRequest, slug: str) -> HttpResponse:
    if request.method == "POST":
        return _register_post(request, slug)
    event = get_object_or_404(_public_events(), slug=slug)
    found = event_availability(event)
    if not found.accepts_newcomers:
        return _unavailable(request, event, found.state)
    context = {
        "event": event,
        "form": RegistrationForm(event=event),
        "seats_left": found.seats_left,
    }
    return render(request, "registration/register.html", context)


def _register_post(request, slug):
    if _over_rate_limit(client_ip(request)):
        response = render(request, "registration/rate_limited.html", status=429)
        response["Retry-After"] = str(RATE_WINDOW_SECONDS)
        return response
    if request.POST.get("website", "").strip():
        # The honeypot was filled: a bot gets the page a person would, and nothing is stored.
        return redirect("registration:check_email", slug=slug)

    unavailable = None
    # One transaction, one read of the event: the row is locked here and register() is told
    # so, instead of loading it a second time.
    with transaction.atomic():
        event = get_object_or_404(_LOCKED_EVENT, slug=slug)
        form = RegistrationForm(request.POST, event=event)
        guarded = event.registration_mode == Event.RegistrationMode.CODE
        if guarded and _over_code_attempts(client_ip(request), count=False):
            response = render(request, "registration/rate_limited.html", status=429)
            response["Retry-After"] = str(RATE_WINDOW_SECONDS)
            return response
        if form.is_valid():
            try:
                # No manage link here: this page shows none, and the confirmation email
                # carries a fresh one of its own.
                services.register(
                    event=event,
                    data=form.cleaned_data,
                    locked=True,
                    issue_token=False,
                )
            except services.Unavailable as exc:
                unavailable = exc.reason  # rolled back as the block exits
            except services.AccessCodeRefused as exc:
                # Nothing was written; the same words for a wrong code and a used-up one.
                _over_code_attempts(client_ip(request), count=True)
                form.add_error("access_code", exc.message)
    if unavailable:
        return _unavailable(request, event, unavailable)
    if form.is_valid():
        # New or duplicate: the same redirect and the same page, so nobody can learn from it
        # whether an address is registered.
        return redirect("registration:check_email", slug=slug)
    context = {"event": event, "form": form, "seats_left": None}
    return render(request, "registration/register.html", context)


# The page after every sign-up shows the event's title and links to its page: only those
# columns are read (the long texts and their translations' JSON cost more to decode).
_CHECK_EMAIL_EVENT = _public_events().only("pk", "slug", "title", "translations")


def check_email(request, slug):
    event = get_object_or_404(_CHECK_EMAIL_EVENT, slug=slug)
    return render(request, "registration/check_email.html", {"event": event})


def _registration_or_404(token):
    registration = services.registration_for_token(token)
    if registration is None:
        raise Http404
    return registration


# Name and email behind a personal link: no browser, proxy or shared cache keeps a copy.
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def manage(request, token):
    registration = _registration_or_404(token)
    # An invitation's link is a manage link: it registers the invitee until they have.
    if registration.status == registration.Status.INVITED:
        return _invitation(request, registration)
    if registration.status == registration.Status.REVOKED:
        return _invitation_withdrawn(request, registration)
    event = registration.event
    editable = registration.status != registration.Status.CANCELLED
    form = None
    if editable:
        # Every field the form shows starts from what is stored (services.update_details
        # saves each of them).
        initial = {name: getattr(registration, name) for name in ManageForm.base_fields}
        form = ManageForm(
            request.POST or None, event=event, initial=initial, answers=registration.answers
        )
        if request.method == "POST" and form.is_valid():
            services.update_details(registration=registration, data=form.cleaned_data)
            messages.success(request, _("Your details have been saved."))
            return redirect("registration:manage", token=token)
    context = {"registration": registration, "event": event, "form": form, "token": token}
    return render(request, "registration/manage.html", context)


def _invitation(request, registration):
    """The invitee's one-step registration: their address locked, the rest of the form."""
    event = registration.event
    found = event_availability(event, invited=True)
    if not found.accepts_newcomers:
        return _unavailable(request, event, found.state)
    form = InvitationForm(request.POST or None, invitation=registration)
    if request.method == "POST" and form.is_valid():
        try:
            invitations.accept_invitation(registration=registration, data=form.cleaned_data)
        except services.Unavailable as exc:
            return _unavailable(request, event, exc.reason)
        except invitations.InvitationWithdrawn:
            return _invitation_withdrawn(request, registration)
        except services.NotAllowed:
            pass  # accepted in another tab meanwhile: the manage page shows the registration
        else:
            messages.success(request, _("Thank you: you are registered."))
        return redirect(request.path)
    context = {
        "registration": registration,
        "event": event,
        "form": form,
        "seats_left": found.seats_left,
    }
    return render(request, "registration/invitation.html", context)


def _invitation_withdrawn(request, registration):
    context = {"registration": registration, "event": registration.event}
    return render(request, "registration/invitation_withdrawn.html", context, status=410)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def cancel(request, token):
    registration = _registration_or_404(token)
    if registration.status in (
        registration.Status.CANCELLED,
        registration.Status.INVITED,
        registration.Status.REVOKED,
    ):
        return redirect("registration:manage", token=token)
    if request.method == "POST":
        services.cancel(registration=registration)
        messages.success(request, _("Your registration has been cancelled."))
        return redirect("registration:manage", token=token)
    context = {"registration": registration, "event": registration.event, "token": token}
    return render(request, "registration/cancel.html", context)


# A GET only shows the button: mail scanners that open every link must not take the seat.
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def verify(request, token):
    registration = _registration_or_404(token)
    if request.method == "POST":
        try:
            verification.verify_email(registration=registration)
        except services.Unavailable as exc:
            return _unavailable(request, registration.event, exc.reason)
        if registration.status != registration.Status.CANCELLED:
            messages.success(request, _("Thank you: your email address is confirmed."))
        return redirect("registration:manage", token=token)
    if not verification.awaits_verification(registration) and not verification.expired_hold(
        registration
    ):
        return redirect("registration:manage", token=token)
    context = {"registration": registration, "event": registration.event, "token": token}
    return render(request, "registration/verify.html", context)


def privacy(request):
    return render(
        request,
        "registration/privacy.html",
        {"retention_days": settings.PERSONAL_DATA_RETENTION_DAYS},
    )
