import json
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from events.exchange import EventDataError, import_event
from events.models import Event, Team

DEMO = Path(__file__).resolve().parents[2] / "demo" / "side-event.json"
# The demo event's organising team (events/demo/side-event.json names it under "teams").
DEMO_TEAM = {"slug": "demo", "name": "Convene demo team"}
DAYS_AHEAD = 5
DATETIME_KEYS = [
    "starts_at",
    "ends_at",
    "registration_opens_at",
    "registration_closes_at",
    "meeting_link_send_at",
]


def _move(value, days, zone):
    """The same wall-clock time `days` later in `zone` (12:30 stays 12:30 across DST)."""
    if value is None:
        return None
    local = datetime.fromisoformat(value).astimezone(zone)
    moved = datetime.combine(local.date() + timedelta(days=days), local.time().replace(tzinfo=None))
    return moved.replace(tzinfo=zone).isoformat()


def dated(data, day):
    """The demo JSON with its event moved to `day` (a date in the event's zone)."""
    zone = ZoneInfo(data["timezone"])
    days = (day - datetime.fromisoformat(data["starts_at"]).astimezone(zone).date()).days
    data = {**data}
    for key in DATETIME_KEYS:
        data[key] = _move(data.get(key), days, zone)
    data["agenda"] = [
        {
            **item,
            "starts_at": _move(item["starts_at"], days, zone),
            "ends_at": _move(item.get("ends_at"), days, zone),
        }
        for item in data.get("agenda", [])
    ]
    return data


class Command(BaseCommand):
    help = (
        "Load the demo side event (events/demo/side-event.json). By default it is dated "
        f"{DAYS_AHEAD} days ahead so registration is open; --date 2021-06-25 gives the "
        "historical date. Safe to run again: an upcoming demo event is left as it is."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--date", type=date.fromisoformat, help="the event's day, YYYY-MM-DD (New York)"
        )

    def handle(self, *args, date=None, **options):
        data = json.loads(DEMO.read_text(encoding="utf-8"))
        existing = Event.objects.filter(slug=data["slug"]).first()
        if date is None:
            if existing is not None and existing.ends_at > timezone.now():
                self.stdout.write(f"Demo event already there: {existing.get_absolute_url()}")
                return
            date = timezone.localdate(timezone=ZoneInfo(data["timezone"])) + timedelta(
                days=DAYS_AHEAD
            )
        Team.objects.get_or_create(slug=DEMO_TEAM["slug"], defaults={"name": DEMO_TEAM["name"]})
        try:
            event, created = import_event(dated(data, date), base_dir=DEMO.parent)
        except EventDataError as error:
            raise CommandError(f"{DEMO}: {error}") from None
        local = event.local_starts_at
        self.stdout.write(
            f"{'Created' if created else 'Updated'} demo event {event.get_absolute_url()} "
            f"on {local:%Y-%m-%d %H:%M} {local.tzname()} ({event.timezone})"
        )
