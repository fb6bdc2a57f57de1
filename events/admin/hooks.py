"""Extension points of the events admin for the apps above events (which events must not import):

- `event_admin_panels`: callables `(request, event) -> safe HTML`, each rendered as a panel
  on the event's change page (registration counts, meeting-link delivery status, ...).
  Append to it from your AppConfig.ready().
- `register_event_action(func)`: add an admin action (a normal `@admin.action` function
  `(modeladmin, request, queryset)`) to the event changelist.
- `event_admin_inlines`: inline admin classes shown on the event's change page after the
  agenda and documents (registration questions, ...).
- `change_notice_counters`: callables `(*, event) -> int`, called right after a change of a
  published event's time or meeting link was saved: how many people its notices will email
  (the organiser is told the sum).
"""

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest

from events.models import Event

event_admin_panels: list[Callable[[HttpRequest, Event], str]] = []
event_admin_inlines: list[type[Any]] = []
change_notice_counters: list[Callable[..., int]] = []
_extra_actions: list[Callable[..., Any]] = []


def register_event_action[F: Callable[..., Any]](func: F) -> F:
    """Add an admin action to the Event changelist; returns func, so it works as a decorator."""
    if func not in _extra_actions:
        _extra_actions.append(func)
    return func
