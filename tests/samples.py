"""Every page an attendee can reach and every email Convene sends, in a given language, as
HTML: what the W3C Nu checker (tests/validity) and axe (tests/e2e/test_accessibility.py) read.

The event is the demo side event (`seed_demo`: agenda, speakers, documents, six languages).
"""

from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from events.models import Event
from tests.conftest import BrowserClient

DEMO_SLUG = "csos-violent-extremist-prisoners"


def seed_demo_event():
    call_command("seed_demo", stdout=StringIO())
    return Event.objects.get(slug=DEMO_SLUG)


def make_closed_event():
    """A past event: its page says so, its registration form is 'not available'."""
    starts = timezone.now() - timedelta(days=3)
    return Event.objects.create(
        slug="past-event",
        title="A past side event",
        summary="It took place three days ago.",
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        status=Event.Status.PUBLISHED,
        interpretation_languages=["en"],
    )


def register(event, language, email=None):
    """A confirmed registration and the raw token of its manage link."""
    from registration import services

    result = services.register(
        event=event,
        data={
            "name": "Amina Diallo",
            "email": email or f"amina.{language}@example.org",
            "organisation": "Prison Reform Network",
            "affiliation": "cso_ngo",
            "preferred_language": language,
            "interpretation_language": language,
            "consent": True,
        },
    )
    return result.registration, result.token


def page_paths(language, *, event, past_event, token):
    """name -> path of every public page, in `language`."""
    events = f"/{language}/events/{event.slug}"
    return {
        "event list": f"/{language}/",
        "past events": f"/{language}/events/past/",
        "event page": f"{events}/",
        "past event page": f"/{language}/events/{past_event.slug}/",
        "registration form": f"{events}/register/",
        "registration not available": f"/{language}/events/{past_event.slug}/register/",
        "check your email": f"{events}/register/check-email/",
        "manage page": f"/{language}/r/{token}/",
        "cancel page": f"/{language}/r/{token}/cancel/",
        "privacy notice": f"/{language}/privacy/",
        "not found": f"/{language}/no-such-page/",
    }


def access_paths(language, *, event):
    """name -> path of the pages of the other registration modes (issue 18): the email
    verification page of a held seat, the forms of an event that asks for a code and of one
    with proof of work, and the invitation pages."""
    from registration import services

    starts = timezone.now().replace(second=0, microsecond=0) + timedelta(days=7)
    verified, _ = Event.objects.get_or_create(
        slug=f"{event.slug}-verified",
        defaults={
            "title": event.title,
            "starts_at": starts,
            "ends_at": starts + timedelta(hours=1),
            "status": Event.Status.PUBLISHED,
            "capacity": 50,
            "registration_mode": Event.RegistrationMode.VERIFY_EMAIL,
            "interpretation_languages": ["en", "fr"],
        },
    )
    coded, _ = Event.objects.get_or_create(
        slug=f"{event.slug}-code",
        defaults={
            "title": event.title,
            "starts_at": starts,
            "ends_at": starts + timedelta(hours=1),
            "status": Event.Status.PUBLISHED,
            "registration_mode": Event.RegistrationMode.CODE,
            "interpretation_languages": ["en", "fr"],
        },
    )
    proof_of_work, _ = Event.objects.get_or_create(
        slug=f"{event.slug}-proof-of-work",
        defaults={
            "title": event.title,
            "starts_at": starts,
            "ends_at": starts + timedelta(hours=1),
            "status": Event.Status.PUBLISHED,
            "proof_of_work": True,
            "interpretation_languages": ["en", "fr"],
        },
    )
    held, token = register(verified, language, email=f"held.{language}@example.org")
    assert held.status == held.Status.HELD
    token = token or services.issue_manage_token(registration=held)
    invited, withdrawn, by_invitation = invitation_tokens(language, event=event, starts=starts)
    return {
        "email verification page": f"/{language}/r/{token}/verify/",
        "registration form with access code": f"/{language}/events/{coded.slug}/register/",
        "registration form with proof of work": (
            f"/{language}/events/{proof_of_work.slug}/register/"
        ),
        "by invitation page": f"/{language}/events/{by_invitation.slug}/register/",
        "invitation page": f"/{language}/r/{invited}/",
        "invitation withdrawn page": f"/{language}/r/{withdrawn}/",
    }


# The status each page of access_paths() answers with (others: 200).
ACCESS_STATUS = {"invitation withdrawn page": 410}


