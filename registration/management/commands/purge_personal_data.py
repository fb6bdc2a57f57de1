from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from registration.services import purge_personal_data


class Command(BaseCommand):
    help = (
        "Anonymise registrations of events that ended more than N days ago (default: "
        "PERSONAL_DATA_RETENTION_DAYS). Counts and statuses stay. Safe to run repeatedly."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=settings.PERSONAL_DATA_RETENTION_DAYS,
            help="Days after the end of an event (default: %(default)s).",
        )

    def handle(self, *args, days, **options):
        if days < 0:
            self.stderr.write("--days must be zero or more.")
            raise SystemExit(2)
        count = purge_personal_data(now=timezone.now(), days=days)
        self.stdout.write(
            f"Anonymised {count} registration(s) of events that ended more than {days} days ago."
        )
