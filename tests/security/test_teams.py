"""Organising teams: each event's registrants are seen only by that event's organisers.

Team A organises one event, team B another. Members of B request every admin URL of A's
event, its registrations and deliveries and must find none of A's registrant data; viewers
change nothing; removing a member signs them out; the audit log tells who exported and resent.
"""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from events import organisers
from events.models import AuditEntry, Event, Membership, Team
from notifications.models import Delivery
from registration import services
from registration.models import Registration
from tests.conftest import BrowserClient

# Registrant data of team A's event: finding any of it in a response to B is a leak.
CANARIES = ["Zebulon Quartzfield", "zebulon.quartz@canary.example", "Quartzfield Foundation"]
LANGUAGES = ["ar", "zh-hans", "en", "fr", "ru", "es"]

User = get_user_model()


def make_event(slug, team, **fields):
    starts_at = timezone.now() + timedelta(days=7)
    event = Event.objects.create(
        slug=slug,
        title=f"Event {slug}",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=90),
        status=Event.Status.PUBLISHED,
        meeting_url=f"https://meet.example.org/{slug}",
        **fields,
    )
    event.teams.add(team)
    return event


def person(name, email, organisation="Somewhere"):
    return {
        "name": name,
        "email": email,
        "organisation": organisation,
        "job_title": "Officer",
        "country": "SN",
        "affiliation": "cso_ngo",
        "preferred_language": "en",
        "interpretation_language": "en",
        "timezone": "Africa/Dakar",
        "consent": True,
    }


def member(team, email, role=Membership.Role.MANAGER):
    user = User.objects.create_user(username=email, email=email, password="x", is_staff=True)
    Membership.objects.create(team=team, user=user, role=role)
    return user


def client_for(user):
    client = BrowserClient()
    client.force_login(user)
    return client


def body(response):
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


@pytest.fixture
def world(db):
    team_a = Team.objects.create(slug="team-a", name="Team A")
    team_b = Team.objects.create(slug="team-b", name="Team B")
    event_a = make_event("event-a", team_a)
    event_b = make_event("event-b", team_b)
    registration_a = services.register(
        event=event_a, data=person(CANARIES[0], CANARIES[1], CANARIES[2])
    ).registration
    services.register(event=event_b, data=person("Bea Other", "bea@example.org"))
    delivery_a = Delivery.objects.get(registration=registration_a)
    return {
        "team_a": team_a,
        "team_b": team_b,
        "event_a": event_a,
        "event_b": event_b,
        "registration_a": registration_a,
        "delivery_a": delivery_a,
        "manager_a": member(team_a, "manager.a@example.org"),
        "viewer_a": member(team_a, "viewer.a@example.org", Membership.Role.VIEWER),
        "manager_b": member(team_b, "manager.b@example.org"),
        "viewer_b": member(team_b, "viewer.b@example.org", Membership.Role.VIEWER),
    }


def object_urls(w, lang):
    """Every admin URL naming one of team A's objects."""
    e, r, d, t = w["event_a"].pk, w["registration_a"].pk, w["delivery_a"].pk, w["team_a"].pk
    admin = f"/{lang}/admin"
    return [
        f"{admin}/events/event/{e}/change/",
        f"{admin}/events/event/{e}/history/",
        f"{admin}/events/event/{e}/delete/",
        f"{admin}/events/event/{e}/cancel/",
        f"{admin}/events/event/{e}/change/?_popup=1",
        f"{admin}/registration/registration/{r}/change/",
        f"{admin}/registration/registration/{r}/history/",
        f"{admin}/registration/registration/{r}/delete/",
        f"{admin}/registration/registration/attendance/{e}/",
        f"{admin}/notifications/delivery/{d}/change/",
        f"{admin}/notifications/delivery/{d}/history/",
        f"{admin}/notifications/delivery/{d}/preview/",
        f"{admin}/events/team/{t}/change/",
        f"{admin}/events/team/{t}/invite/",
        f"{admin}/r/{ContentType.objects.get_for_model(Event).pk}/{e}/",  # view on site
    ]


