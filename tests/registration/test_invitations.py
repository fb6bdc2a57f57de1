"""Invitation-only events (issue 18): the organisers invite people, each registers in one
step through the personal link of their invitation email, nobody else can register, and an
invitation can be sent again or withdrawn."""

import re
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from events.models import Event
from notifications.models import Delivery
from registration import invitations, services
from registration.availability import State, event_availability
from registration.models import Registration
from tests.conftest import BrowserClient as Client
from tests.registration.conftest import form_post

pytestmark = pytest.mark.django_db(transaction=True)

Status = Registration.Status
Kind = Delivery.Kind
LINK = re.compile(r"https?://\S+?(/[a-z-]+/r/[A-Za-z0-9_-]{43}/)")
GUESTS = [
    {"email": "Ana.Ruiz@Example.org", "name": "Ana Ruiz", "language": "es"},
    {"email": "li.wei@example.org", "name": "Li Wei", "language": "zh-hans"},
]


@pytest.fixture
def invitation_event(make_event):
    return make_event(
        slug="by-invitation",
        capacity=1,
        waitlist_enabled=True,
        registration_mode=Event.RegistrationMode.INVITATION,
        contact_email="side-events@example.org",
    )


def invitation_link(address):
    """The personal link of the last invitation emailed to `address`, checked in both
    parts, as a path."""
    messages = [m for m in mail.outbox if m.to == [address]]
    assert messages, f"no email to {address}"
    message = messages[-1]
    found = LINK.search(message.body)
    assert found, message.body
    html = next(body for body, kind in message.alternatives if kind == "text/html")
    assert found.group(0) in html
    return found.group(1)


def test_each_person_gets_one_invitation_in_their_language(invitation_event):
    done = invitations.invite(event=invitation_event, people=GUESTS)

    assert [r.email for r in done.invited] == ["ana.ruiz@example.org", "li.wei@example.org"]
    rows = Registration.objects.filter(event=invitation_event).order_by("email")
    assert [(r.status, r.preferred_language, r.consent_at) for r in rows] == [
        (Status.INVITED, "es", None),
        (Status.INVITED, "zh-hans", None),
    ]
    subjects = {m.to[0]: m.subject for m in mail.outbox}
    assert subjects == {
        "ana.ruiz@example.org": f"Está invitado/a: {invitation_event.title}",
        "li.wei@example.org": f"诚邀您参加\uff1a{invitation_event.title}",
    }
    assert invitation_link("ana.ruiz@example.org").startswith("/es/r/")


def test_inviting_twice_keeps_one_row_and_sends_nothing_more(invitation_event):
    invitations.invite(event=invitation_event, people=GUESTS)
    again = invitations.invite(event=invitation_event, people=GUESTS[:1])

    assert again.invited == [] and again.already_invited == ["ana.ruiz@example.org"]
    assert Registration.objects.filter(event=invitation_event).count() == 2
    assert len(mail.outbox) == 2


def test_invitations_take_no_seat_and_are_no_registrants(invitation_event):
    invitations.invite(event=invitation_event, people=GUESTS)

    found = event_availability(invitation_event, invited=True)
    assert found.seats_left == 1  # the capacity is 1: two invitations take none of it
    assert found.state == State.OPEN


def test_the_link_registers_the_invitee_in_one_step(invitation_event):
    invitations.invite(event=invitation_event, people=GUESTS[:1])
    path = invitation_link("ana.ruiz@example.org")
    client = Client()

    page = client.get(path).content.decode()
    assert 'value="ana.ruiz@example.org"' in page and "disabled" in page
    assert 'value="Ana Ruiz"' in page  # the name the organiser gave, to correct if need be
    response = client.post(path, {**accept_data(), "email": "someone.else@example.org"})

    assert response.status_code == 302 and response["Location"] == path
    row = Registration.objects.get(event=invitation_event)
    assert (row.email, row.status, row.name) == ("ana.ruiz@example.org", Status.CONFIRMED, "Ana")
    assert row.email_verified_at is not None and row.consent_at is not None
    assert not Registration.objects.filter(email="someone.else@example.org").exists()
    confirmation = mail.outbox[-1]
    assert confirmation.to == ["ana.ruiz@example.org"]
    assert confirmation.subject.startswith("Inscripción confirmada")
    manage = client.get(path).content.decode()  # the same link now manages the registration
    assert "Cancel my registration" in manage or "Cancelar mi inscripción" in manage