def invitation_tokens(language, *, event, starts):
    """(link of an open invitation, link of a withdrawn one, the invitation-only event)."""
    from registration import invitations, services

    by_invitation, _ = Event.objects.get_or_create(
        slug=f"{event.slug}-invitation",
        defaults={
            "title": event.title,
            "starts_at": starts,
            "ends_at": starts + timedelta(hours=1),
            "status": Event.Status.PUBLISHED,
            "capacity": 50,
            "registration_mode": Event.RegistrationMode.INVITATION,
            "contact_email": "side-events@example.org",
            "interpretation_languages": ["en", "fr"],
        },
    )
    people = [
        {"email": f"{state}.{language}@example.org", "name": "Amina Diallo", "language": language}
        for state in ("invited", "withdrawn")
    ]
    invited, withdrawn = invitations.invite(event=by_invitation, people=people).invited
    invitations.revoke_invitation(registration=withdrawn)
    return (
        services.issue_manage_token(registration=invited),
        services.issue_manage_token(registration=withdrawn),
        by_invitation,
    )


def public_pages(language, *, event, past_event, token):
    """name -> HTML of every public page in `language`, fetched with Django's test client
    (the error pages too: pass settings with DEBUG off and ROOT_URLCONF tests.error_urls)."""
    client = BrowserClient(raise_request_exception=False)
    pages = {}
    for name, path in page_paths(language, event=event, past_event=past_event, token=token).items():
        response = client.get(path)
        expected = 404 if name == "not found" else 200
        assert response.status_code == expected, (name, path, response.status_code)
        pages[name] = response.content.decode()
    for name, path in access_paths(language, event=event).items():
        response = client.get(path)
        expected = ACCESS_STATUS.get(name, 200)
        assert response.status_code == expected, (name, path, response.status_code)
        pages[name] = response.content.decode()
    response = client.post(f"/{language}/events/{event.slug}/register/", {})
    assert response.status_code == 200, response.status_code
    pages["registration form with errors"] = response.content.decode()
    for status in (400, 403, 500, 503):
        response = client.get(f"/{language}/fail/{status}/")
        assert response.status_code == status
        pages[f"error {status}"] = response.content.decode()
    return pages


def email_htmls(event, language):
    """kind -> the HTML part of every email Convene sends, as built for one registrant in
    `language` (confirmations in each status they can report)."""
    from notifications import emails
    from notifications.models import Delivery
    from registration.models import Registration

    registration, _token = register(event, language, email=f"mail.{language}@example.org")
    Kind, Status = Delivery.Kind, Registration.Status
    variants = [(kind, {}) for kind in Kind.values] + [
        (Kind.CONFIRMATION, {"status": Status.WAITLISTED}),
        (Kind.CONFIRMATION, {"status": Status.PENDING_APPROVAL}),
        (Kind.VERIFY_EMAIL, {"status": Status.WAITLISTED}),
        (Kind.REJECTED, {"message": "The room is full of delegates; sorry."}),
    ]
    htmls = {}
    for kind, context in variants:
        delivery = Delivery(event=event, registration=registration, kind=kind, context=context)
        if kind == Kind.MESSAGE:
            delivery.version = organisers_message(event).pk
        message = emails.build_message(delivery=delivery, cache={})
        html = [content for content, mimetype in message.alternatives if mimetype == "text/html"]
        assert len(html) == 1, kind
        name = kind if not context else f"{kind} ({', '.join(map(str, context.values()))})"
        htmls[name] = html[0]
    return htmls


def organisers_message(event):
    """An organiser's reminder with Markdown, every placeholder and the meeting link."""
    from notifications.models import Message

    body = (
        "Dear {name},\n\n**{event_title}** starts in an hour ({event_date}).\n\n"
        "- Join: {meeting_link}\n- Your registration: {manage_link}\n\n"
        "Read the [revised concept note](https://example.org/note.pdf)."
    )
    message, _created = Message.objects.get_or_create(
        event=event,
        key="reminder-1h",
        defaults={
            "subject": "Starting in an hour: {event_title}",
            "body": body,
            "send": Message.Send.BEFORE_START,
            "offset": timedelta(hours=1),
            "include_meeting_link": True,
            "translations": {
                "ar": {
                    "subject": "يبدأ بعد ساعة: {event_title}",
                    "body": "مرحبا {name}. {meeting_link}",
                }
            },
        },
    )
    return message
