"""Fan-out benchmark: the day-before meeting-link send to N confirmed registrants.

    .venv/bin/python -m benchmarks.fanout            # 1,000 then 10,000 registrants, ~2 min
    .venv/bin/python -m benchmarks.fanout --rounds 3 # interleaved loop/pipeline pairs, medians
    .venv/bin/python -m benchmarks.fanout --sizes 10000
    .venv/bin/python -m benchmarks.fanout --kind message   # an organiser's reminder instead

For each size, on its own freshly seeded database (convene_bench, Redis db 6 or BENCH_REDIS_DB):
- loop: one process renders and sends every message with notifications.emails.build_message
  over ONE SMTP connection (no outbox, no Celery) - the yardstick;
- pipeline: the scan task (what beat sends every minute) + one Celery worker with 2 pool
  processes + Redis + PostgreSQL, timed from sending the scan until the sink has N messages.
Both send to a local SMTP sink running in its own process (benchmarks/smtp_sink.py).
With --kind message, what is sent is an organiser's message (notifications.models.Message:
a reminder 24 hours before the start, Markdown with every placeholder and the meeting link,
in the six languages) instead of the built-in meeting link, which is then not yet due.
Prints both times, the ratio (budget <= 0.7), CPU per message in the workers (budget
<= 5 ms) and each worker process's peak RSS (budget <= 100 MB, flat from 1,000 to 10,000).
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from benchmarks.common import (
    BENCH_REDIS,
    BIN,
    PYTHON,
    ROOT,
    Processes,
    database_url,
    flush_redis,
    machine_summary,
    manage,
    production_env,
    recreate_database,
    say,
)

WORK = ROOT / "var" / "bench"
MEETING_LINK, MESSAGE = "meeting_link", "message"
SLUG = "bench-fanout"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- /proc readings (Linux) -----------------------------------------------------------------


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def peak_rss_mb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def private_mb(pid):
    """Unique set size: memory only this process holds (forked pool processes share the
    parent's pages, which RSS counts again in each of them)."""
    total = 0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith(("Private_Clean:", "Private_Dirty:")):
            total += int(line.split()[1])
    return total / 1024


def machine_ticks():
    """(busy, total) CPU ticks of the whole machine so far (/proc/stat)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def postgres_cpu_seconds():
    """CPU used so far by the PostgreSQL server: its live processes, plus the backends that
    have exited (the kernel adds those to the postmaster's children's time)."""
    total = 0.0
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and (proc / "comm").read_text().strip() == "postgres":
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
                total += cpu_seconds(int(proc.name))
                if (Path("/proc") / fields[1] / "comm").read_text().strip() != "postgres":
                    total += (int(fields[13]) + int(fields[14])) / CLOCK_TICKS  # postmaster
        except OSError:
            continue  # ended meanwhile
    return total


def children(pid):
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


# --- The sink -------------------------------------------------------------------------------


class Sink:
    def __init__(self, processes, *, keep_recipients=False):
        self.processes = processes
        self.port = free_port()
        self.count_file = WORK / f"sink-{self.port}.count"
        self.recipients_file = WORK / f"sink-{self.port}.recipients" if keep_recipients else None
        self.proc = None

    def start(self):
        self.count_file.unlink(missing_ok=True)
        args = ["--port", str(self.port), "--count-file", str(self.count_file)]
        if self.recipients_file:
            args += ["--recipients-file", str(self.recipients_file)]
        self.proc = self.processes.start(
            [PYTHON, "-m", "benchmarks.smtp_sink", *args],
            env=os.environ.copy(),
            log=WORK / "sink.log",
        )
        deadline = time.monotonic() + 20
        while not self.count_file.exists():
            if time.monotonic() > deadline:
                raise RuntimeError("the SMTP sink did not start")
            time.sleep(0.05)
        return self

    def stop(self):
        self.processes.stop(self.proc)

    def cpu(self):
        return cpu_seconds(self.proc.pid)

    def counts(self):
        try:
            messages, distinct = self.count_file.read_text().split()
            return int(messages), int(distinct)
        except (OSError, ValueError):
            return 0, 0

    def recipients(self):
        """How many messages each address received (needs keep_recipients)."""
        return Counter(self.recipients_file.read_text().split())

    def wait_for(self, expected, *, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.counts()[0] >= expected:
                return time.monotonic()
            time.sleep(0.01)
        raise RuntimeError(f"sink has {self.counts()} messages after {timeout}s, not {expected}")


# --- Setup ----------------------------------------------------------------------------------


def prepare(env, registrations, kind):
    recreate_database()
    flush_redis()
    manage(env, "migrate", "--no-input", "-v", "0")
    subprocess.run(
        [PYTHON, "-m", "benchmarks.fanout", "_seed", str(registrations), kind],
        cwd=ROOT,
        env=env,
        check=True,
    )
    import psycopg

    with psycopg.connect(database_url(), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def _seed(registrations, kind):
    import django

    django.setup()
    from datetime import timedelta

    from django.utils import timezone

    from benchmarks.seed import seed

    # Starts in 20 hours: the 24-hour send time has just passed (for a message, the
    # meeting link goes an hour before the start instead, so only the message is due).
    now = timezone.now()
    send_at = now - timedelta(minutes=1) if kind == MEETING_LINK else now + timedelta(hours=19)
    seed(slug=SLUG, registrations=registrations, starts_in_hours=20, send_at=send_at)
    if kind == MESSAGE:
        _seed_message()


def _seed_message():
    from datetime import timedelta

    from events.models import Event
    from notifications.models import Message

    body = (
        "Dear {name},\n\n**{event_title}** takes place on {event_date}. Please read the "
        "[revised concept note](https://events.example.org/note.pdf) before you join.\n\n"
        "- Join: {meeting_link}\n- Your registration: {manage_link}"
    )
    Message.objects.create(
        event=Event.objects.get(slug=SLUG),
        key="reminder-24h",
        subject="Tomorrow: {event_title}",
        body=body,
        translations={
            code: {"subject": f"[{code}] Tomorrow: {{event_title}}", "body": f"[{code}] {body}"}
            for code in ("ar", "zh-hans", "fr", "ru", "es")
        },
        send=Message.Send.BEFORE_START,
        offset=timedelta(hours=24),
        include_meeting_link=True,
        state=Message.State.SCHEDULED,
    )


# --- The in-process loop (run in a child process: python -m benchmarks.fanout _loop) --------


def _loop(kind):
    """Renders and sends every confirmed registrant's meeting link (or the organiser's
    message) over one SMTP connection, with the same build_message the workers use, but no
    outbox bookkeeping. Prints JSON."""
    import django

    django.setup()
    from django.core.mail import mailers

    from events.models import Event
    from notifications.emails import build_message
    from notifications.models import Delivery, Message
    from registration.models import Registration

    event = Event.objects.get(slug=SLUG)
    message_row = Message.objects.filter(event=event).first()
    registrations = Registration.objects.filter(
        event=event, status=Registration.Status.CONFIRMED
    ).order_by("pk")
    wall, cpu = time.monotonic(), time.process_time()
    connection = mailers.default
    connection.open()
    cache, sent = {}, 0
    try:
        for registration in registrations.iterator(chunk_size=500):
            registration.event = event
            delivery = Delivery(event=event, registration=registration, kind=kind)
            if kind == MESSAGE:
                delivery.version = message_row.pk
                delivery.message_row = message_row
            message = build_message(delivery=delivery, cache=cache)
            sent += connection.send_messages([message])
    finally:
        connection.close()
    print(
        json.dumps(
            {
                "sent": sent,
                "seconds": time.monotonic() - wall,
                "cpu_seconds": time.process_time() - cpu,
            }
        )
    )


def run_loop(env, kind):
    result = subprocess.run(
        [PYTHON, "-m", "benchmarks.fanout", "_loop", kind],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- The pipeline: scan + Celery workers ----------------------------------------------------


def celery_app():
    from celery import Celery

    return Celery("bench", broker=BENCH_REDIS)


def start_worker(processes, env, concurrency):
    app = celery_app()
    hostname = f"bench-{os.getpid()}@%h"
    proc = processes.start(
        [
            str(BIN / "celery"),
            "-A",
            "config",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            str(concurrency),
            "--loglevel",
            os.environ.get("BENCH_WORKER_LOGLEVEL", "WARNING"),
            "--hostname",
            hostname,
            "--without-gossip",
            "--without-mingle",
        ],
        env=env,
        log=WORK / "worker.log",
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the worker exited; see {WORK / 'worker.log'}")
        with app.connection_for_write(BENCH_REDIS) as connection:
            answered = app.control.ping(timeout=0.5, connection=connection)
        if answered and len(children(proc.pid)) >= concurrency:
            return proc
        time.sleep(0.5)
    raise RuntimeError("the Celery worker did not answer a ping within 60s")


def delivery_counts(kind):
    import psycopg

    with psycopg.connect(database_url()) as conn:
        rows = conn.execute(
            "SELECT status, count(*) FROM notifications_delivery WHERE kind = %s GROUP BY status",
            [kind],
        ).fetchall()
    return dict(rows)


def run_pipeline(processes, env, sink, registrations, concurrency, kind):
    worker = start_worker(processes, env, concurrency)
    try:
        pool = children(worker.pid)
        pids = [worker.pid, *pool]
        cpu_before = {pid: cpu_seconds(pid) for pid in pids}
        sink_before, machine_before = sink.cpu(), machine_ticks()
        postgres_before = postgres_cpu_seconds()
        started = time.monotonic()
        # Exactly what beat sends every minute.
        # Celery prefers CELERY_BROKER_URL from the environment over its own setting, so the
        # connection to the bench broker is explicit.
        app = celery_app()
        with app.connection_for_write(BENCH_REDIS) as connection:
            app.send_task("notifications.tasks.scan", connection=connection)
        finished = sink.wait_for(registrations, timeout=1800)
        seconds = finished - started
        sink_cpu, machine_after = sink.cpu() - sink_before, machine_ticks()
        postgres_cpu = postgres_cpu_seconds() - postgres_before
        parent_cpu = cpu_seconds(worker.pid) - cpu_before[worker.pid]
        time.sleep(1)  # let the last task record its outcome before reading counts
        cpu = sum(cpu_seconds(pid) - cpu_before[pid] for pid in pids)
        rss = {pid: peak_rss_mb(pid) for pid in pool}
        private = {pid: private_mb(pid) for pid in pool}
        parent_rss = peak_rss_mb(worker.pid)
    finally:
        processes.stop(worker, timeout=30)
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "parent_cpu_seconds": parent_cpu,
        "sink_cpu_seconds": sink_cpu,
        "postgres_cpu_seconds": postgres_cpu,
        "machine_busy": (machine_after[0] - machine_before[0])
        / max(machine_after[1] - machine_before[1], 1),
        "pool_peak_rss_mb": sorted(rss.values()),
        "pool_private_mb": sorted(private.values()),
        "parent_peak_rss_mb": parent_rss,
        "deliveries": delivery_counts(kind),
    }


def clear_deliveries(kind):
    """Forget the previous round's outbox rows, so the next scan queues every one again."""
    import psycopg

    with psycopg.connect(database_url(), autocommit=True) as conn:
        conn.execute("DELETE FROM notifications_delivery WHERE kind = %s", [kind])
        conn.execute("UPDATE notifications_message SET state = 'scheduled', started_at = NULL")


