"""The public event page's cache.

A flash crowd reads one page many times while registrations change one number on it. So the
page is cached in two parts with different lifetimes:

- the rendered page (agenda, documents, description: the expensive part) per
  (slug, language), stamped with the event's `updated_at`. It only changes when an organiser
  edits the event, so it lives long (settings.EVENT_PAGE_CACHE_SECONDS);
- a registration *snapshot* per event: the few fields and the counts that decide
  "open / not yet open / closed / full / cancelled" and the seats left, read in ONE query
  and kept a few seconds (STATUS_SECONDS). The status block is rendered from it on every
  request (small, memoised) and put into the cached page where a marker stands.

The registration app sits above events and owns that rule: it registers it here with
`set_registration_rule()` from its AppConfig.ready() (the counts to annotate the snapshot's
query with, and the function that reads the state from a snapshot). Without a rule the page
has no status block.

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
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet
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


class Availability(Protocol):
    """What the registration rule says of a snapshot (registration.availability.Availability)."""

    # Read-only, so that the rule's own types (a str enum for the state) satisfy it.
    @property
    def state(self) -> str: ...  # open / not_yet_open / closed / full / cancelled

    @property
    def seats_left(self) -> int | None: ...

    @property
    def waitlist(self) -> bool: ...

    @property
    def opens_at(self) -> datetime | None: ...


class RegistrationRule(NamedTuple):
    # () -> {name: expression}: the counts added to the snapshot's query (Event.annotate()).
    annotations: Callable[[], dict[str, Any]]
    # (snapshot, *, now) -> Availability: the state of registration and the seats left.
    availability: Callable[..., Availability]
    # The names annotations() returns, read once.
    count_names: tuple[str, ...]


_rule: RegistrationRule | None = None
# Part of the snapshot's cache key: a snapshot cached with other counts (an older release,
# another rule) is never read as one of ours.
_snapshot_kind = "none"


def set_registration_rule(
    *,
    annotations: Callable[[], dict[str, Any]],
    availability: Callable[..., Availability],
) -> None:
    """The registration app's rule for the status block (called from its AppConfig.ready())."""
    global _rule, _snapshot_kind
    names = tuple(annotations())
    _rule = RegistrationRule(annotations, availability, names)
    _snapshot_kind = ",".join(names) or "none"


def page_seconds():
    return getattr(settings, "EVENT_PAGE_CACHE_SECONDS", 300)


def _page_key(slug, language):
    return f"events:page:{slug}:{language}"


def _snapshot_key(event_id):
    return f"events:snapshot:{_snapshot_kind}:{event_id}"


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
    "registration_mode",
]


def with_registration_counts(queryset: QuerySet[Event]) -> QuerySet[Event]:
    """Annotate events with the counts the registration rule needs (seats taken), counted in
    the same query; nothing without a rule."""
    if _rule is None:
        return queryset
    return queryset.annotate(**_rule.annotations())


def _count_names() -> tuple[str, ...]:
    return () if _rule is None else _rule.count_names


def _from_row(row):
    row["stamp"] = _stamp(row.pop("updated_at"))
    return row


def snapshot_of(event: Event) -> dict[str, Any]:
    """The snapshot of an Event fetched through with_registration_counts(), kept for the next
    requests (a bump between its read and now can leave it stale for STATUS_SECONDS)."""
    data = _from_row({name: getattr(event, name) for name in [*SNAPSHOT_FIELDS, *_count_names()]})
    if page_seconds() > 0:
        cache.set(_snapshot_key(event.pk), data, STATUS_SECONDS)
    return data


def _read_snapshot(event_id):
    row = (
        with_registration_counts(Event.objects.filter(pk=event_id))
        .values(*SNAPSHOT_FIELDS, *_count_names())
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


def registration_availability(
    data: Mapping[str, Any], now: datetime | None = None
) -> Availability | None:
    """What the registration rule says of a snapshot (None: no rule, no status block)."""
    if _rule is None:
        return None
    return _rule.availability(data, now=now or timezone.now())


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


def status_html(
    data: Mapping[str, Any],
    *,
    slug: str,
    language: str,
    tz_name: str,
    now: datetime | None = None,
) -> str:
    """The rendered status block for a snapshot (memoised: it has few distinct values)."""
    found = registration_availability(data, now)
    if found is None:
        return ""
    opens_at = ""
    if found.opens_at is not None:
        opens_at = found.opens_at.isoformat() + "|" + tz_name
    return _status_html(
        language, found.state, found.seats_left, data["capacity"], found.waitlist, opens_at, slug
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
