"""Services for organising teams: inviting an organiser, removing a member.

An invitation carries a one-time link to set a password (Django's password-reset token
machinery with its own salt: the token is signed, stored nowhere, expires after
PASSWORD_RESET_TIMEOUT, seven days, and stops working once the password is set, because it
is derived from the password hash). No password ever travels by email or reaches a log.
"""

from importlib import import_module

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.contrib.sessions.models import Session
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.text import slugify

from events.languages import UN_LANGUAGE_CODES
from events.models import Membership, Team

# Session engines that keep sessions in the database, where a person's can be found.
DB_SESSION_ENGINES = {
    "django.contrib.sessions.backends.db",
    "django.contrib.sessions.backends.cached_db",
}


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "events.organisers.InvitationTokenGenerator"


invitation_tokens = InvitationTokenGenerator()


def invitation_url(user) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = invitation_tokens.make_token(user)
    path = reverse("organiser_welcome", kwargs={"uidb64": uid, "token": token})
    return f"{settings.SITE_URL}{path}"


def add_organiser(
    *,
    email: str,
    team_slug: str,
    team_name: str = "",
    role: str = Membership.Role.MANAGER,
    language: str | None = None,
    invited_by=None,
) -> Membership:
    """Makes the person with `email` a member of the team (created if need be, the person
    too, without a password) with `role`, and emails them an invitation in `language`.
    Safe to run twice: the membership's role is updated, a new invitation sent."""
    User = get_user_model()
    email = User.objects.normalize_email(email.strip())
    with transaction.atomic():
        team, _created = Team.objects.get_or_create(
            slug=slugify(team_slug), defaults={"name": team_name or team_slug}
        )
        user = User.objects.filter(email__iexact=email).order_by("pk").first()
        if user is None:
            user = User(username=email[:150], email=email, is_staff=True)
            user.set_unusable_password()
            user.save()
        elif not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        membership, _created = Membership.objects.update_or_create(
            team=team, user=user, defaults={"role": role}
        )
        transaction.on_commit(
            lambda: send_invitation(membership=membership, language=language, invited_by=invited_by)
        )
    return membership


def send_invitation(*, membership: Membership, language: str | None, invited_by=None) -> None:
    """The invitation email (text and HTML) in `language`: a link to set a password when the
    person has none yet, else to sign in."""
    user = membership.user
    language = language if language in UN_LANGUAGE_CODES else settings.LANGUAGE_CODE
    with translation.override(language):
        context = {
            "team": membership.team.name,
            "role": membership.get_role_display(),
            "inviter": (invited_by.get_full_name() or invited_by.email) if invited_by else "",
            "site_name": settings.SITE_NAME,
            "set_password_url": "" if user.has_usable_password() else invitation_url(user),
            "login_url": f"{settings.SITE_URL}{reverse('admin:index')}",
            "days": settings.PASSWORD_RESET_TIMEOUT // 86400,
            "language": language,
            "bidi": translation.get_language_bidi(),
        }
        subject = render_to_string("emails/organiser_invitation/subject.txt", context)
        message = EmailMultiAlternatives(
            subject=" ".join(subject.split()),
            body=render_to_string("emails/organiser_invitation/body.txt", context),
            to=[user.email],
        )
        message.attach_alternative(
            render_to_string("emails/organiser_invitation/body.html", context), "text/html"
        )
    message.send()


def remove_member(*, membership: Membership) -> None:
    """Ends the membership at once. A person left in no team (and not a site administrator)
    loses admin access and is signed out everywhere."""
    user = membership.user
    with transaction.atomic():
        membership.delete()
        if user.is_superuser or Membership.objects.filter(user=user).exists():
            return
        user.is_staff = False
        user.save(update_fields=["is_staff"])
        end_sessions(user=user)


def end_sessions(*, user) -> int:
    """Deletes `user`'s open sessions where the session engine keeps them in the database
    (the default). Other engines cannot list them; there the admin still refuses the person
    on their next request (no longer staff, no team). Returns how many were ended."""
    if settings.SESSION_ENGINE not in DB_SESSION_ENGINES:
        return 0
    store = import_module(settings.SESSION_ENGINE).SessionStore
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            store(session_key=session.session_key).delete()
            ended += 1
    return ended
