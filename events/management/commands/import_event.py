import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from events.exchange import EventDataError, import_event


class Command(BaseCommand):
    help = (
        "Create or update (by slug) an event, its agenda, speakers and documents from a JSON "
        "file. All or nothing: a problem names the key and changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="the event's JSON file")

    def handle(self, *args, file, **options):
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CommandError(f"{file}: no such file") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise CommandError(f"{file}: not valid JSON ({error})") from None
        try:
            event, created = import_event(data, base_dir=file.resolve().parent, warn=self.warn)
        except EventDataError as error:
            raise CommandError(f"{file}: {error} (nothing was changed)") from None
        verb = "Created" if created else "Updated"
        self.stdout.write(f"{verb} event {event.slug!r}: {event.get_absolute_url()}")

    def warn(self, key, message):
        self.stdout.write(self.style.WARNING(f"Warning: {key}: {message}"))