def measure(size, concurrency, rounds, kind=MEETING_LINK):
    """Seeds once, then runs loop, pipeline, loop, pipeline... so that a change in the
    machine's load hits both alike; the figures are the medians of the rounds."""
    WORK.mkdir(parents=True, exist_ok=True)
    loops, pipelines = [], []
    with Processes() as processes:
        env = production_env(
            SITE_URL="https://events.example.org",
            DEFAULT_FROM_EMAIL="Convene <events@example.org>",
        )
        say(f"\n[{size} registrants] seeding")
        prepare(env, size, kind)
        for round_number in range(1, rounds + 1):
            sink = Sink(processes).start()
            env["EMAIL_URL"] = f"smtp://127.0.0.1:{sink.port}"
            sink_cpu = sink.cpu()
            loop = run_loop(env, kind)
            loop["sink_cpu_seconds"] = sink.cpu() - sink_cpu
            loop_counts = sink.counts()
            sink.stop()
            if loop["sent"] != size or loop_counts[0] != size:
                raise RuntimeError(f"loop sent {loop['sent']}, sink got {loop_counts}")
            say(
                f"  [{size}] round {round_number} loop: {loop['seconds']:.1f}s, "
                f"{loop['cpu_seconds'] * 1000 / size:.2f} ms CPU/message, "
                f"sink {loop['sink_cpu_seconds'] * 1000 / size:.2f} ms CPU/message"
            )
            loops.append(loop)

            clear_deliveries(kind)
            sink = Sink(processes).start()
            env["EMAIL_URL"] = f"smtp://127.0.0.1:{sink.port}"
            pipeline = run_pipeline(processes, env, sink, size, concurrency, kind)
            pipeline["sink"] = sink.counts()
            sink.stop()
            say(
                f"  [{size}] round {round_number} pipeline: {pipeline['seconds']:.1f}s, "
                f"{pipeline['cpu_seconds'] * 1000 / size:.2f} ms CPU/message "
                f"(worker's parent {pipeline['parent_cpu_seconds'] * 1000 / size:.2f}), "
                f"sink {pipeline['sink_cpu_seconds'] * 1000 / size:.2f}, "
                f"PostgreSQL {pipeline['postgres_cpu_seconds'] * 1000 / size:.2f} ms CPU/message, "
                f"machine {pipeline['machine_busy']:.0%} busy, "
                f"peak RSS {', '.join(f'{mb:.0f}' for mb in pipeline['pool_peak_rss_mb'])} MB "
                f"(private {', '.join(f'{mb:.0f}' for mb in pipeline['pool_private_mb'])} MB), "
                f"sink {pipeline['sink']}, outbox {pipeline['deliveries']}"
            )
            pipelines.append(pipeline)
    return {"size": size, "loop": _median(loops), "pipeline": _median(pipelines)}


