"""The broker crashes mid fan-out and comes back empty: every queued "send these" message is
gone. The next scans find the rows still pending and every confirmed registrant still gets
exactly one meeting link (at most two repeats per pool process in flight at the crash).

A killed worker and a mail server outage are covered by tests/integration; this adds the
broker, on a redis-server of our own (port 6390) so the shared one is never touched."""

import time
from collections import Counter

import pytest

from notifications.models import Delivery
from tests.faults.conftest import Worker, later_scan, send_scan, wait_until, worker_env

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

REGISTRANTS = 300
# Per pool process: the message whose outcome is being recorded and the next one, being sent.
IN_FLIGHT_BOUND = 2 * Worker.CONCURRENCY


def meeting_links(event):
    return Delivery.objects.filter(event=event, kind=Delivery.Kind.MEETING_LINK)


def all_sent(event):
    return meeting_links(event).filter(status=Delivery.Status.SENT).count() == REGISTRANTS


def assert_everyone_got_it_once(smtp, event, *, duplicates_allowed=0):
    received = Counter(smtp.recorder.recipients())
    assert len(received) == REGISTRANTS, "someone did not get the meeting link"
    duplicates = sum(received.values()) - REGISTRANTS
    assert duplicates <= duplicates_allowed, f"{duplicates} sent twice"
    statuses = Counter(meeting_links(event).values_list("status", flat=True))
    assert statuses == {Delivery.Status.SENT: REGISTRANTS}
    # Only the meeting link went out: the scan queued nothing else.
    assert all(
        "meet.example.org/j/faults" in m.get_body(("plain",)).get_content()
        for m in smtp.recorder.messages
    )


def beat_until_all_sent(event, *, timeout):
    """Beat's every-minute scan, run every 2 s and dated 2 minutes ahead, until done."""

    def scanned_and_done():
        if all_sent(event):
            return True
        later_scan()
        time.sleep(2)
        return all_sent(event)

    wait_until(scanned_and_done, timeout=timeout, message="not every meeting link was sent")


def test_redis_restarted_mid_fan_out_loses_nothing(due_event, smtp, redis_server, start_worker):
    start_worker(worker_env(smtp.url))
    send_scan()
    wait_until(
        lambda: len(smtp.recorder.messages) >= 20, timeout=120, message="sending never started"
    )
    redis_server.kill()  # no persistence: every queued "send these" message is gone
    at_crash = len(smtp.recorder.messages)
    time.sleep(2)
    redis_server.start()
    assert at_crash < REGISTRANTS, "the fan-out finished before the crash; the test proves nothing"

    beat_until_all_sent(due_event, timeout=180)
    assert_everyone_got_it_once(smtp, due_event, duplicates_allowed=IN_FLIGHT_BOUND)
