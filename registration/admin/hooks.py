"""Extension point for the apps above registration (which registration must not import):

- `register_registration_action(func)`: add an admin action (a normal `@admin.action`
  function `(modeladmin, request, queryset)`) to the registration list. Call it from your
  AppConfig.ready().
"""

from collections.abc import Callable
from typing import Any

_extra_actions: list[Callable[..., Any]] = []


def register_registration_action[F: Callable[..., Any]](func: F) -> F:
    """Add an admin action to the registration list; returns func (works as a decorator)."""
    if func not in _extra_actions:
        _extra_actions.append(func)
    return func
