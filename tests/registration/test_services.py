from datetime import timedelta

import pytest
from django.utils import timezone

from events.models import Event
from registration import services
from registration.models import ManageToken, Registration
from registration.signals import registration_changed
from tests.registration.conftest import person

Status = Registration.Status


@pytest.fixture
def announced():
    """Every registration_changed the services send, as (email, old, new, resend, message)."""
    calls = []

    def receiver(sender, registration, old_status, new_status, resend, message, **kwargs):
        calls.append((registration.email, old_status, new_status, resend, message))

    registration_changed.connect(receiver, dispatch_uid="test-announced")
    yield calls
    registration_changed.disconnect(dispatch_uid="test-announced")


def test_new_registration_is_confirmed_announced_and_gets_a_working_link(event, announced):
    result = services.register(event=event, data=person(1, email="  Ana@Example.ORG "))

    assert result.created
    registration = result.registration
    assert registration.status == Status.CONFIRMED
    assert registration.email == "ana@example.org"
    assert registration.confirmed_at is not None
    assert announced == [("ana@example.org", None, Status.CONFIRMED, False, "")]
    assert services.registration_for_token(result.token) == registration
    # Only a hash is stored, never the token itself.
    assert not ManageToken.objects.filter(token_hash=result.token).exists()
    assert len(result.token) >= 43  # 256 bits in URL-safe base64


def test_every_issued_link_keeps_working(event, register):
    result = register(event)
    later = services.issue_manage_token(registration=result.registration)

    assert later != result.token
    assert services.registration_for_token(result.token) == result.registration
    assert services.registration_for_token(later) == result.registration


@pytest.mark.parametrize(
    "token", ["", "x", "a" * 43, "../../etc/passwd", "a" * 1000, None, "é" * 43]
)
def test_unknown_or_malformed_token_opens_nothing(event, register, token):
    register(event)
    assert services.registration_for_token(token) is None


def test_duplicate_email_returns_the_existing_registration_and_resends_once(event, announced):
    first = services.register(event=event, data=person(1, email="ana@example.org"))
    again = services.register(event=event, data=person(2, email=" ANA@example.org"))
    third = services.register(event=event, data=person(3, email="ana@example.org"))

    assert not again.created and again.token is None
    assert again.registration.pk == first.registration.pk
    assert again.registration.name == "Amina Diallo 1"  # the duplicate changed nothing
    assert not third.created
    assert Registration.objects.filter(event=event).count() == 1
    resends = [call for call in announced if call[3]]
    assert resends == [("ana@example.org", Status.CONFIRMED, Status.CONFIRMED, True, "")]


def test_cancelled_person_may_register_again(event, register):
    first = register(event).registration
    services.cancel(registration=first)

    again = register(event)

    assert again.created
    assert again.registration.status == Status.CONFIRMED


def test_full_event_puts_newcomers_on_the_waiting_list(make_event, register):
    event = make_event(capacity=2, waitlist_enabled=True)
    statuses = [register(event, n).registration.status for n in range(4)]
    assert statuses == [Status.CONFIRMED, Status.CONFIRMED, Status.WAITLISTED, Status.WAITLISTED]


def test_full_event_without_waiting_list_refuses_and_stores_nothing(make_event, register):
    event = make_event(capacity=1, waitlist_enabled=False)
    register(event, 1)

    with pytest.raises(services.Unavailable) as refused:
        register(event, 2)

    assert refused.value.reason == services.Unavailable.FULL
    assert Registration.objects.filter(event=event).count() == 1


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"status": Event.Status.CANCELLED}, services.Unavailable.CANCELLED),
        ({"status": Event.Status.DRAFT}, services.Unavailable.NOT_PUBLISHED),
        (
            {"registration_opens_at": timezone.now() + timedelta(days=1)},
            services.Unavailable.NOT_OPEN,
        ),
        (
            {"registration_closes_at": timezone.now() - timedelta(minutes=1)},
            services.Unavailable.CLOSED,
        ),
        ({"starts_at": timezone.now() - timedelta(minutes=5)}, services.Unavailable.CLOSED),
    ],
)
def test_event_that_takes_no_registration_stores_nothing(make_event, register, fields, reason):
    event = make_event(**fields)

    with pytest.raises(services.Unavailable) as refused:
        register(event)

    assert refused.value.reason == reason
    assert not Registration.objects.exists()


def test_cancelling_a_confirmed_seat_promotes_the_longest_waiting_person(
    make_event, register, announced
):
    event = make_event(capacity=1)
    seated = register(event, 1).registration
    first_in_line = register(event, 2).registration
    register(event, 3)
    announced.clear()

    services.cancel(registration=seated)

    first_in_line.refresh_from_db()
    assert first_in_line.status == Status.CONFIRMED
    assert Registration.objects.filter(event=event, status=Status.CONFIRMED).count() == 1
    assert announced == [
        ("amina.1@example.org", Status.CONFIRMED, Status.CANCELLED, False, ""),
        ("amina.2@example.org", Status.WAITLISTED, Status.CONFIRMED, False, ""),
    ]


