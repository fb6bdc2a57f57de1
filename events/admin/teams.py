"""The admin of organising teams (site administrators manage all; a team's managers manage its
members and invite organisers) and of the per-event audit log (read-only)."""

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from events import access, organisers
from events.admin.hooks import event_admin_panels
from events.models import AuditEntry, Membership, Team


def managed_teams(user):
    """The teams the user is a manager of."""
    return Team.objects.filter(
        memberships__user_id=user.pk, memberships__role=Membership.Role.MANAGER
    ).order_by("name", "pk")


class MembershipInline(admin.TabularInline):
    """The members of a team and their roles. New members come through "Invite an
    organiser" (which emails them); removing one ends their access at once."""

    model = Membership
    extra = 0
    fields = ["user", "email", "role", "created_at"]
    readonly_fields = ["user", "email", "created_at"]

    @admin.display(description=_("email address"))
    def email(self, obj):
        return obj.user.email

    def has_view_permission(self, request, obj=None):
        return access.can_manage_team(request.user, obj) or access.is_site_admin(request.user)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return access.can_manage_team(request.user, obj)

    def has_delete_permission(self, request, obj=None):
        return access.can_manage_team(request.user, obj)


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email address"))
    role = forms.ChoiceField(
        label=_("Role"), choices=Membership.Role.choices, initial=Membership.Role.MANAGER
    )


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "member_count"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if access.is_site_admin(request.user):
            return queryset
        return queryset.filter(memberships__user_id=request.user.pk).distinct()

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404
        return obj

    @admin.display(description=_("members"))
    def member_count(self, obj):
        return obj.memberships.count()

    def has_module_permission(self, request):
        return access.is_organiser(request.user)

    def has_view_permission(self, request, obj=None):
        return access.rules.has_perm("events.view_team", request.user, obj)

    def has_add_permission(self, request):
        return access.is_site_admin(request.user)

    def has_change_permission(self, request, obj=None):
        return access.can_manage_team(request.user, obj)

    def has_delete_permission(self, request, obj=None):
        return access.is_site_admin(request.user)

    def get_readonly_fields(self, request, obj=None):
        # A team's managers manage its members; its name and address are the site's.
        return [] if access.is_site_admin(request.user) else ["name", "slug"]

    def get_prepopulated_fields(self, request, obj=None):
        return self.prepopulated_fields if access.is_site_admin(request.user) else {}

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for membership in formset.deleted_objects:
            organisers.remove_member(membership=membership)
        for membership in instances:
            membership.save()

    def delete_model(self, request, obj):
        self.delete_queryset(request, Team.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        # Each member is removed as from the team page: signed out if left in no team.
        for membership in Membership.objects.filter(team__in=queryset).select_related("user"):
            organisers.remove_member(membership=membership)
        super().delete_queryset(request, queryset)

    def get_urls(self):
        invite = self.admin_site.admin_view(self.invite_view)
        return [
            path("<path:object_id>/invite/", invite, name="events_team_invite"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        team = self.get_object(request, object_id)
        if access.can_manage_team(request.user, team):
            extra_context["invite_url"] = reverse("admin:events_team_invite", args=[team.pk])
        return super().change_view(request, object_id, form_url, extra_context)

    def invite_view(self, request, object_id):
        """A team's managers (and site administrators) invite an organiser by email."""
        team = self.get_object(request, object_id)
        if not access.can_manage_team(request.user, team):
            raise Http404
        form = InviteForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            with transaction.atomic():
                membership = organisers.add_organiser(
                    email=form.cleaned_data["email"],
                    team_slug=team.slug,
                    role=form.cleaned_data["role"],
                    language=translation.get_language(),
                    invited_by=request.user,
                )
            self.message_user(
                request,
                gettext("%(email)s is now %(role)s of %(team)s; the invitation is on its way.")
                % {
                    "email": membership.user.email,
                    "role": membership.get_role_display(),
                    "team": team,
                },
                messages.SUCCESS,
            )
            return redirect(reverse("admin:events_team_change", args=[team.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Invite an organiser to %(team)s") % {"team": team},
            "opts": self.model._meta,
            "original": team,
            "form": form,
        }
        return TemplateResponse(request, "admin/events/team/invite.html", context)


@admin.register(AuditEntry)
class AuditEntryAdmin(access.EventScopedAdmin, admin.ModelAdmin):
    """Who exported, viewed a registrant, sent or resent messages or changed the time or link
    of an event: read by the event's managers and site administrators."""

    list_display = ("created_at", "event", "actor", "action", "detail")
    list_filter = [("event", access.ScopedEventFilter), "action"]
    list_select_related = ["event"]
    search_fields = ["actor", "detail"]
    date_hierarchy = "created_at"
    fields = readonly_fields = ("created_at", "event", "actor", "action", "detail")

    def get_queryset(self, request):
        # The managers' events only (viewers do not read who did what).
        queryset = super(access.EventScopedAdmin, self).get_queryset(request)
        return access.scope(queryset, request.user, event_path="event", manage=True)

    def has_module_permission(self, request):
        return access.is_manager(request.user)

    def has_view_permission(self, request, obj=None):
        return access.rules.has_perm("events.view_auditentry", request.user, self.event_of(obj))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


AUDIT_PANEL_ROWS = 10


def audit_panel(request, event):
    """The latest lines of the event's audit log, on its page (managers and site admins)."""
    if not access.rules.has_perm("events.view_auditentry", request.user, event):
        return ""
    changelist = reverse("admin:events_auditentry_changelist")
    return render_to_string(
        "admin/events/audit_panel.html",
        {
            "event": event,
            "entries": list(event.audit_entries.all()[:AUDIT_PANEL_ROWS]),
            "log_url": f"{changelist}?event__id__exact={event.pk}",
        },
        request=request,
    )


event_admin_panels.append(audit_panel)
