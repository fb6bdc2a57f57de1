"""The public event page's cache.

A flash crowd reads one page many times while registrations change one number on it. So the
page is cached in two parts with different lifetimes:

- the rendered page (agenda, documents, description: the expensive part) per
  (slug, language), stamped with the event's `updated_at`. It only changes when an organiser
  edits the event, so it lives long (settings.EVENT_PAGE_CACHE_SECONDS);
- a registration *snapshot* per event: the few fields and the confirmed count that decide
  "open / not yet open / closed / full / cancelled" and the seats left, read in ONE query
  and kept a few seconds (STATUS_SECONDS). The status block is rendered from it on every
  request (small, memoised) and put into the cached page where a marker stands.

The registration app calls `bump_event(event_id)` after a registration changes state, so
seats left are exact on the next request; edits of the event bump it too, and the snapshot
then carries the new `updated_at`, which no longer matches the cached page's stamp: the page
is rendered once more. A burst of registrations therefore costs one cheap query per
registration, never a re-render, and no cached page is thrown away by it. Edits made behind
the admin's back (a shell) show within STATUS_SECONDS, because the snapshot expires.

Hits are served by `EventPageCacheMiddleware` (events/middleware.py) before sessions, CSRF
and URL resolution: the cheapest path Django has. Only requests without a session or
messages cookie use it (their page has no per-person content); everyone else gets the view.
"""

import functools

from django.conf import settings
from django.core.cache import cache
from django.db.models import Case, Count, IntegerField, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.middleware.csp import get_nonce
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation

from events.models import Event

STATUS_MARKER = "<!--convene:registration-status-->"
NONCE_MARKER = "__convene_csp_nonce__"
STATUS_SECONDS = 30

# slug -> event id, so that a hit reads the page and the snapshot in one cache round trip.
# A stale entry only costs a second round trip: the page entry carries the id and wins.
_slug_ids: dict[str, int] = {}


class RegistrationState:
    """What the status block says. Derived, never stored."""

    OPEN = "open"
    NOT_YET_OPEN = "not_yet_open"
    CLOSED = "closed"
    FULL = "full"  # no seats; a waiting list is open if the event has one
    CANCELLED = "cancelled"


def page_seconds():
    return getattr(settings, "EVENT_PAGE_CACHE_SECONDS", 300)


def _page_key(slug, language):
    return f"events:page:{slug}:{language}"


def _snapshot_key(event_id):
    return f"events:snapshot:{event_id}"


def _stamp(updated_at):
    return updated_at.isoformat()


def bump_event(event_id):
    """Forget the registration snapshot of an event: the next page view re-reads seats left
    and status, and re-renders the page if the event was edited. Cheap; call it after commit.
    """
    cache.delete(_snapshot_key(event_id))


SNAPSHOT_FIELDS = [
    "id",
    "status",
    "updated_at",
    "starts_at",
    "ends_at",
    "capacity",
    "waitlist_enabled",
    "registration_opens_at",
    "registration_closes_at",
]