def accept_data(**overrides):
    data = form_post(1, **{"name": "Ana", "preferred_language": "es", **overrides})
    data.pop("website")
    return data


def test_an_invitee_past_the_capacity_joins_the_waiting_list(invitation_event):
    invitations.invite(event=invitation_event, people=GUESTS)
    Client().post(invitation_link("ana.ruiz@example.org"), accept_data())
    Client().post(
        invitation_link("li.wei@example.org"), accept_data(name="Li", preferred_language="en")
    )

    statuses = dict(Registration.objects.values_list("email", "status"))
    assert statuses == {
        "ana.ruiz@example.org": Status.CONFIRMED,
        "li.wei@example.org": Status.WAITLISTED,
    }
    assert mail.outbox[-1].to == ["li.wei@example.org"]
    assert mail.outbox[-1].subject.startswith("You are on the waiting list")


def test_the_public_form_says_by_invitation_and_refuses_a_sign_up(invitation_event):
    invitations.invite(event=invitation_event, people=GUESTS[:1])
    client = Client()

    page = client.get(f"/en/events/{invitation_event.slug}/register/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "This event is by invitation" in html and 'name="email"' not in html
    assert "mailto:side-events@example.org" in html
    uninvited = client.post(
        f"/en/events/{invitation_event.slug}/register/", form_post(7, email="uninvited@example.org")
    )
    invited = client.post(
        f"/en/events/{invitation_event.slug}/register/", form_post(8, email="ana.ruiz@example.org")
    )

    assert uninvited.status_code == 403 and invited.status_code == 403
    assert "This event is by invitation" in uninvited.content.decode()
    assert not Registration.objects.filter(email="uninvited@example.org").exists()
    assert Registration.objects.get(email="ana.ruiz@example.org").status == Status.INVITED
    assert len(mail.outbox) == 1  # the invitation only
    with pytest.raises(services.Unavailable):
        services.register(event=invitation_event, data=form_post(9, consent=True))


def test_the_event_page_says_by_invitation(invitation_event):
    html = Client().get(f"/en/events/{invitation_event.slug}/").content.decode()

    assert "Registration is by invitation only" in html
    assert f"/events/{invitation_event.slug}/register/" not in html


def test_a_resent_invitation_is_a_new_version_and_both_links_work(invitation_event):
    invitations.invite(event=invitation_event, people=GUESTS[:1])
    first = invitation_link("ana.ruiz@example.org")
    row = Registration.objects.get()

    invitations.resend_invitation(registration=row)

    second = invitation_link("ana.ruiz@example.org")
    versions = Delivery.objects.filter(registration=row, kind=Kind.INVITATION)
    assert sorted(versions.values_list("version", "status")) == [(0, "sent"), (1, "sent")]
    assert first != second
    assert Client().get(first).status_code == Client().get(second).status_code == 200


def test_a_withdrawn_invitation_is_refused_and_not_sent(invitation_event):
    invitations.invite(event=invitation_event, people=GUESTS[:1])
    path = invitation_link("ana.ruiz@example.org")
    row = Registration.objects.get()

    invitations.revoke_invitation(registration=row)
    invitations.revoke_invitation(registration=row)  # twice: the same

    page = Client().get(path)
    assert page.status_code == 410
    assert "This invitation was withdrawn" in page.content.decode() or "retirada" in (
        page.content.decode()
    )
    posted = Client().post(path, accept_data())
    assert posted.status_code == 410
    row.refresh_from_db()
    assert row.status == Status.REVOKED and row.revoked_at is not None
    assert len(mail.outbox) == 1  # nobody is told
    with pytest.raises(services.NotAllowed):
        invitations.resend_invitation(registration=row)
    # Inviting the address again restores the invitation: a new email, the old link works.
    again = invitations.invite(event=invitation_event, people=GUESTS[:1])
    assert again.restored == [row]
    assert len(mail.outbox) == 2
    assert Client().get(path).status_code == 200


def test_an_invitation_queued_but_withdrawn_before_sending_is_skipped(invitation_event, request):
    # The send task goes to the broker, where no worker takes it: nothing sent yet. (The
    # Celery app's own setting: Django's is read once, by whichever test loads the app first.)
    from config.celery import app as celery_app

    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    request.addfinalizer(lambda: setattr(celery_app.conf, "task_always_eager", eager))
    from notifications.services import send_deliveries

    invitations.invite(event=invitation_event, people=GUESTS[:1])
    row = Registration.objects.get()
    invitations.revoke_invitation(registration=row)

    delivery = Delivery.objects.get(registration=row)
    send_deliveries(ids=[delivery.pk])

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SKIPPED
    assert mail.outbox == []


def test_an_accepted_invitation_cannot_be_withdrawn(invitation_event):
    invitations.invite(event=invitation_event, people=GUESTS[:1])
    Client().post(invitation_link("ana.ruiz@example.org"), accept_data())

    with pytest.raises(services.NotAllowed):
        invitations.revoke_invitation(registration=Registration.objects.get())


def test_garbage_and_unknown_links_are_not_found(invitation_event):
    client = Client()
    assert client.get("/en/r/not-a-token/").status_code == 404
    assert client.get(f"/en/r/{'A' * 43}/").status_code == 404


def test_an_invitation_to_another_event_does_not_register_here(invitation_event, make_event):
    other = make_event(slug="other", registration_mode=Event.RegistrationMode.INVITATION)
    invitations.invite(event=other, people=GUESTS[:1])
    Client().post(invitation_link("ana.ruiz@example.org"), accept_data())

    assert not Registration.objects.filter(event=invitation_event).exists()
    assert Registration.objects.get(event=other).status == Status.CONFIRMED


def test_invitations_need_the_mode_and_an_open_event(make_event):
    open_event = make_event(slug="open")
    with pytest.raises(invitations.InvitationRefused):
        invitations.invite(event=open_event, people=GUESTS)
    draft = make_event(slug="draft", status=Event.Status.DRAFT, registration_mode="invitation")
    with pytest.raises(invitations.InvitationRefused):
        invitations.invite(event=draft, people=GUESTS)
    assert not Registration.objects.exists()


def test_a_registered_address_is_not_invited(invitation_event):
    invitations.invite(event=invitation_event, people=GUESTS[:1])
    Client().post(invitation_link("ana.ruiz@example.org"), accept_data())

    again = invitations.invite(event=invitation_event, people=GUESTS[:1])

    assert again.already_registered == ["ana.ruiz@example.org"]
    assert Registration.objects.get().status == Status.CONFIRMED


def test_the_command_invites_and_reports_every_line(invitation_event, tmp_path):
    invitations.invite(event=invitation_event, people=GUESTS[1:])
    csv = tmp_path / "invitees.csv"
    csv.write_text(
        "email,name,language\n"
        "ana.ruiz@example.org,Ana Ruiz,es\n"
        "li.wei@example.org,Li Wei,zh-hans\n"
        "not-an-address,Nobody\n"
        "omar@example.org,Omar Haddad,ar\n"
        "x@example.org,Someone,de\n",
        encoding="utf-8",
    )
    out = StringIO()

    call_command("invite", invitation_event.slug, str(csv), "--dry-run", stdout=out)
    assert "2 invitation(s) would be sent" in out.getvalue()
    assert Registration.objects.count() == 1 and len(mail.outbox) == 1

    out = StringIO()
    call_command("invite", invitation_event.slug, str(csv), stdout=out)
    lines = out.getvalue().splitlines()
    assert "invited             ana.ruiz@example.org" in lines
    assert "invited             omar@example.org" in lines
    assert "already invited     li.wei@example.org" in lines
    refused = [line for line in lines if line.startswith("refused")]
    assert len(refused) == 2 and "Line 4" in refused[0] and "Line 6" in refused[1]
    assert sorted(m.to[0] for m in mail.outbox[1:]) == ["ana.ruiz@example.org", "omar@example.org"]
    arabic = next(m for m in mail.outbox if m.to == ["omar@example.org"])
    assert 'dir="rtl"' in next(body for body, kind in arabic.alternatives if kind == "text/html")


def test_the_command_refuses_an_event_not_by_invitation(make_event, tmp_path):
    event = make_event(slug="open")
    csv = tmp_path / "invitees.csv"
    csv.write_text("ana@example.org,Ana\n", encoding="utf-8")
    with pytest.raises(CommandError, match="By invitation only"):
        call_command("invite", event.slug, str(csv), stdout=StringIO())
    with pytest.raises(CommandError, match="No event"):
        call_command("invite", "nope", str(csv), stdout=StringIO())


def test_an_organiser_adding_an_invitee_registers_the_invitation(invitation_event):
    from registration.access import add_registrants

    invitations.invite(event=invitation_event, people=GUESTS[:1])

    added = add_registrants(event=invitation_event, people=GUESTS[:1])

    row = Registration.objects.get()
    assert added.registrations == [row] and added.already == []
    assert row.status == Status.CONFIRMED and row.consent_at is not None
    assert mail.outbox[-1].subject.startswith("Inscripción confirmada")


def test_after_a_switch_to_open_an_invitee_using_the_form_gets_their_link_again(
    invitation_event,
):
    invitations.invite(event=invitation_event, people=GUESTS[:1])
    invitation_event.registration_mode = Event.RegistrationMode.OPEN
    invitation_event.save()

    response = Client().post(
        f"/en/events/{invitation_event.slug}/register/", form_post(1, email="ana.ruiz@example.org")
    )

    assert response.status_code == 302
    assert Registration.objects.get().status == Status.INVITED  # the link proves the address
    assert [m.subject.split(":")[0] for m in mail.outbox] == ["Está invitado/a"] * 2


def test_invitees_get_no_meeting_link_and_no_notice_of_a_cancelled_event(invitation_event):
    from events.services import cancel_event
    from notifications.services import queue_meeting_links

    invitations.invite(event=invitation_event, people=GUESTS)
    Client().post(invitation_link("ana.ruiz@example.org"), accept_data())
    li_link = "/en/" + invitation_link("li.wei@example.org").split("/", 2)[2]  # in English
    mail.outbox.clear()

    queue_meeting_links(event=invitation_event)
    cancel_event(event=invitation_event)

    assert {m.to[0] for m in mail.outbox} == {"ana.ruiz@example.org"}  # Li was only invited
    page = Client().get(li_link).content.decode()  # says why she cannot register
    assert "This event has been cancelled, so registration is closed." in page
    assert not Delivery.objects.filter(
        registration__email="li.wei@example.org", kind__in=[Kind.MEETING_LINK, "event_cancelled"]
    ).exists()


def test_the_one_step_form_asks_the_events_questions(invitation_event):
    from registration.models import Question

    Question.objects.create(
        event=invitation_event, key="delegation", label="Your delegation", required=True
    )
    invitations.invite(event=invitation_event, people=GUESTS[:1])
    path = invitation_link("ana.ruiz@example.org")

    missing = Client().post(path, accept_data())
    assert missing.status_code == 200 and "Your delegation" in missing.content.decode()
    assert Registration.objects.get().status == Status.INVITED
    Client().post(path, accept_data(q_delegation="Senegal"))

    row = Registration.objects.get()
    assert row.status == Status.CONFIRMED and row.answers == {"delegation": "Senegal"}