def _median(runs):
    """The run with the median time, its CPU replaced by the median CPU; worst case for
    memory and for correctness (any round that lost or repeated a message shows)."""
    runs_by_time = sorted(runs, key=lambda run: run["seconds"])
    median = dict(runs_by_time[len(runs) // 2])
    median["cpu_seconds"] = statistics.median(run["cpu_seconds"] for run in runs)
    if "pool_peak_rss_mb" in median:
        median["pool_peak_rss_mb"] = max((run["pool_peak_rss_mb"] for run in runs), key=max)
        median["pool_private_mb"] = max((run["pool_private_mb"] for run in runs), key=max)
        worst = min(runs, key=lambda run: (run["sink"][1], -run["sink"][0]))
        median["sink"], median["deliveries"] = worst["sink"], worst["deliveries"]
    return median


def report(results, concurrency, rounds, kind=MEETING_LINK):
    say("")
    say(f"Machine: {machine_summary()}")
    say("Sent: " + ("an organiser's message" if kind == MESSAGE else "the meeting link"))
    say(
        f"One Celery worker, prefork pool of {concurrency}; sink in its own process; "
        f"medians of {rounds} interleaved round(s)"
    )
    say("")
    say(
        f"{'registrants':>12}{'loop s':>9}{'pipeline s':>12}{'ratio':>8}{'CPU ms/msg':>12}"
        f"{'loop CPU':>10}{'peak RSS MB (pool)':>22}{'private MB':>12}{'sent/dupes':>13}"
    )
    failures = []
    for r in results:
        size, loop, pipe = r["size"], r["loop"], r["pipeline"]
        ratio = pipe["seconds"] / loop["seconds"]
        cpu_ms = pipe["cpu_seconds"] * 1000 / size
        messages, distinct = pipe["sink"]
        sent = pipe["deliveries"].get("sent", 0)
        say(
            f"{size:>12}{loop['seconds']:9.1f}{pipe['seconds']:12.1f}{ratio:8.2f}{cpu_ms:12.2f}"
            f"{loop['cpu_seconds'] * 1000 / size:10.2f}"
            f"{' / '.join(f'{mb:.0f}' for mb in pipe['pool_peak_rss_mb']):>22}"
            f"{' / '.join(f'{mb:.0f}' for mb in pipe['pool_private_mb']):>12}"
            f"{f'{sent}/{messages - distinct}':>13}"
        )
        if messages != size or distinct != size or sent != size:
            failures.append(f"{size}: sink {messages} messages, {distinct} distinct, {sent} sent")
    largest = results[-1]
    ratio = largest["pipeline"]["seconds"] / largest["loop"]["seconds"]
    cpu_ms = largest["pipeline"]["cpu_seconds"] * 1000 / largest["size"]
    peaks = [max(r["pipeline"]["pool_peak_rss_mb"]) for r in results]
    say("")
    checks = [
        (f"end-to-end {ratio:.2f} x the loop (budget <= 0.70)", ratio <= 0.7),
        (f"worker CPU {cpu_ms:.2f} ms per message (budget <= 5)", cpu_ms <= 5),
        (f"worker peak RSS {max(peaks):.0f} MB (budget <= 100)", max(peaks) <= 100),
    ]
    if len(results) > 1:
        growth = peaks[-1] - peaks[0]
        checks.append(
            (
                f"RSS growth {results[0]['size']} -> {results[-1]['size']}: {growth:+.1f} MB "
                "(budget: flat, <= 10 MB)",
                growth <= 10,
            )
        )
    for text, ok in checks:
        say(f"  {'PASS' if ok else 'FAIL'}  {text}")
    for failure in failures:
        say(f"  FAIL  every registrant exactly once: {failure}")
    return 0 if all(ok for _, ok in checks) and not failures else 1


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_seed"]:
        return _seed(int(argv[1]), argv[2])
    if argv[:1] == ["_loop"]:
        return _loop(argv[1])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated registrant counts")
    parser.add_argument("--concurrency", type=int, default=2, help="worker pool processes")
    parser.add_argument("--rounds", type=int, default=1, help="loop/pipeline pairs per size")
    parser.add_argument(
        "--kind",
        choices=[MEETING_LINK, MESSAGE],
        default=MEETING_LINK,
        help="what goes out: the built-in meeting link or an organiser's message",
    )
    opts = parser.parse_args(argv)
    results = [
        measure(int(size), opts.concurrency, opts.rounds, opts.kind)
        for size in opts.sizes.split(",")
    ]
    return report(results, opts.concurrency, opts.rounds, opts.kind)


if __name__ == "__main__":
    raise SystemExit(main())
