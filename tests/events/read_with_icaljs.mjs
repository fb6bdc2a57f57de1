// Reads an iCalendar file on stdin with ical.js (Mozilla's parser, as in Thunderbird) and
// prints what it understood as JSON: the event's properties, its start and end as UTC
// seconds, and the changes of the file's VTIMEZONE that ical.js computes for the years
// argv[3] to argv[4] (each as its UTC second and the offsets before and after, in seconds).
// Usage: node read_with_icaljs.mjs <path to ical.js's dist/ical.js> <first year> <last year>
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const ICAL = (await import(pathToFileURL(process.argv[2]).href)).default;
const [first, last] = process.argv.slice(3, 5).map(Number);
const calendar = new ICAL.Component(ICAL.parse(readFileSync(0, "utf8")));
const zones = calendar.getAllSubcomponents("vtimezone");
for (const zone of zones) ICAL.TimezoneService.register(zone);
const vevent = calendar.getFirstSubcomponent("vevent");
const event = new ICAL.Event(vevent);

const zone = new ICAL.Timezone(zones[0]);
zone._ensureCoverage(last + 1);
// ical.js keeps each change's moment in UTC (its local onset less the offset before it).
const changes = zone.changes
  .filter((change) => change.year >= first && change.year <= last)
  .map((change) => ({
    at: Date.UTC(change.year, change.month - 1, change.day, change.hour, change.minute, change.second) / 1000,
    from: change.prevUtcOffset,
    to: change.utcOffset,
  }));

const address = (property) => property && { value: property.getFirstValue(), params: property.toJSON()[1] };
console.log(
  JSON.stringify({
    method: calendar.getFirstPropertyValue("method"),
    uid: event.uid,
    sequence: event.sequence,
    status: vevent.getFirstPropertyValue("status"),
    summary: event.summary,
    description: event.description,
    tzid: event.startDate.timezone,
    start: event.startDate.toUnixTime(),
    end: event.endDate.toUnixTime(),
    organizer: address(vevent.getFirstProperty("organizer")),
    attendees: vevent.getAllProperties("attendee").map(address),
    changes,
  }),
);
