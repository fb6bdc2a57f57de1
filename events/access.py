"""Who may see or change which event: the one scoping rule, and the admin's way of asking it.

An event belongs to one or more teams. A member of one of them sees the event, its
registrations and deliveries; a *manager* may also change them, send messages and read the
event's audit log; a *viewer* reads and exports only. Site administrators (superusers) see and change everything.
Nobody else sees anything: another team's objects do not exist for them (404, never 403, which
would confirm that they do).

The rules are `rules` predicates registered as permissions ("events.change_event", ...), so
each reads as one line below; `events_for()` is the same rule as a queryset filter. The admin
asks both through `EventScopedAdmin` (a mixin for every ModelAdmin whose rows belong to an
event) and `EventScopedInline`; the apps above events (registration, notifications) import them.
"""

import functools

import rules
from django.contrib import admin
from django.db.models import QuerySet
from django.http import Http404

from events.models import Event, Membership, Team

Role = Membership.Role
EventTeam = Event.teams.through


# --- The rule -------------------------------------------------------------------------------


def is_site_admin(user) -> bool:
    return bool(user.is_active and user.is_superuser)


def _memberships(user, roles=None):
    memberships = Membership.objects.filter(user_id=user.pk)
    return memberships.filter(role__in=roles) if roles else memberships


def event_ids_for(user, *, manage: bool = False) -> QuerySet:
    """A subquery of the ids of the events `user` organises (manages, with manage=True).
    Not for site administrators: they are not narrowed at all."""
    roles = [Role.MANAGER] if manage else None
    return EventTeam.objects.filter(team_id__in=_memberships(user, roles).values("team_id")).values(
        "event_id"
    )


def events_for(user, *, manage: bool = False) -> QuerySet:
    """The events `user` may see (with manage=True: change). The one scoping rule."""
    if not (user.is_authenticated and user.is_active):
        return Event.objects.none()
    if is_site_admin(user):
        return Event.objects.all()
    return Event.objects.filter(pk__in=event_ids_for(user, manage=manage))


def scope(queryset: QuerySet, user, *, event_path: str, manage: bool = False) -> QuerySet:
    """`queryset` narrowed to rows of events `user` may see (change); `event_path` leads from
    its model to the event ("" for Event itself, "event" for a registration)."""
    if not (user.is_authenticated and user.is_active):
        return queryset.none()
    if is_site_admin(user):
        return queryset
    lookup = f"{event_path}_id__in" if event_path else "pk__in"
    return queryset.filter(**{lookup: event_ids_for(user, manage=manage)})


def is_organiser(user) -> bool:
    """A site administrator, or a member of at least one team."""
    if not (user.is_authenticated and user.is_active):
        return False
    return is_site_admin(user) or _memberships(user).exists()


def is_manager(user) -> bool:
    if not (user.is_authenticated and user.is_active):
        return False
    return is_site_admin(user) or _memberships(user, [Role.MANAGER]).exists()


def _role_for_event(user, event) -> str | None:
    """The strongest role `user` has on `event` (None: not an organiser of it)."""
    if not (user.is_authenticated and user.is_active) or event is None or event.pk is None:
        return None
    roles = set(
        _memberships(user)
        .filter(team_id__in=EventTeam.objects.filter(event_id=event.pk).values("team_id"))
        .values_list("role", flat=True)
    )
    if Role.MANAGER in roles:
        return Role.MANAGER
    return Role.VIEWER if roles else None


@rules.predicate
def site_admin(user):
    return is_site_admin(user)


@rules.predicate
def organises(user, event):
    """Member of one of the event's teams (no event: of any team, for list pages)."""
    return is_organiser(user) if event is None else _role_for_event(user, event) is not None


@rules.predicate
def manages(user, event):
    """Manager in one of the event's teams (no event: in any team, for list pages)."""
    return is_manager(user) if event is None else _role_for_event(user, event) == Role.MANAGER


