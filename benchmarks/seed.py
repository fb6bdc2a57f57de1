"""Seed the benchmark database: one published side event with a realistic page (agenda,
speakers, translations) and N confirmed registrations, bulk-inserted.

    python -m benchmarks.seed --registrations 10000 [--slug bench-side-event]

Run with DJANGO_SETTINGS_MODULE and DATABASE_URL set (the benchmarks do this).
"""

import argparse
import os
from datetime import timedelta

import django


def _label(en):
    return {
        "en": en,
        **{code: f"[{code}] {en}" for code in ("ar", "zh-hans", "fr", "ru", "es")},
    }


# The registration questions of the benchmark's event, in the six languages: the form page,
# the POST and the confirmation email are measured with questions present (issue 19).
QUESTIONS = [
    {"key": "position", "type": "text", "required": True, "label": _label("Your position")},
    {
        "key": "access",
        "type": "select",
        "required": True,
        "label": _label("Do you need sign-language interpretation or captions?"),
        "choices": [
            {"key": key, "label": _label(text)}
            for key, text in (("sign", "Sign language"), ("captions", "Captions"), ("none", "No"))
        ],
    },
    {
        "key": "topics",
        "type": "multiple",
        "label": _label("Topics of interest"),
        "choices": [
            {"key": key, "label": _label(key.title())} for key in ("prisons", "youth", "gender")
        ],
    },
    {
        "key": "delegation",
        "type": "text",
        "required": True,
        "label": _label("Delegation"),
        "show_if": {"question": "affiliation", "equals": "member_state"},
    },
]


def add_questions(event):
    from registration.questions_exchange import parse_questions, save_questions

    save_questions(event=event, parsed=parse_questions(QUESTIONS))


def seed(*, slug, registrations, starts_in_hours=24 * 10, send_at=None):
    from django.utils import timezone

    from events.models import AgendaItem, Event, Speaker
    from registration.models import Registration

    now = timezone.now()
    starts = (now + timedelta(hours=starts_in_hours)).replace(second=0, microsecond=0)
    event = Event.objects.create(
        slug=slug,
        title="Engagement of civil society in the management of violent extremist prisoners",
        summary="A virtual side event on how civil society organisations can support "
        "rehabilitation and reintegration in prisons.",
        description="\n\n".join(
            f"Paragraph {n}: the number of violent extremist prisoners is rising; civil "
            "society organisations can support rehabilitation and reintegration, including "
            "gender- and age-sensitive support, but are often excluded."
            for n in range(6)
        ),
        expected_outcomes="\n".join(f"Outcome number {n}" for n in range(1, 5)),
        organiser="Benchmark Office",
        contact_email="events@example.org",
        starts_at=starts,
        ends_at=starts + timedelta(minutes=90),
        timezone="America/New_York",
        meeting_url="https://meet.example.org/j/secret-bench-room",
        meeting_details="Meeting ID 999 0000 1111, passcode bench-secret",
        interpretation_languages=["ar", "zh-hans", "en", "fr", "ru", "es"],
        status=Event.Status.PUBLISHED,
        meeting_link_send_at=send_at,
        translations={
            lang: {"title": f"[{lang}] Engagement of civil society", "summary": f"[{lang}]"}
            for lang in ("ar", "zh-hans", "fr", "ru", "es")
        },
    )
    add_questions(event)
    speakers = [
        Speaker.objects.create(
            name=f"Speaker {n}", title="Director", organisation=f"Organisation {n}"
        )
        for n in range(6)
    ]
    for n in range(8):
        item = AgendaItem.objects.create(
            event=event,
            starts_at=starts + timedelta(minutes=10 * n),
            ends_at=starts + timedelta(minutes=10 * n + 10),
            title=f"Agenda item {n}",
            description="Remarks and discussion.",
            position=n,
        )
        item.speakers.set(speakers[n % 6 : n % 6 + 2])

    affiliations = [choice for choice, _ in Registration.Affiliation.choices]
    languages = ["ar", "zh-hans", "en", "fr", "ru", "es"]
    batch = []
    for n in range(registrations):
        batch.append(
            Registration(
                event=event,
                email=f"seed{n}@example.org",
                name=f"Seeded Registrant {n}",
                organisation="Example Organisation",
                country="FR",
                affiliation=affiliations[n % len(affiliations)],
                preferred_language=languages[n % len(languages)],
                consent_at=now,
                confirmed_at=now,
                status=Registration.Status.CONFIRMED,
            )
        )
        if len(batch) == 2000:
            Registration.objects.bulk_create(batch)
            batch = []
    Registration.objects.bulk_create(batch)
    return event


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--registrations", type=int, default=10_000)
    parser.add_argument("--slug", default="bench-side-event")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    event = seed(slug=args.slug, registrations=args.registrations)
    print(f"seeded {event.slug} (id {event.pk}) with {args.registrations} registrations")


if __name__ == "__main__":
    main()
