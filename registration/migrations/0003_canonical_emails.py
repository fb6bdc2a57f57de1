"""Moves every stored address to the canonical form (registration.addresses.canonical_email).

Until now `"dup"@example.org`, full-width, IDN and punycode spellings of one mailbox were each
a separate active registration. Per event, the oldest active registration of a mailbox is
kept; any later active one for the same mailbox is cancelled (it was the same person signing
up again), without an email, and its manage links are moved to the kept registration, so
every link that person received still opens their registration. A seat freed that way is
not given to the waiting list here: the organiser sees it in the admin.

Invisible format characters (soft hyphen, zero-width space), which the form now refuses, are
dropped from old rows first: the mail reached the mailbox without them. Anonymised rows are
left alone, and so is an address canonical_email still refuses (it could never be
delivered): the migration changes no row's validity, only its spelling.
Not reversible in content: going back keeps the canonical spellings, which the old code reads.
"""

import unicodedata

from django.db import migrations
from django.utils import timezone

from registration.addresses import canonical_email_or_none

BATCH = 2000


def _canonical(address):
    visible = "".join(char for char in address if unicodedata.category(char) != "Cf")
    return canonical_email_or_none(visible) or address


def canonicalise_emails(apps, schema_editor):
    Registration = apps.get_model("registration", "Registration")
    ManageToken = apps.get_model("registration", "ManageToken")
    kept = {}  # (event id, canonical address) -> pk of the oldest active registration
    duplicates = {}  # pk of a later active registration -> pk of the kept one
    respelled = []
    rows = (
        Registration.objects.filter(anonymised_at__isnull=True)
        .order_by("event_id", "created_at", "pk")
        .only("pk", "event_id", "email", "status")
    )
    for row in rows.iterator(chunk_size=BATCH):
        address = _canonical(row.email)
        if row.status != "cancelled":
            first = kept.setdefault((row.event_id, address), row.pk)
            if first != row.pk:
                duplicates[row.pk] = first
        if address != row.email:
            row.email = address
            respelled.append(row)

    # Cancel first, so that no spelling change below meets a still-active twin.
    pks = list(duplicates)
    for start in range(0, len(pks), BATCH):
        Registration.objects.filter(pk__in=pks[start : start + BATCH]).update(
            status="cancelled", cancelled_at=timezone.now(), updated_at=timezone.now()
        )
    for duplicate, first in duplicates.items():
        ManageToken.objects.filter(registration_id=duplicate).update(registration_id=first)
    Registration.objects.bulk_update(respelled, ["email"], batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [
        ("registration", "0002_manage_tokens"),
    ]

    operations = [
        migrations.RunPython(canonicalise_emails, migrations.RunPython.noop, elidable=True),
    ]
