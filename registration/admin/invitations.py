"""Invitations in the admin (invitation-only events, registration.invitations): the "Invite
people" page of an event, the registration list's filter of invitations by state, and its
actions to send an invitation again or withdraw it."""

from django.contrib import admin, messages
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from events import access, audit
from events.models import AuditEntry
from registration import invitations
from registration.admin.actions import _apply
from registration.admin.people import PeopleForm
from registration.models import Registration

Status = Registration.Status


class InvitePeopleForm(PeopleForm):
    """The people to invite (registration.invitations.invite)."""


def invite_people_view(modeladmin, request, event_id):
    """Invites a list of people to an invitation-only event. Only for the event's managers:
    any other event answers 404."""
    event = access.events_for(request.user, manage=True).filter(pk=event_id).first()
    if event is None:
        raise Http404
    form = InvitePeopleForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            done = invitations.invite(event=event, people=form.cleaned_data["parsed"])
        except invitations.InvitationRefused as error:
            form.add_error(None, error.message)
        else:
            _report(modeladmin, request, done)
            changelist = reverse("admin:registration_registration_changelist")
            return redirect(f"{changelist}?event__id__exact={event.pk}&invitation=invited")
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": gettext("Invite people to %(event)s") % {"event": event.title},
        "event": event,
        "form": form,
        "opts": modeladmin.model._meta,
        "invitation_only": event.registration_mode == event.RegistrationMode.INVITATION,
    }
    return TemplateResponse(request, "admin/registration/invite_people.html", context)


def _report(modeladmin, request, done):
    sent = len(done.invited) + len(done.restored)
    modeladmin.message_user(
        request,
        ngettext(
            "%(count)d invitation sent.",
            "%(count)d invitations sent.",
            sent,
        )
        % {"count": sent},
        messages.SUCCESS,
    )
    if done.already_invited:
        modeladmin.message_user(
            request,
            gettext("Invited already, not sent again: %(emails)s")
            % {"emails": ", ".join(done.already_invited)},
            messages.WARNING,
        )
    if done.already_registered:
        modeladmin.message_user(
            request,
            gettext("Registered already, left as they were: %(emails)s")
            % {"emails": ", ".join(done.already_registered)},
            messages.WARNING,
        )


class InvitationFilter(admin.SimpleListFilter):
    """Where each invitation stands: waiting, accepted (a registration now), withdrawn."""

    title = _("invitation")
    parameter_name = "invitation"

    def lookups(self, request, model_admin):
        return [
            ("invited", _("Invited, not registered yet")),
            ("registered", _("Registered through their invitation")),
            ("revoked", _("Invitation withdrawn")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "invited":
            return queryset.filter(status=Status.INVITED)
        if value == "revoked":
            return queryset.filter(status=Status.REVOKED)
        if value == "registered":
            return queryset.filter(invited_at__isnull=False).exclude(
                status__in=[Status.INVITED, Status.REVOKED]
            )
        return queryset


@admin.action(description=_("Send the invitation again"), permissions=["change"])
def resend_invitations(modeladmin, request, queryset):
    audit.record_per_event(
        queryset, user=request.user, action=AuditEntry.Action.RESENT, what=gettext("invitation")
    )
    _apply(
        request,
        queryset,
        lambda registration: invitations.resend_invitation(registration=registration),
        done_message=lambda n: ngettext(
            "%(count)d invitation queued.", "%(count)d invitations queued.", n
        ),
    )


@admin.action(description=_("Withdraw the invitation"), permissions=["change"])
def revoke_invitations(modeladmin, request, queryset):
    _apply(
        request,
        queryset,
        lambda registration: invitations.revoke_invitation(registration=registration),
        done_message=lambda n: ngettext(
            "%(count)d invitation withdrawn.", "%(count)d invitations withdrawn.", n
        ),
    )