def list_urls(w, lang):
    """Lists, searches, filters, autocomplete and panels a member of B may open."""
    e = w["event_a"].pk
    admin = f"/{lang}/admin"
    return [
        f"{admin}/",
        f"{admin}/events/",
        f"{admin}/events/event/",
        f"{admin}/events/event/?q=event-a",
        f"{admin}/events/event/{w['event_b'].pk}/change/",  # B's own page: panels, chart
        f"{admin}/registration/registration/",
        f"{admin}/registration/registration/?q=Zebulon",
        f"{admin}/registration/registration/?q=Zebulon.Quartz@Canary.Example",
        f"{admin}/registration/registration/?event__id__exact={e}",
        f"{admin}/notifications/delivery/",
        f"{admin}/notifications/delivery/?event__id__exact={e}",
        f"{admin}/notifications/delivery/?q=canary",
        f"{admin}/events/auditentry/",
        f"{admin}/events/team/",
        f"{admin}/events/speaker/",
        f"{admin}/autocomplete/?app_label=events&model_name=agendaitem&field_name=speakers"
        "&term=Zeb",
    ]


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("who", ["manager_b", "viewer_b"])
def test_a_member_of_team_b_finds_nothing_of_team_a(world, lang, who):
    client = client_for(world[who])
    for url in object_urls(world, lang):
        response = client.get(url)
        assert response.status_code == 404, url
        assert not any(canary in body(response) for canary in CANARIES), url
    for url in list_urls(world, lang):
        response = client.get(url)
        assert response.status_code in (200, 403), (url, response.status_code)
        text = body(response)
        assert not any(canary in text for canary in CANARIES), url
        assert "Event event-a" not in text, url


@pytest.mark.parametrize("lang", LANGUAGES)
def test_team_b_actions_and_exports_on_team_a_rows_yield_nothing(world, lang):
    client = client_for(world["manager_b"])
    registration_a, event_a = world["registration_a"], world["event_a"]
    registrations = f"/{lang}/admin/registration/registration/"
    deliveries = f"/{lang}/admin/notifications/delivery/"
    events = f"/{lang}/admin/events/event/"
    posts = [
        (registrations, "export_registrations", registration_a.pk),
        (registrations, "resend_confirmations", registration_a.pk),
        (registrations, "resend_meeting_link", registration_a.pk),
        (registrations, "cancel_registrations", registration_a.pk),
        (deliveries, "retry_failed", world["delivery_a"].pk),
        (events, "export_event_registrations", event_a.pk),
        (events, "send_meeting_links_now", event_a.pk),
        (events, "cancel_events", event_a.pk),
        (events, "delete_selected", event_a.pk),
    ]
    for url, action, pk in posts:
        response = client.post(
            url, {"action": action, "_selected_action": [pk], "post": "yes", "confirmed": "yes"}
        )
        assert not any(canary in body(response) for canary in CANARIES), action
    for url in [
        f"/{lang}/admin/events/event/{event_a.pk}/change/",
        f"/{lang}/admin/events/event/{event_a.pk}/delete/",
        f"/{lang}/admin/events/event/{event_a.pk}/cancel/",
        f"/{lang}/admin/registration/registration/{registration_a.pk}/change/",
    ]:
        assert client.post(url, {"post": "yes", "title": "Taken over"}).status_code == 404, url
    event_a.refresh_from_db()
    registration_a.refresh_from_db()
    assert event_a.status == Event.Status.PUBLISHED and event_a.title == "Event event-a"
    assert registration_a.status == Registration.Status.CONFIRMED
    assert Delivery.objects.filter(registration=registration_a).count() == 1
    assert not AuditEntry.objects.filter(event=event_a).exists()


