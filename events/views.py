import functools

from django.conf import settings
from django.contrib.auth.views import PasswordResetCompleteView, PasswordResetConfirmView
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse_lazy
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_safe

from events import access, ics
from events import cache as event_cache
from events.models import Document, Event
from events.organisers import invitation_tokens
from events.presentation import EventPage, agenda_values, document_rows

PUBLIC_STATUSES = [Event.Status.PUBLISHED, Event.Status.CANCELLED]

# What the event page reads of the event row: never the meeting link (it is secret anyway)
# nor the long texts no page shows.
PAGE_FIELDS = [
    "slug",
    "title",
    "summary",
    "description",
    "expected_outcomes",
    "translations",
    "organiser",
    "timezone",
    "format",
    "venue",
    "interpretation_languages",
    *event_cache.SNAPSHOT_FIELDS,
]


@functools.cache
def _page_events():
    """The event page's read of the event, built once: each view only clones it with its
    slug (README, "Speed code": the uncached page builds its querysets once per process)."""
    return event_cache.with_registration_counts(Event.objects.only(*PAGE_FIELDS))


def _visible_event(request, slug, queryset=None):
    """A published or cancelled event; drafts only for its organisers (the preview), else 404."""
    event = get_object_or_404(queryset if queryset is not None else Event.objects, slug=slug)
    if event.status not in PUBLIC_STATUSES and not access.can_view(request.user, event):
        raise Http404("No such event.")
    return event


@require_safe
def event_list(request):
    events = Event.objects.filter(status__in=PUBLIC_STATUSES, ends_at__gte=timezone.now())
    return render(
        request,
        "events/event_list.html",
        {"events": [EventPage(event) for event in events], "past": False},
    )


@require_safe
def past_events(request):
    events = Event.objects.filter(status__in=PUBLIC_STATUSES, ends_at__lt=timezone.now()).order_by(
        "-starts_at"
    )
    return render(
        request,
        "events/event_list.html",
        {"events": [EventPage(event) for event in events], "past": True},
    )


@require_safe
def event_detail(request, slug):
    """The public event page, in three queries however long the agenda (the event with its
    seats taken, the agenda with its speakers, the documents). Anonymous visitors mostly get
    the cached page (events/cache.py), from the middleware or from here."""
    language = translation.get_language()
    cacheable = event_cache.cacheable(request)
    if cacheable and not getattr(request, "event_page_cache_missed", False):
        html = event_cache.cached_page(request, slug=slug, language=language)
        if html is not None:
            return HttpResponse(html)
    event = _visible_event(request, slug, _page_events())
    page = EventPage(event, agenda=agenda_values(event.pk), documents=document_rows(event))
    html = render_to_string(
        "events/event_detail.html",
        {"page": page, "event": event, "status_marker": event_cache.STATUS_MARKER},
        request=request,
    )
    data = event_cache.snapshot_of(event)
    if cacheable and event.status in PUBLIC_STATUSES and data["stamp"] == page.stamp:
        event_cache.store_page(
            request, event=event, language=language, html=html, tz_name=event.timezone
        )
    html = event_cache.finish_page(
        request, html, data, slug=event.slug, language=language, tz_name=event.timezone
    )
    return HttpResponse(html)


@require_safe
def event_calendar(request, slug):
    """The public .ics (METHOD:PUBLISH; a cancelled event stays PUBLISH with
    STATUS:CANCELLED): the event's UID, never the meeting link."""
    event = _visible_event(request, slug)
    body = ics.build_calendar(
        event=event,
        sequence=event.sequence,
        method="PUBLISH",
        cancelled=event.status == Event.Status.CANCELLED,
        url=settings.SITE_URL + event.get_absolute_url(),
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{event.slug}.ics"'
    return response


@require_safe
def event_document(request, slug, pk):
    """A document of a public event, through the app (so it works without a media server)."""
    event = _visible_event(request, slug)
    document = get_object_or_404(Document, pk=pk, event=event)
    try:
        handle = document.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is missing.") from None
    response = FileResponse(
        handle,
        as_attachment=document.content_type != "application/pdf",
        filename=document.download_name,
        content_type=document.content_type or "application/octet-stream",
    )
    return response


class OrganiserWelcomeView(PasswordResetConfirmView):
    """The invitation link: sets the new organiser's password once (events.organisers)."""

    token_generator = invitation_tokens
    template_name = "registration/organiser_welcome.html"
    success_url = reverse_lazy("organiser_welcome_done")
    reset_url_token = "set-password"  # noqa: S105 (a URL segment, not a secret)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = (
            gettext("Choose your password")
            if context.get("validlink")
            else gettext("This link no longer works")
        )
        return context


class OrganiserWelcomeDoneView(PasswordResetCompleteView):
    template_name = "registration/organiser_welcome_done.html"
    title = gettext_lazy("Your password is set")
