"""notifications.fast.outcome writes a message's outcome as the ORM's update() would."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.fast import outcome
from notifications.models import Delivery
from tests.notifications.conftest import STARTS, register

pytestmark = pytest.mark.django_db(transaction=True)

Status = Delivery.Status
COMPARED = ["status", "last_error", "esp_message_id", "sent_at", "updated_at"]
COMPARED += ["lease_expires_at", "next_attempt_at", "attempts", "kind", "version"]


def claimed_rows(event, travel, status=Status.SENDING):
    """The same delivery twice (one per registration), claimed under a lease."""
    travel(STARTS - timedelta(days=2))
    rows = []
    for email in ("ana@example.org", "ben@example.org"):
        delivery = Delivery.objects.get(registration=register(event, email))
        Delivery.objects.filter(pk=delivery.pk).update(
            status=status,
            lease_expires_at=timezone.now() + timedelta(minutes=5),
            next_attempt_at=timezone.now(),
        )
        rows.append(delivery.pk)
    return rows


def both_ways(fast_pk, plain_pk, **values):
    outcome.record(fast_pk, only_if_status=Status.SENDING, **values)
    Delivery.objects.filter(pk=plain_pk, status=Status.SENDING).update(
        **values, lease_expires_at=None, next_attempt_at=None
    )
    fast, plain = (Delivery.objects.values(*COMPARED).get(pk=pk) for pk in (fast_pk, plain_pk))
    return fast, plain


@pytest.mark.parametrize("status", [Status.SENT, Status.FAILED, Status.SKIPPED])
def test_the_row_reads_as_the_orms_update_leaves_it(event, travel, status):
    fast_pk, plain_pk = claimed_rows(event, travel)
    now = timezone.now()
    fast, plain = both_ways(
        fast_pk,
        plain_pk,
        status=status,
        last_error="" if status == Status.SENT else "SMTPDataError: (550, 'Rejected') ünïcode",
        esp_message_id="<id@example.org>" if status == Status.SENT else "",
        sent_at=now if status == Status.SENT else None,
        updated_at=now,
    )
    assert fast == plain
    assert fast["status"] == status and fast["lease_expires_at"] is None


def test_a_row_another_worker_finished_is_left_alone_both_ways(event, travel):
    fast_pk, plain_pk = claimed_rows(event, travel, status=Status.SENT)
    before = [Delivery.objects.values(*COMPARED).get(pk=pk) for pk in (fast_pk, plain_pk)]
    fast, plain = both_ways(
        fast_pk,
        plain_pk,
        status=Status.FAILED,
        last_error="late",
        esp_message_id="",
        sent_at=None,
        updated_at=timezone.now(),
    )
    assert [fast, plain] == before
