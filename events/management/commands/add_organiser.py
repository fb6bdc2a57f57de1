"""Make someone an organiser of a team and email them an invitation. Safe to run twice."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.utils.text import slugify

from events.languages import UN_LANGUAGE_CODES
from events.models import Membership, Team
from events.organisers import add_organiser


class Command(BaseCommand):
    help = (
        "Add the person with EMAIL to the team SLUG (created with --team-name if new; the "
        "person too) as manager or viewer, and email them an invitation with a one-time link "
        "to set their password (valid 7 days). No password is printed or sent."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--team", required=True, help="the team's slug, e.g. unoct")
        parser.add_argument(
            "--team-name", default="", help="the name of a new team (default: its slug)"
        )
        parser.add_argument(
            "--role", choices=Membership.Role.values, default=Membership.Role.MANAGER
        )
        parser.add_argument(
            "--language",
            choices=UN_LANGUAGE_CODES,
            default=settings.LANGUAGE_CODE,
            help="the language of the invitation (default: %(default)s)",
        )

    def handle(self, *args, email, team, team_name, role, language, **options):
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"{email!r} is not an email address.") from None
        slug = slugify(team)
        if not slug:
            raise CommandError("--team: give a slug of letters, digits and hyphens.")
        new_team = not Team.objects.filter(slug=slug).exists()
        membership = add_organiser(
            email=email, team_slug=slug, team_name=team_name, role=role, language=language
        )
        if new_team:
            self.stdout.write(f"Created the team {membership.team.name} ({slug}).")
        self.stdout.write(
            f"{membership.user.email} is {membership.get_role_display().lower()} of "
            f"{membership.team.name} ({membership.team.slug}); invitation emailed."
        )
