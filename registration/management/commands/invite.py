import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from events.models import Event
from registration import invitations
from registration.access import read_people


class Command(BaseCommand):
    help = (
        "Invite people to an invitation-only event from a CSV file (email, name, optional "
        "language; a header row is allowed; '-' reads standard input). Each gets an "
        "invitation email with a personal link. Prints one line per address. Safe to run "
        "again: addresses invited or registered already are left as they are."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The event's slug.")
        parser.add_argument("csv", help="The CSV file (UTF-8), or - for standard input.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check and report, store nothing and send nothing.",
        )

    def handle(self, *args, slug, csv, dry_run, **options):
        event = Event.objects.filter(slug=slug).first()
        if event is None:
            raise CommandError(f"No event with the slug {slug!r}.")
        people, refused = read_people(_read(csv))
        with transaction.atomic():
            try:
                done = invitations.invite(event=event, people=people)
            except invitations.InvitationRefused as error:
                raise CommandError(str(error.message)) from None
            if dry_run:
                # Rolled back with the invitations: their emails were queued for the commit.
                transaction.set_rollback(True)
        for registration in done.invited:
            self.stdout.write(f"invited             {registration.email}")
        for registration in done.restored:
            self.stdout.write(f"invited again       {registration.email} (was withdrawn)")
        for email in done.already_invited:
            self.stdout.write(f"already invited     {email}")
        for email in done.already_registered:
            self.stdout.write(f"already registered  {email}")
        for problem in refused:
            self.stdout.write(f"refused             {' '.join(problem.messages)}")
        sent = len(done.invited) + len(done.restored)
        verb = "would be sent (dry run: nothing stored)" if dry_run else "sent"
        self.stdout.write(
            f"{sent} invitation(s) {verb}; {len(done.already_invited)} invited already, "
            f"{len(done.already_registered)} registered already, {len(refused)} line(s) refused."
        )


def _read(path):
    try:
        if path == "-":
            return sys.stdin.read()
        with open(path, encoding="utf-8-sig") as file:
            return file.read()
    except (OSError, UnicodeDecodeError) as error:
        raise CommandError(f"Cannot read {path}: {error}") from None
