"""An event as JSON: what `import_event`, `export_event` and `seed_demo` read and write.

Keys (README "Events as JSON"): slug, title, summary, description, starts_at, ends_at (ISO 8601
with offset), timezone (IANA), format, status, meeting_url, meeting_details, capacity (null =
unlimited), waitlist (bool), approval ("automatic" | "organiser"), registration_mode ("open" |
"verify_email" | "invitation" | "code"; default "verify_email" with a capacity, else "open"),
verification_hold_minutes (null = REGISTRATION_HOLD_MINUTES), proof_of_work (bool; set by
site administrators; left out: an existing event keeps its setting), registration_opens_at,
registration_closes_at (null = open until start), meeting_link_send_at (null = 24 h before),
interpretation_languages (codes), agenda ([{starts_at, ends_at, title, description, speakers:
[{name, title, organisation}], translations}]), documents ([{kind, title, language, path}],
path relative to the JSON file), and optionally expected_outcomes (list of lines), organiser,
contact_email, venue, translations ({"fr": {"title": ...}, ...}), teams (slugs of the
organising teams, which must exist; left out: an existing event keeps its teams).

Import is all or nothing: one transaction, and the first problem stops it with a message that
names the key, e.g. `agenda[2].starts_at: "25/06" is not an ISO 8601 date and time`. The
rules an event must keep (events/rules.py: the meeting link goes out before the start,
registration closes by the end, the agenda lies within the event) are the admin's, through
the models' clean(); what they only warn about is passed to `warn(key, message)`.
"""

from events.exchange.exporting import export_event
from events.exchange.importing import import_event, speakers_for
from events.exchange.parsing import OPTIONAL, REQUIRED, EventDataError, extra_parts

__all__ = [
    "OPTIONAL",
    "REQUIRED",
    "EventDataError",
    "export_event",
    "extra_parts",
    "import_event",
    "speakers_for",
]
