import json
import shutil
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from events.exchange import export_event
from events.models import Event


class Command(BaseCommand):
    help = (
        "Print an event as the JSON import_event reads. With --output, write the JSON to a "
        "file and copy the documents beside it (paths relative to the file)."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--output", type=Path, help="write here instead of printing")

    def handle(self, *args, slug, output=None, **options):
        try:
            event = Event.objects.get(slug=slug)
        except Event.DoesNotExist:
            raise CommandError(f"slug: no event {slug!r}") from None

        if output is None:
            # Absolute paths, to say where the files are. import_event takes documents only
            # from its JSON file's folder: to move an event with its documents, use --output.
            data = export_event(event, document_path=lambda document: document.file.path)
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
            return

        folder = output.parent / f"{event.slug}-documents"
        folder.mkdir(parents=True, exist_ok=True)

        def copy(document):
            target = folder / Path(document.file.name).name
            with document.file.open("rb") as source, target.open("wb") as copy_to:
                shutil.copyfileobj(source, copy_to)
            return str(target.relative_to(output.parent))

        data = export_event(event, document_path=copy)
        output.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        self.stdout.write(f"Wrote {output} and {len(data['documents'])} document(s) in {folder}")