def test_a_manager_cannot_join_another_teams_event(world):
    client = client_for(world["manager_b"])
    event_b, team_a = world["event_b"], world["team_a"]
    page = client.get(f"/en/admin/events/event/{event_b.pk}/change/").content.decode()
    assert "Team B" in page and "Team A" not in page  # only the teams they manage are offered
    response = client.post(
        "/en/admin/events/event/add/",
        {
            "title": "Hijack",
            "slug": "hijack",
            "status": "draft",
            "teams": [team_a.pk],
            "timezone": "America/New_York",
            "starts_at_0": "2030-06-25",
            "starts_at_1": "12:30",
            "ends_at_0": "2030-06-25",
            "ends_at_1": "14:00",
            "format": "virtual",
            "approval": "automatic",
            "waitlist_enabled": "on",
            "agenda_items-TOTAL_FORMS": "0",
            "agenda_items-INITIAL_FORMS": "0",
            "documents-TOTAL_FORMS": "0",
            "documents-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200  # the form again, with an error on teams
    assert not Event.objects.filter(slug="hijack").exists()
    assert list(team_a.events.all()) == [world["event_a"]]


def test_a_manager_sees_and_changes_their_own_event(world):
    client = client_for(world["manager_a"])
    page = client.get("/en/admin/registration/registration/").content.decode()
    assert CANARIES[0] in page and "Bea Other" not in page
    events = client.get("/en/admin/events/event/").content.decode()
    assert "Event event-a" in events and "Event event-b" not in events


def test_a_viewer_reads_and_exports_but_every_change_is_refused(world):
    client = client_for(world["viewer_a"])
    event_a, registration_a = world["event_a"], world["registration_a"]
    page = client.get(f"/en/admin/registration/registration/{registration_a.pk}/change/")
    assert page.status_code == 200 and CANARIES[0] in page.content.decode()
    export = client.post(
        "/en/admin/registration/registration/",
        {"action": "export_registrations", "_selected_action": [registration_a.pk]},
    )
    assert CANARIES[1] in body(export)

    refused = [
        (f"/en/admin/events/event/{event_a.pk}/change/", {"title": "Changed"}),
        (f"/en/admin/events/event/{event_a.pk}/delete/", {"post": "yes"}),
        (f"/en/admin/events/event/{event_a.pk}/cancel/", {"post": "yes"}),
        ("/en/admin/events/event/add/", {"title": "New"}),
        (f"/en/admin/registration/registration/{registration_a.pk}/change/", {"name": "X"}),
        (f"/en/admin/events/team/{world['team_a'].pk}/change/", {"name": "X"}),
        (f"/en/admin/events/team/{world['team_a'].pk}/invite/", {"email": "x@example.org"}),
    ]
    for url, data in refused:
        assert client.post(url, data).status_code in (403, 404), url
    for url, action, pk in [
        ("/en/admin/registration/registration/", "cancel_registrations", registration_a.pk),
        ("/en/admin/registration/registration/", "resend_confirmations", registration_a.pk),
        ("/en/admin/registration/registration/", "resend_meeting_link", registration_a.pk),
        ("/en/admin/events/event/", "cancel_events", event_a.pk),
        ("/en/admin/events/event/", "publish_events", event_a.pk),
        ("/en/admin/events/event/", "send_meeting_links_now", event_a.pk),
        ("/en/admin/notifications/delivery/", "retry_failed", world["delivery_a"].pk),
    ]:
        client.post(
            url, {"action": action, "_selected_action": [pk], "post": "yes", "confirmed": "yes"}
        )
    event_a.refresh_from_db()
    registration_a.refresh_from_db()
    assert event_a.title == "Event event-a" and event_a.status == Event.Status.PUBLISHED
    assert registration_a.status == Registration.Status.CONFIRMED
    assert registration_a.name == CANARIES[0]
    assert Delivery.objects.filter(registration=registration_a).count() == 1
    assert not User.objects.filter(email="x@example.org").exists()
    # Viewers do not read who did what.
    assert client.get("/en/admin/events/auditentry/").status_code == 403


def test_a_member_in_two_teams_acts_only_where_they_manage(world):
    user = world["manager_b"]
    Membership.objects.create(team=world["team_a"], user=user, role=Membership.Role.VIEWER)
    client = client_for(user)
    registration_a = world["registration_a"]
    client.post(
        "/en/admin/registration/registration/",
        {"action": "cancel_registrations", "_selected_action": [registration_a.pk]},
    )
    registration_a.refresh_from_db()
    assert registration_a.status == Registration.Status.CONFIRMED


def test_removing_a_member_signs_them_out_at_once(world):
    removed = world["viewer_a"]
    removed_client = client_for(removed)
    assert removed_client.get("/en/admin/registration/registration/").status_code == 200
    membership = Membership.objects.get(user=removed)
    manager = client_for(world["manager_a"])
    team = world["team_a"]
    memberships = list(team.memberships.order_by("pk"))
    data = {
        "memberships-TOTAL_FORMS": str(len(memberships)),
        "memberships-INITIAL_FORMS": str(len(memberships)),
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    for index, item in enumerate(memberships):
        data[f"memberships-{index}-id"] = str(item.pk)
        data[f"memberships-{index}-team"] = str(team.pk)
        data[f"memberships-{index}-role"] = item.role
        if item.pk == membership.pk:
            data[f"memberships-{index}-DELETE"] = "on"
    response = manager.post(f"/en/admin/events/team/{team.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not Membership.objects.filter(pk=membership.pk).exists()

    response = removed_client.get("/en/admin/registration/registration/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert CANARIES[0] not in body(response)
    assert not [
        s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(removed.pk)
    ]


def test_the_audit_log_shows_the_export_and_the_resend(world):
    client = client_for(world["manager_a"])
    registration_a = world["registration_a"]
    client.post(
        "/en/admin/registration/registration/",
        {"action": "export_registrations", "_selected_action": [registration_a.pk]},
    )
    client.post(
        "/en/admin/registration/registration/",
        {"action": "resend_confirmations", "_selected_action": [registration_a.pk]},
    )
    log = client.get("/en/admin/events/auditentry/").content.decode()
    assert "Exported the registration list" in log
    assert "Resent messages" in log
    assert log.count('<td class="field-actor">manager.a@example.org</td>') == 2
    entries = AuditEntry.objects.filter(event=world["event_a"])
    assert {(e.actor, e.action) for e in entries} == {
        ("manager.a@example.org", AuditEntry.Action.EXPORTED),
        ("manager.a@example.org", AuditEntry.Action.RESENT),
    }
    event_page = client.get(f"/en/admin/events/event/{world['event_a'].pk}/change/")
    panel = event_page.content.decode().split('class="module audit-panel"', 1)[1]
    assert "Exported the registration list" in panel and "Resent messages" in panel
    viewer_page = client_for(world["viewer_a"]).get(
        f"/en/admin/events/event/{world['event_a'].pk}/change/"
    )
    assert "audit-panel" not in viewer_page.content.decode()
    # The other team's manager does not see it.
    other = client_for(world["manager_b"]).get("/en/admin/events/auditentry/").content.decode()
    assert "manager.a@example.org" not in other


def test_viewing_a_registrant_and_changing_the_link_are_logged(world):
    client = client_for(world["manager_a"])
    registration_a = world["registration_a"]
    client.get(f"/en/admin/registration/registration/{registration_a.pk}/change/")
    assert AuditEntry.objects.filter(
        event=world["event_a"], action=AuditEntry.Action.VIEWED_REGISTRANT
    ).exists()


def test_purging_personal_data_purges_the_audit_log(world):
    event_a = world["event_a"]
    AuditEntry.objects.create(event=event_a, actor="someone", action="exported")
    Event.objects.filter(pk=event_a.pk).update(
        starts_at=timezone.now() - timedelta(days=400), ends_at=timezone.now() - timedelta(days=399)
    )
    services.purge_personal_data(now=timezone.now(), days=30)
    assert not AuditEntry.objects.filter(event=event_a).exists()


def test_add_organiser_invites_in_their_language_without_a_password(
    db, capsys, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "add_organiser",
            "Nadia@Mission.example",
            "--team",
            "morocco",
            "--team-name",
            "Permanent Mission of Morocco",
            "--role",
            "viewer",
            "--language",
            "fr",
        )
    output = capsys.readouterr().out
    user = User.objects.get(email="Nadia@mission.example")
    membership = Membership.objects.get(user=user)
    assert membership.team.name == "Permanent Mission of Morocco"
    assert membership.role == Membership.Role.VIEWER
    assert not user.has_usable_password() and user.is_staff and not user.is_superuser
    (message,) = mail.outbox
    assert message.to == ["Nadia@mission.example"]
    html = message.alternatives[0][0]
    assert "Permanent Mission of Morocco" in message.body and "/fr/organisers/welcome/" in html
    assert "Choisissez votre mot de passe" in message.body
    assert "invitation emailed" in output
    assert user.password not in output and user.password not in message.body


def test_the_invitation_link_works_once_and_expires(db, time_machine):
    membership = organisers.add_organiser(email="new@example.org", team_slug="t", team_name="T")
    user = membership.user
    link = organisers.invitation_url(user).split("://", 1)[1].split("/", 1)[1]
    client = BrowserClient()
    page = client.get(f"/{link}", follow=True)
    assert page.status_code == 200 and 'name="new_password1"' in page.content.decode()
    set_url = page.redirect_chain[-1][0]
    done = client.post(
        set_url, {"new_password1": "a-long passphrase 7", "new_password2": "a-long passphrase 7"}
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-long passphrase 7")
    again = BrowserClient().get(f"/{link}", follow=True).content.decode()
    assert 'name="new_password1"' not in again and "invitation-refused" in again

    other = organisers.add_organiser(email="late@example.org", team_slug="t").user
    late_link = organisers.invitation_url(other).split("://", 1)[1].split("/", 1)[1]
    time_machine.move_to(timezone.now() + timedelta(days=7, hours=1))
    expired = BrowserClient().get(f"/{late_link}", follow=True).content.decode()
    assert 'name="new_password1"' not in expired and "invitation-refused" in expired


def test_a_manager_invites_from_their_teams_page_in_their_language(
    world, django_capture_on_commit_callbacks
):
    client = client_for(world["manager_a"])
    team = world["team_a"]
    page = client.get(f"/es/admin/events/team/{team.pk}/change/").content.decode()
    assert "Invitar a un organizador" in page and "viewer.a@example.org" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/es/admin/events/team/{team.pk}/invite/",
            {"email": "new@team-a.example", "role": "viewer"},
        )
    assert response.status_code == 302
    (message,) = mail.outbox
    assert "Elija su contraseña" in message.body and "/es/organisers/welcome/" in message.body
    assert Membership.objects.get(user__email="new@team-a.example").team == team


def test_site_administrators_see_and_manage_every_team(world, admin_client):
    teams = admin_client.get("/en/admin/events/team/").content.decode()
    assert "Team A" in teams and "Team B" in teams
    assert admin_client.get("/en/admin/events/team/add/").status_code == 200
    registrations = admin_client.get("/en/admin/registration/registration/").content.decode()
    assert CANARIES[0] in registrations and "Bea Other" in registrations


def test_changing_the_meeting_link_is_logged(world):
    client = client_for(world["manager_a"])
    event_a = world["event_a"]
    starts_at = event_a.starts_at.replace(second=0, microsecond=0)
    Event.objects.filter(pk=event_a.pk).update(
        starts_at=starts_at, ends_at=starts_at + timedelta(minutes=90)
    )
    event_a.refresh_from_db()
    response = client.post(
        f"/en/admin/events/event/{event_a.pk}/change/",
        {
            "title": event_a.title,
            "slug": event_a.slug,
            "status": "published",
            "teams": [world["team_a"].pk],
            "timezone": "America/New_York",
            "starts_at_0": event_a.local_starts_at.strftime("%Y-%m-%d"),
            "starts_at_1": event_a.local_starts_at.strftime("%H:%M"),
            "ends_at_0": event_a.local_ends_at.strftime("%Y-%m-%d"),
            "ends_at_1": event_a.local_ends_at.strftime("%H:%M"),
            "format": "virtual",
            "approval": "automatic",
            "waitlist_enabled": "on",
            "meeting_url": "https://meet.example.org/new-room",
            "registration_mode": "open",
            "access_codes-TOTAL_FORMS": "0",
            "access_codes-INITIAL_FORMS": "0",
            "agenda_items-TOTAL_FORMS": "0",
            "agenda_items-INITIAL_FORMS": "0",
            "documents-TOTAL_FORMS": "0",
            "documents-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    entry = AuditEntry.objects.get(event=event_a)
    assert entry.action == AuditEntry.Action.CHANGED_TIME_OR_LINK
    assert entry.detail == "meeting_url" and entry.actor == "manager.a@example.org"


def test_view_on_site_leads_organisers_to_their_own_event_page(world):
    content_type = ContentType.objects.get_for_model(Event).pk
    url = f"/en/admin/r/{content_type}/{world['event_a'].pk}/"
    response = client_for(world["manager_a"]).get(url)
    assert response.status_code == 302 and response["Location"].endswith("/events/event-a/")
    assert client_for(world["manager_b"]).get(url).status_code == 404


def test_a_member_removed_from_one_team_keeps_only_the_other(world):
    user = world["manager_b"]
    Membership.objects.create(team=world["team_a"], user=user, role=Membership.Role.MANAGER)
    client = client_for(user)
    assert CANARIES[0] in client.get("/en/admin/registration/registration/").content.decode()
    organisers.remove_member(membership=Membership.objects.get(user=user, team=world["team_a"]))
    page = client.get("/en/admin/registration/registration/")
    assert page.status_code == 200  # still signed in, for team B
    assert CANARIES[0] not in page.content.decode() and "Bea Other" in page.content.decode()
    registration_a = world["registration_a"]
    url = f"/en/admin/registration/registration/{registration_a.pk}/change/"
    assert client.get(url).status_code == 404


def test_only_site_administrators_delete_a_delivery(world, admin_client):
    # A deleted outbox row would be queued and sent again.
    url = f"/en/admin/notifications/delivery/{world['delivery_a'].pk}/delete/"
    assert client_for(world["manager_a"]).post(url, {"post": "yes"}).status_code == 403
    assert Delivery.objects.filter(pk=world["delivery_a"].pk).exists()
    assert admin_client.get(url).status_code == 200
