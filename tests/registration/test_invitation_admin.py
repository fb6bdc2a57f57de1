"""Invitations in the admin (issue 18): "Invite people" on an invitation-only event's page,
only for its own managers; the registration list shows where each invitation stands and can
send one again or withdraw it."""

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from events.models import Event, Membership, Team
from notifications.models import Delivery
from registration import invitations
from registration.models import Registration
from tests.security.test_teams import client_for, make_event, member

pytestmark = pytest.mark.django_db(transaction=True)

Status = Registration.Status
CHANGELIST = "/en/admin/registration/registration/"


@pytest.fixture
def teams(db):
    team_a = Team.objects.create(slug="team-a", name="Team A")
    team_b = Team.objects.create(slug="team-b", name="Team B")
    event = make_event("by-invitation", team_a, registration_mode=Event.RegistrationMode.INVITATION)
    return {
        "event": event,
        "manager_a": member(team_a, "manager.a@example.org"),
        "viewer_a": member(team_a, "viewer.a@example.org", Membership.Role.VIEWER),
        "manager_b": member(team_b, "manager.b@example.org"),
    }


def invite_url(event):
    return reverse("admin:registration_registration_invite_people", args=[event.pk])


def test_a_manager_invites_pasted_and_uploaded_people(teams):
    event = teams["event"]
    client = client_for(teams["manager_a"])
    page = client.get(f"/en/admin/events/event/{event.pk}/change/").content.decode()
    assert invite_url(event) in page and "Invite people" in page
    upload = SimpleUploadedFile(
        "invitees.csv", b"email,name,language\nli.wei@example.org,Li Wei,zh-hans\n"
    )

    response = client.post(
        invite_url(event),
        {"people": "Ana.Ruiz@Example.org, Ana Ruiz, es", "file": upload},
        follow=True,
    )

    html = response.content.decode()
    assert "2 invitations sent." in html
    assert "Invited, not registered yet" in html and "ana.ruiz@example.org" in html
    assert sorted(m.to[0] for m in mail.outbox) == ["ana.ruiz@example.org", "li.wei@example.org"]
    again = client.post(invite_url(event), {"people": "ana.ruiz@example.org,Ana"}, follow=True)
    assert "Invited already, not sent again: ana.ruiz@example.org" in again.content.decode()
    assert len(mail.outbox) == 2


@pytest.mark.parametrize("who", ["manager_b", "viewer_a"])
def test_others_cannot_invite_to_the_event(teams, who):
    event = teams["event"]
    client = client_for(teams[who])

    assert client.get(invite_url(event)).status_code == 404
    assert client.post(invite_url(event), {"people": "x@example.org,X"}).status_code == 404
    assert not Registration.objects.exists() and mail.outbox == []


def test_an_event_not_by_invitation_says_what_to_change(teams):
    event = teams["event"]
    event.registration_mode = Event.RegistrationMode.OPEN
    event.save()
    client = client_for(teams["manager_a"])

    page = client.get(invite_url(event)).content.decode()
    response = client.post(invite_url(event), {"people": "x@example.org,X"})

    assert "This event is not invitation-only" in page
    assert (
        "Invite people"
        not in client.get(f"/en/admin/events/event/{event.pk}/change/")
        .content.decode()
        .split("Registrations by status")[1]
        .split("Sign-ups")[0]
    )
    assert "registration mode to “By invitation only”" in response.content.decode()
    assert not Registration.objects.exists()


def test_the_list_resends_and_withdraws_invitations_and_filters_them(teams):
    event = teams["event"]
    done = invitations.invite(
        event=event,
        people=[
            {"email": "ana@example.org", "name": "Ana Ruiz", "language": "es"},
            {"email": "li@example.org", "name": "Li Wei", "language": "zh-hans"},
            {"email": "omar@example.org", "name": "Omar Haddad", "language": "ar"},
        ],
    )
    ana, li, omar = done.invited
    invitations.accept_invitation(
        registration=omar, data={"name": "Omar Haddad", "consent": True, "affiliation": "other"}
    )
    client = client_for(teams["manager_a"])

    client.post(CHANGELIST, {"action": "resend_invitations", "_selected_action": [ana.pk]})
    response = client.post(
        CHANGELIST,
        {"action": "revoke_invitations", "_selected_action": [li.pk, omar.pk]},
        follow=True,
    )

    versions = Delivery.objects.filter(registration=ana, kind=Delivery.Kind.INVITATION)
    assert sorted(versions.values_list("version", flat=True)) == [0, 1]
    html = response.content.decode()
    assert "1 invitation withdrawn." in html
    assert "Only invitations not accepted yet can be withdrawn" in html
    statuses = dict(Registration.objects.values_list("email", "status"))
    assert statuses == {
        "ana@example.org": Status.INVITED,
        "li@example.org": Status.REVOKED,
        "omar@example.org": Status.CONFIRMED,
    }

    def listed(state):
        page = client.get(f"{CHANGELIST}?invitation={state}").content.decode()
        return {email for email in statuses if email in page}

    assert listed("invited") == {"ana@example.org"}
    assert listed("registered") == {"omar@example.org"}
    assert listed("revoked") == {"li@example.org"}


def test_the_panel_counts_invitations_apart_from_registrations(teams):
    event = teams["event"]
    invitations.invite(event=event, people=[{"email": "ana@example.org", "name": "Ana"}])
    client = client_for(teams["manager_a"])

    page = client.get(f"/en/admin/events/event/{event.pk}/change/").content.decode()

    assert "Invited, not registered yet" in page
    assert "See the 0 registration" in page or "See all 0 registrations" in page
