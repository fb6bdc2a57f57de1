"""Where a worker's time goes per message: cProfile over notifications.services.
send_deliveries (claim, build, SMTP send, record) on the fan-out benchmark's database (run
benchmarks.fanout first), sending to the SMTP sink in its own process.

    .venv/bin/python -m benchmarks.profile_send [--messages 600] [--top 40]

Resets that many meeting-link rows to pending, sends some to warm up, then measures CPU per
message without and with the profiler and prints the profile.
"""

import argparse
import cProfile
import os
import pstats
import socket
import subprocess
import sys
import time

from benchmarks.common import PYTHON, ROOT, Processes, production_env

WORK_DIR = ROOT / "var" / "bench"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument(
        "--confirmations",
        action="store_true",
        help="profile confirmations instead, one send_deliveries call per message as the "
        "sign-up enqueues them (on the http benchmark's database: run benchmarks.http first)",
    )
    opts = parser.parse_args()
    if os.environ.get("_PROFILE_SEND_CHILD"):
        return profile(opts)
    port = free_port()
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    count_file = WORK_DIR / f"profile-sink-{port}.count"
    with Processes() as processes:
        processes.start(
            [
                PYTHON,
                "-m",
                "benchmarks.smtp_sink",
                "--port",
                str(port),
                "--count-file",
                str(count_file),
            ],
            env=os.environ.copy(),
        )
        while not count_file.exists():
            time.sleep(0.05)
        env = production_env(
            SITE_URL="https://events.example.org",
            EMAIL_URL=f"smtp://127.0.0.1:{port}",
            _PROFILE_SEND_CHILD="1",
        )
        subprocess.run(
            [PYTHON, "-m", "benchmarks.profile_send", *sys.argv[1:]], cwd=ROOT, env=env, check=True
        )
    return 0


def profile(opts):
    import django

    django.setup()
    from notifications import services
    from notifications.models import Delivery

    if opts.confirmations:
        return profile_confirmations(opts)
    ids = list(
        Delivery.objects.filter(kind=Delivery.Kind.MEETING_LINK)
        .order_by("pk")
        .values_list("pk", flat=True)[: opts.messages * 2]
    )
    if len(ids) < opts.messages * 2:
        raise SystemExit("run benchmarks.fanout first: not enough meeting-link rows")
    Delivery.objects.filter(pk__in=ids).update(
        status=Delivery.Status.PENDING,
        attempts=0,
        lease_expires_at=None,
        next_attempt_at=None,
        sent_at=None,
    )
    size = services.batch_size()

    def send(chunk):
        for start in range(0, len(chunk), size):
            services.send_deliveries(ids=chunk[start : start + size])

    half = opts.messages
    send(ids[: half // 5])  # warm up: templates compiled, connections open
    started = time.process_time()
    send(ids[half // 5 : half])
    plain_ms = (time.process_time() - started) * 1000 / (half - half // 5)
    profiler = cProfile.Profile()
    profiler.enable()
    send(ids[half:])
    profiler.disable()
    print(f"send_deliveries: {plain_ms:.2f} ms CPU per message (batches of {size})")
    pstats.Stats(profiler).sort_stats(opts.sort).print_stats(opts.top)
    return 0


def profile_confirmations(opts):
    """Confirmations as the sign-up enqueues them: one send_deliveries call (one task in
    production) per registration, on the http benchmark's event with its questions
    answered. Two arrival patterns: one at a time (each sent before the next person
    registers: no queue), and a queue of 20 (a crowd registers faster than the worker sends:
    the first task takes the waiting ones along, sending.claim)."""
    from django.db import transaction

    from events.models import Event
    from notifications.models import Delivery
    from registration import services as registration_services
    from registration.questions import questions_for

    event = Event.objects.get(slug="bench-side-event")
    answers = {
        question.key: (question.choices[0]["key"] if question.choices else "Bench answer")
        for question in questions_for(event)
        if question.type in ("text", "select", "choice")
    }
    run = int(time.time())
    counter = iter(range(10**9))

    def register():
        n = next(counter)
        with transaction.atomic():
            registration_services.register(
                event=event,
                data={
                    "name": f"Profile Registrant {n}",
                    "email": f"confirm-{run}-{n}@bench.example.org",
                    "organisation": "Org",
                    "country": "FR",
                    "affiliation": "cso_ngo",
                    "preferred_language": ("en", "fr", "es", "ar", "ru", "zh-hans")[n % 6],
                    "interpretation_language": "en",
                    "timezone": "Europe/Zurich",
                    "consent": True,
                    "answers": answers,
                },
                issue_token=False,
            )
        return Delivery.objects.get(
            kind=Delivery.Kind.CONFIRMATION,
            registration__email=f"confirm-{run}-{n}@bench.example.org",
        ).pk

    def arrivals(queue, count):
        """CPU (ms) of the send_deliveries calls per confirmation, `queue` registering
        before their tasks run."""
        spent = 0.0
        for _ in range(count // queue):
            ids = [register() for _ in range(queue)]
            started = time.process_time()
            for pk in ids:
                services.send_deliveries(ids=[pk])
            spent += time.process_time() - started
        return spent * 1000 / (count // queue * queue)

    from notifications import services

    arrivals(1, 20)  # warm up
    for queue in (1, 20):
        ms = arrivals(queue, opts.messages)
        print(
            f"confirmations, one send_deliveries each, {queue} waiting: {ms:.2f} ms CPU per message"
        )
    profiler = cProfile.Profile(time.process_time)  # CPU of all threads, not wall time
    profiler.enable()
    arrivals(1, opts.messages // 2)
    profiler.disable()
    print("profile of one at a time:")
    pstats.Stats(profiler).sort_stats(opts.sort).print_stats(opts.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
