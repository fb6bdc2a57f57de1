from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from events.models import Event
from registration.attendance import MAX_REPORT_BYTES, ReportError, import_attendance


class Command(BaseCommand):
    help = (
        "Read a Zoom, Microsoft Teams or Webex participant report (CSV, format detected from "
        "its header) and store who of the event's registrants attended and for how long. "
        "Replaces any earlier import for the event: safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The event's slug.")
        parser.add_argument("report", type=Path, help="The exported report (.csv).")

    def handle(self, *args, slug, report, **options):
        event = Event.objects.filter(slug=slug).first()
        if event is None:
            raise CommandError(f"No event with the slug {slug!r}.")
        try:
            with report.open("rb") as file:
                # One byte more than allowed, so that the service sees a file too large.
                data = file.read(MAX_REPORT_BYTES + 1)
        except OSError as error:
            raise CommandError(f"Cannot read {report}: {error.strerror}.") from None
        try:
            result = import_attendance(event=event, data=data)
        except ReportError as error:
            raise CommandError(error.message) from None
        self.stdout.write(result.summary())
        for person in result.unmatched:
            who = " ".join(filter(None, [person.name, f"<{person.email}>" if person.email else ""]))
            self.stdout.write(f"  unmatched: {who or '?'} ({person.reason.label})")