@functools.cache
def _seats_taken():
    # The registration app sits above events: reach its model through the relation. Built
    # once: annotate() copies the expression when it resolves it.
    registration = Event._meta.get_field("registrations").related_model
    taken = (
        registration._base_manager.filter(event=OuterRef("pk"), status="confirmed")
        .order_by()
        .values("event")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Case(
        When(capacity__isnull=True, then=Value(None)),
        default=Coalesce(Subquery(taken), 0),
        output_field=IntegerField(),
    )


def with_confirmed_count(queryset):
    """Annotate events with `confirmed`, the seats taken (counted in the same query).

    A subquery, not a join + GROUP BY over the whole event row; and only for events with a
    capacity (None otherwise): seats are counted to say how many are left, and an unlimited
    event has no such number, so its page does not count thousands of rows on every view.
    """
    return queryset.annotate(confirmed=_seats_taken())


def _from_row(row):
    row["stamp"] = _stamp(row.pop("updated_at"))
    return row


def snapshot_of(event):
    """The snapshot of an Event fetched through with_confirmed_count(), kept for the next
    requests (a bump between its read and now can leave it stale for STATUS_SECONDS)."""
    data = _from_row({name: getattr(event, name) for name in [*SNAPSHOT_FIELDS, "confirmed"]})
    if page_seconds() > 0:
        cache.set(_snapshot_key(event.pk), data, STATUS_SECONDS)
    return data


def _read_snapshot(event_id):
    row = (
        with_confirmed_count(Event.objects.filter(pk=event_id))
        .values(*SNAPSHOT_FIELDS, "confirmed")
        .first()
    )
    return None if row is None else _from_row(row)


def snapshot(event_id):
    """The registration facts of an event, at most STATUS_SECONDS old (None: no such event)."""
    if page_seconds() <= 0:
        return _read_snapshot(event_id)
    key = _snapshot_key(event_id)
    data = cache.get(key)
    if data is None:
        data = _read_snapshot(event_id)
        if data is not None:
            cache.set(key, data, STATUS_SECONDS)
    return data


def registration_state(data, now=None):
    """(state, seats_left) from a snapshot; seats_left is None when capacity is unlimited."""
    now = now or timezone.now()
    seats_left = None
    if data["capacity"] is not None:
        seats_left = max(data["capacity"] - data["confirmed"], 0)
    if data["status"] == Event.Status.CANCELLED:
        return RegistrationState.CANCELLED, seats_left
    closes_at = data["registration_closes_at"] or data["starts_at"]
    if data["registration_opens_at"] and now < data["registration_opens_at"]:
        return RegistrationState.NOT_YET_OPEN, seats_left
    if now >= closes_at:
        return RegistrationState.CLOSED, seats_left
    if seats_left == 0:
        return RegistrationState.FULL, seats_left
    return RegistrationState.OPEN, seats_left


def event_registration_state(event, now=None):
    """(state, seats_left) for an Event, through its snapshot (the same numbers the page shows)."""
    data = snapshot(event.pk)
    return registration_state(data, now) if data else (RegistrationState.CLOSED, None)


@functools.lru_cache(maxsize=512)
def _status_html(language, state, seats_left, capacity, waitlist, opens_at, slug):
    with translation.override(language):
        try:
            register_url = reverse("registration:register", kwargs={"slug": slug})
        except NoReverseMatch:  # the registration app is not installed (yet)
            register_url = ""
        return render_to_string(
            "events/_registration_status.html",
            {
                "state": state,
                "seats_left": seats_left,
                "capacity": capacity,
                "waitlist": waitlist,
                "opens_at": opens_at,
                "register_url": register_url,
            },
        )


def status_html(data, *, slug, language, tz_name, now=None):
    """The rendered status block for a snapshot (memoised: it has few distinct values)."""
    state, seats_left = registration_state(data, now)
    opens_at = ""
    if state == RegistrationState.NOT_YET_OPEN:
        opens_at = data["registration_opens_at"].isoformat() + "|" + tz_name
    return _status_html(
        language, state, seats_left, data["capacity"], data["waitlist_enabled"], opens_at, slug
    )


def cacheable(request):
    """Anonymous, cookie-less GETs without a query string: the same page for everyone."""
    return (
        page_seconds() > 0
        and request.method == "GET"
        and not request.GET
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
    )


def store_page(request, *, event, language, html, tz_name):
    """Keep a rendered page (with STATUS_MARKER in place of the status block)."""
    nonce = get_nonce(request)
    if nonce:  # generated while rendering: hits put their own request's nonce there
        html = html.replace(str(nonce), NONCE_MARKER)
    _slug_ids[event.slug] = event.pk
    cache.set(
        _page_key(event.slug, language),
        {"id": event.pk, "stamp": _stamp(event.updated_at), "html": html, "tz": tz_name},
        page_seconds(),
    )


def finish_page(request, html, data, *, slug, language, tz_name):
    """Put the status block and this request's CSP nonce into a page."""
    html = html.replace(
        STATUS_MARKER, status_html(data, slug=slug, language=language, tz_name=tz_name)
    )
    if NONCE_MARKER in html:
        html = html.replace(NONCE_MARKER, str(get_nonce(request)))
    return html


def cached_page(request, *, slug, language):
    """The finished page HTML from the cache, or None (a miss: the view renders it)."""
    page_key = _page_key(slug, language)
    event_id = _slug_ids.get(slug)
    if event_id is not None:
        found = cache.get_many([page_key, _snapshot_key(event_id)])
        page, data = found.get(page_key), found.get(_snapshot_key(event_id))
    else:
        page, data = cache.get(page_key), None
    if page is None:
        return None
    if page["id"] != event_id:
        _slug_ids[slug] = page["id"]
        data = None
    if data is None:
        data = snapshot(page["id"])
    if data is None or data["stamp"] != page["stamp"] or data["status"] == Event.Status.DRAFT:
        return None
    return finish_page(
        request, page["html"], data, slug=slug, language=language, tz_name=page["tz"]
    )