@rules.predicate
def manages_team(user, team):
    if team is None:
        return is_manager(user)
    return _memberships(user, [Role.MANAGER]).filter(team_id=team.pk).exists()


@rules.predicate
def member_of_team(user, team):
    if team is None:
        return is_organiser(user)
    return _memberships(user).filter(team_id=team.pk).exists()


# Permissions on events (and, through `scope_model`, on whatever belongs to an event).
rules.add_perm("events.view_event", site_admin | organises)
rules.add_perm("events.add_event", site_admin | manages)
rules.add_perm("events.change_event", site_admin | manages)
rules.add_perm("events.delete_event", site_admin | manages)
rules.add_perm("events.view_team", site_admin | member_of_team)
rules.add_perm("events.change_team", site_admin | manages_team)
rules.add_perm("events.add_team", site_admin)
rules.add_perm("events.delete_team", site_admin)
# The audit log: the team's managers and site administrators.
rules.add_perm("events.view_auditentry", site_admin | manages)


def can_view(user, event: Event | None) -> bool:
    return rules.has_perm("events.view_event", user, event)


def can_change(user, event: Event | None) -> bool:
    return rules.has_perm("events.change_event", user, event)


def can_manage_team(user, team: Team | None) -> bool:
    return rules.has_perm("events.change_team", user, team)


# --- The admin asks it ----------------------------------------------------------------------


class EventScopedAdmin:
    """For a ModelAdmin whose rows belong to an event: every queryset (list, change, history,
    delete, actions, autocomplete, popups, filters) holds only the user's events' rows, an
    object outside them answers 404, and only a manager of the row's event changes it."""

    event_path = "event"  # from the model to its Event; "" for Event itself

    def event_of(self, obj) -> Event | None:
        if obj is None:
            return None
        for name in filter(None, self.event_path.split("__")):
            obj = getattr(obj, name)
        return obj

    def get_queryset(self, request):
        return scope(super().get_queryset(request), request.user, event_path=self.event_path)

    def get_object(self, request, object_id, from_field=None):
        # Django redirects to the index ("... doesn't exist") when this returns None: that
        # would tell another team that the id exists elsewhere. Not found is not found.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404
        return obj

    def has_module_permission(self, request):
        return is_organiser(request.user)

    def has_view_permission(self, request, obj=None):
        return can_view(request.user, self.event_of(obj))

    def has_add_permission(self, request):
        return rules.has_perm("events.add_event", request.user)

    def has_change_permission(self, request, obj=None):
        return can_change(request.user, self.event_of(obj))

    def has_delete_permission(self, request, obj=None):
        return rules.has_perm("events.delete_event", request.user, self.event_of(obj))

    def get_actions(self, request, action_location=admin.ActionLocation.CHANGE_LIST):
        # An action that changes or sends applies to the selected rows of events the user
        # manages only: a viewer in one team and manager in another cannot act on the first.
        actions = super().get_actions(request, action_location=action_location)
        for action in actions.values():
            if set(getattr(action.func, "allowed_permissions", ())) - {"view"}:
                action.func = self._managed_only(action.func)
        return actions

    def _managed_only(self, func):
        @functools.wraps(func)
        def narrowed(modeladmin, request, queryset):
            managed = scope(queryset, request.user, event_path=self.event_path, manage=True)
            return func(modeladmin, request, managed)

        return narrowed


class EventScopedInline:
    """For an inline on the event's page: read by its organisers, changed by its managers."""

    def has_view_permission(self, request, obj=None):
        return can_view(request.user, obj)

    def has_add_permission(self, request, obj=None):
        return can_change(request.user, obj)

    def has_change_permission(self, request, obj=None):
        return can_change(request.user, obj)

    def has_delete_permission(self, request, obj=None):
        return can_change(request.user, obj)


class ScopedEventFilter(admin.RelatedFieldListFilter):
    """The "by event" filter, listing only the events the user may see."""

    def field_choices(self, field, request, model_admin):
        return [(event.pk, str(event)) for event in events_for(request.user).order_by("title")]