def test_cancel_twice_changes_nothing_the_second_time(make_event, register, announced):
    event = make_event(capacity=1)
    seated = register(event, 1).registration
    register(event, 2)
    services.cancel(registration=seated)
    announced.clear()

    services.cancel(registration=seated)

    assert announced == []
    assert Registration.objects.filter(event=event, status=Status.CONFIRMED).count() == 1


def test_cancelling_a_waitlisted_person_promotes_nobody(make_event, register):
    event = make_event(capacity=1)
    register(event, 1)
    waiting = register(event, 2).registration
    third = register(event, 3).registration

    services.cancel(registration=waiting)

    third.refresh_from_db()
    assert third.status == Status.WAITLISTED


def test_moving_from_the_waiting_list_needs_a_free_seat(make_event, register):
    event = make_event(capacity=1)
    register(event, 1)
    waiting = register(event, 2).registration

    with pytest.raises(services.NoSeatLeft):
        services.promote(registration=waiting)

    event.capacity = 2
    event.save()
    services.promote(registration=waiting)
    assert waiting.status == Status.CONFIRMED


def test_approval_flow(make_event, register, announced):
    event = make_event(approval=Event.Approval.ORGANISER, capacity=1)
    ana = register(event, 1).registration
    ben = register(event, 2).registration
    carla = register(event, 3).registration
    assert {ana.status, ben.status, carla.status} == {Status.PENDING_APPROVAL}

    services.approve(registration=ana)
    services.approve(registration=ben)  # the only seat is taken: waiting list
    services.reject(registration=carla, message="The room is for Member States only.")

    assert (ana.status, ben.status, carla.status) == (
        Status.CONFIRMED,
        Status.WAITLISTED,
        Status.REJECTED,
    )
    assert announced[-1] == (
        "amina.3@example.org",
        Status.PENDING_APPROVAL,
        Status.REJECTED,
        False,
        "The room is for Member States only.",
    )
    with pytest.raises(services.NotAllowed):
        services.approve(registration=ana)

    # Rejecting a confirmed person frees the seat for the waiting list.
    services.reject(registration=ana)
    ben.refresh_from_db()
    assert ben.status == Status.CONFIRMED


def test_approval_into_full_event_without_waiting_list_is_refused(make_event, register):
    event = make_event(approval=Event.Approval.ORGANISER, capacity=1, waitlist_enabled=False)
    ana = register(event, 1).registration
    ben = register(event, 2).registration
    services.approve(registration=ana)

    with pytest.raises(services.NoSeatLeft):
        services.approve(registration=ben)
    ben.refresh_from_db()
    assert ben.status == Status.PENDING_APPROVAL


def test_update_details_changes_only_what_a_registrant_may_change(event, register):
    registration = register(event).registration

    services.update_details(
        registration=registration,
        data={"name": "Amina D.", "preferred_language": "ar", "email": "evil@example.org"},
    )

    registration.refresh_from_db()
    assert registration.name == "Amina D."
    assert registration.preferred_language == "ar"
    assert registration.email == "amina.1@example.org"


def test_resend_confirmation_is_announced_and_refused_for_cancelled(event, register, announced):
    registration = register(event).registration
    announced.clear()

    services.resend_confirmation(registration=registration)
    assert announced == [("amina.1@example.org", Status.CONFIRMED, Status.CONFIRMED, True, "")]

    services.cancel(registration=registration)
    with pytest.raises(services.NotAllowed):
        services.resend_confirmation(registration=registration)


def test_purge_anonymises_old_registrations_keeps_counts_and_is_idempotent(make_event, register):
    now = timezone.now()
    old = make_event(starts_at=now - timedelta(days=100))
    recent = make_event(starts_at=now - timedelta(days=10))
    Event.objects.filter(pk=old.pk).update(status=Event.Status.PUBLISHED)
    # Registrations for the old event, made when it was still ahead.
    with_time = timezone.now()
    old_regs = []
    for n in range(3):
        registration = Registration.objects.create(
            event=old,
            email=f"old{n}@example.org",
            name=f"Old {n}",
            organisation="Ministry",
            affiliation="member_state",
            country="FR",
            consent_at=with_time,
        )
        services.issue_manage_token(registration=registration)
        old_regs.append(registration)
    token = services.issue_manage_token(registration=old_regs[0])
    Registration.objects.create(
        event=recent, email="recent@example.org", name="Recent", consent_at=with_time
    )

    assert services.purge_personal_data(now=now, days=90) == 3
    assert services.purge_personal_data(now=now, days=90) == 0

    for registration in Registration.objects.filter(event=old):
        assert registration.name == ""
        assert registration.organisation == ""
        assert "old" not in registration.email
        assert registration.anonymised_at == now
        assert registration.affiliation == "member_state"
        assert registration.status == Status.CONFIRMED
    assert Registration.objects.filter(event=old).count() == 3
    assert services.registration_for_token(token) is None
    assert Registration.objects.get(event=recent).name == "Recent"
