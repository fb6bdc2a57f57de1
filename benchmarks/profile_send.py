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
    """Confirmations, each sent by its own send_deliveries call (its own task in production):
    registrations made with registration.services.register on the http benchmark's event
    (with its questions answered), their confirmation rows then sent one by one."""
    from django.db import transaction

    from events.models import Event
    from notifications import services
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
    ids = []
    for n in range(opts.messages * 2):
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
    ids = list(
        Delivery.objects.filter(
            kind=Delivery.Kind.CONFIRMATION, registration__email__startswith=f"confirm-{run}-"
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )

    def send(chunk):
        for pk in chunk:
            services.send_deliveries(ids=[pk])

    half = opts.messages
    send(ids[: half // 5])  # warm up
    started = time.process_time()
    send(ids[half // 5 : half])
    plain_ms = (time.process_time() - started) * 1000 / (half - half // 5)
    # CPU time (all threads of this process), not wall time: the sends wait on the sink.
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    send(ids[half:])
    profiler.disable()
    sent = Delivery.objects.filter(pk__in=ids, status=Delivery.Status.SENT).count()
    print(f"confirmations, one send_deliveries each: {plain_ms:.2f} ms CPU per message")
    print(f"({sent} of {len(ids)} sent)")
    pstats.Stats(profiler).sort_stats(opts.sort).print_stats(opts.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
