"""HTTP throughput benchmark: gunicorn with the production settings on PostgreSQL + Redis,
driven by wrk from a separate process. Prints req/s and p50/p99 per scenario, the ratios to
/healthz and PASS/FAIL against the budgets in DESIGN.md.

    .venv/bin/python -m benchmarks.http            # ~4 minutes on 2 cores
    .venv/bin/python -m benchmarks.http --duration 5 --rounds 1   # a quick look
    .venv/bin/python -m benchmarks.http --only A,F --visitors 32  # /healthz and the flow

It recreates its own database (convene_bench) and uses Redis db 6 (BENCH_REDIS_DB): never the
app's data. Scenarios run interleaved (A B C D E F, A B C D E F, ...) and each figure is the
median of the rounds, so drift on a noisy machine hits every scenario alike; compare the
ratios.

F, the registration flow, is not a wrk run: benchmarks/flow.py plays N visitors, each a new
browser making the four requests of a sign-up (event page, form, POST, check-your-email
page), while a Celery worker (prefork pool of 2, as in production) sends the confirmation
emails to an SMTP sink. The worker consumes only during F's rounds (its queue is purged of
D's confirmations first, which nothing sends), so the other scenarios run as before; each F
round lasts until the sink holds the round's last confirmation, and its CPU per registration
is counted in the web processes, the worker and the bench database's PostgreSQL backends.
"""

import argparse
import json
import statistics
import subprocess
import time
import urllib.parse
import urllib.request
from http.cookies import SimpleCookie
from pathlib import Path

from benchmarks.common import (
    BENCH_DB,
    BENCH_REDIS,
    BIN,
    PG_HOST,
    PG_PORT,
    PG_USER,
    PYTHON,
    ROOT,
    Processes,
    database_url,
    ensure_wrk,
    flush_redis,
    machine_summary,
    manage,
    production_env,
    recreate_database,
    run_module,
    say,
    wait_for_http,
)
from benchmarks.fanout import WORK, Sink, celery_app, children, cpu_seconds, start_worker
from benchmarks.flow import EMAIL_PLACEHOLDER, form_body, read_form

WRK_DIR = Path(__file__).resolve().parent / "wrk"
SLUG = "bench-side-event"
LOG = ROOT / "var" / "bench" / "gunicorn.log"

# name -> (minimum ratio to /healthz, maximum p99 in ms or None)
BUDGETS = {
    "event page, warm cache": (0.8, None),
    "event page, cache off": (0.15, None),
    "registration POST": (0.12, 300),
    "registration flow": (0.04, 2000),
}
FLOW_EMAILS = "flow-%"  # the flow's addresses (benchmarks/flow.py); wrk's POSTs use r...


def count_registrations():
    """Registrations stored by scenario D (and the seed): not the flow's."""
    import psycopg

    with psycopg.connect(database_url()) as conn:
        return conn.execute(
            "SELECT count(*) FROM registration_registration WHERE email NOT LIKE %s",
            [FLOW_EMAILS],
        ).fetchone()[0]


def form_session(base_url, path):
    """Load the registration form once, as a browser would: its cookies and CSRF token."""
    with urllib.request.urlopen(base_url + path, timeout=10) as response:
        html = response.read().decode()
        cookies = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookies.load(header)
    if 'name="csrfmiddlewaretoken"' not in html:
        raise RuntimeError(f"no CSRF token in the form at {path}")
    cookie_header = "; ".join(f"{name}={morsel.value}" for name, morsel in cookies.items())
    return cookie_header, html


def registration_body(html):
    """A valid submission of the form as served (its CSRF token and hidden inputs, every
    field filled as flow.read_form fills it), with the placeholder XEMAILX for the email."""
    return form_body(html, read_form(html), EMAIL_PLACEHOLDER)


def run_wrk(wrk, url, *, script, args, duration, connections, threads=2):
    command = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "5s",
        "-s",
        str(WRK_DIR / script),
        url,
        "--",
        *args,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode:
        raise RuntimeError(f"wrk failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    for line in result.stdout.splitlines():
        if line.startswith("BENCH "):
            figures = json.loads(line[6:])
            break
    else:
        raise RuntimeError(f"wrk printed no figures:\n{result.stdout}\n{result.stderr}")
    seconds = figures["duration_us"] / 1e6
    figures["rps"] = figures["requests"] / seconds
    figures["errors"] = (
        figures["socket_errors"] + figures["timeouts"] + figures["unexpected_status"]
    )
    if result.stderr.strip():
        figures["stderr"] = result.stderr.strip()
    return figures


def start_gunicorn(processes, env, port, workers):
    args = [
        str(BIN / "gunicorn"),
        "config.wsgi",
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--worker-class",
        "sync",
        "--log-level",
        "warning",
    ]
    proc = processes.start(args, env=env, log=LOG)
    wait_for_http(f"http://127.0.0.1:{port}/healthz")
    return proc


def bench_backends_cpu():
    """CPU so far of each PostgreSQL backend connected to the bench database, by PID (other
    databases on the server, e.g. other people's tests, are not counted; neither are the
    server's shared background processes)."""
    # A backend's title: "postgres: [cluster: ]user database host(port) state".
    database = f" {PG_USER} {BENCH_DB} ".encode()
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            title = (proc / "cmdline").read_bytes().replace(b"\0", b" ")
            if title.startswith(b"postgres: ") and database in title:
                found[int(proc.name)] = cpu_seconds(int(proc.name))
        except OSError:
            continue  # ended meanwhile
    return found


def set_aside_waiting_confirmations():
    """Marks the pending confirmations of the other scenarios as skipped, so that the flow's
    worker sends only the flow's own."""
    import psycopg

    with psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=BENCH_DB, autocommit=True
    ) as conn:
        conn.execute(
            "UPDATE notifications_delivery SET status = 'skipped', "
            "last_error = 'benchmark: not a registration of the flow' "
            "WHERE status = 'pending' AND kind IN ('confirmation', 'verify_email')"
        )


class RegistrationFlow:
    """Scenario F: N visitors signing up (benchmarks/flow.py) against the web server, with one
    Celery worker (prefork pool of 2) sending the confirmations to an SMTP sink that keeps
    every recipient, so each registration can be checked: stored once, one email."""

    def __init__(self, processes, env, web, base_url, visitors):
        self.web, self.base_url, self.visitors = web, base_url, visitors
        self.sink = Sink(processes, keep_recipients=True).start()
        worker_env = {
            **env,
            "EMAIL_URL": f"smtp://127.0.0.1:{self.sink.port}",
            "SITE_URL": "https://events.example.org",
            "DEFAULT_FROM_EMAIL": "Convene <events@example.org>",
        }
        self.worker = start_worker(processes, worker_env, concurrency=2)
        self.app = celery_app()
        self._consume(False)  # before any POST: the other scenarios' emails stay queued
        self.redirected, self.uncertain = [], []

    def _consume(self, on):
        with self.app.connection_for_write(BENCH_REDIS) as connection:
            if on:
                # Scenario D's confirmations: nothing sends them, they would go first. Their
                # rows are set aside too: a worker's batch takes waiting confirmations along
                # (notifications.services.sending.claim), as it would in production.
                self.app.control.purge(connection=connection)
                set_aside_waiting_confirmations()
            queue = self.app.conf.task_default_queue
            switch = self.app.control.add_consumer if on else self.app.control.cancel_consumer
            if not switch(queue, reply=True, limit=1, timeout=10, connection=connection):
                raise RuntimeError(f"the worker did not answer {switch.__name__}({queue})")

    def _cpu(self):
        web = [self.web.pid, *children(self.web.pid)]
        worker = [self.worker.pid, *children(self.worker.pid)]
        return {
            "web": sum(cpu_seconds(pid) for pid in web),
            "worker": sum(cpu_seconds(pid) for pid in worker),
            "postgres": bench_backends_cpu(),
        }

    def run(self, round_number, duration):
        emails_file = WORK / f"flow-{round_number}.emails"
        self._consume(True)
        try:
            before, started = self._cpu(), time.monotonic()
            result = subprocess.run(
                [
                    PYTHON,
                    "-m",
                    "benchmarks.flow",
                    "--base",
                    self.base_url,
                    "--slug",
                    SLUG,
                    "--visitors",
                    str(self.visitors),
                    "--duration",
                    str(duration),
                    "--run-id",
                    f"{int(time.time())}r{round_number}",
                    "--emails",
                    str(emails_file),
                ],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=False,
            )
            lines = [line for line in result.stdout.splitlines() if line.startswith("BENCH ")]
            if result.returncode or not lines:
                raise RuntimeError(f"benchmarks.flow failed:\n{result.stdout}\n{result.stderr}")
            figures = json.loads(lines[-1][6:])
            visitors_done = time.monotonic()
            emails = emails_file.read_text().split()
            self.redirected += emails
            self.uncertain += Path(f"{emails_file}.uncertain").read_text().split()
            figures["missing_emails"] = self._wait_for_emails(emails, timeout=120)
            after, drained = self._cpu(), time.monotonic()
        finally:
            self._consume(False)
        registrations = max(len(emails), 1)
        postgres = sum(
            cpu - before["postgres"].get(pid, 0.0) for pid, cpu in after["postgres"].items()
        )
        figures.update(
            registrations=len(emails),
            round_seconds=drained - started,
            email_lag_s=drained - visitors_done,
            cpu_ms={
                "web": (after["web"] - before["web"]) * 1000 / registrations,
                "worker": (after["worker"] - before["worker"]) * 1000 / registrations,
                "postgres": postgres * 1000 / registrations,
                "load generator": figures["cpu_seconds"] * 1000 / registrations,
            },
        )
        return figures

    def _wait_for_emails(self, emails, *, timeout):
        """Until the sink has a message for each address; the number still missing."""
        deadline = time.monotonic() + timeout
        while True:
            received = self.sink.recipients()
            missing = sum(1 for email in emails if email not in received)
            if not missing or time.monotonic() > deadline:
                return missing
            time.sleep(0.1)

    def check(self):
        """Every redirected POST stored once and confirmed by exactly one email; a POST that
        got no answer may have been stored, and then needs its one email too."""
        import psycopg

        with psycopg.connect(database_url()) as conn:
            stored = dict(
                conn.execute(
                    "SELECT email, count(*) FROM registration_registration "
                    "WHERE email LIKE %s GROUP BY email",
                    [FLOW_EMAILS],
                ).fetchall()
            )
        received = self.sink.recipients()
        expected = set(self.redirected)
        problems = []
        if not_stored := expected - stored.keys():
            problems.append(f"{len(not_stored)} redirected but not stored")
        if unexplained := stored.keys() - expected - set(self.uncertain):
            problems.append(f"{len(unexplained)} stored without a redirect")
        if twice := [email for email, count in stored.items() if count != 1]:
            problems.append(f"{len(twice)} stored more than once")
        if no_email := [email for email in stored if received[email] == 0]:
            problems.append(f"{len(no_email)} stored without a confirmation email")
        if repeated := [email for email in stored if received[email] > 1]:
            problems.append(f"{len(repeated)} confirmed more than once")
        strays = sum(count for email, count in received.items() if email not in stored)
        if strays:
            problems.append(f"{strays} emails to addresses no flow registered")
        return len(expected), len(stored), problems


def prepare(env, registrations):
    say(f"Recreating database {database_url()} and seeding {registrations} registrations")
    recreate_database()
    flush_redis()
    manage(env, "migrate", "--no-input", "-v", "0")
    started = time.monotonic()
    run_module(env, "benchmarks.seed", "--registrations", str(registrations), "--slug", SLUG)
    say(f"  seeded in {time.monotonic() - started:.1f}s")
    vacuum_analyze()
    manage(env, "collectstatic", "--no-input", "-v", "0")
    try:
        manage(env, "compile_translations")
    except subprocess.CalledProcessError:
        say("  (compile_translations failed; pages render in English)")


def vacuum_analyze():
    """What autovacuum does to a live table: planner statistics and the visibility map, so
    counts are index-only scans as they would be in production after a bulk import."""
    import psycopg

    with psycopg.connect(database_url(), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def fmt_ms(us):
    return f"{us / 1000:.1f}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--visitors", type=int, default=16, help="flow: concurrent visitors")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--registrations", type=int, default=10_000)
    parser.add_argument("--port", type=int, default=8701)
    parser.add_argument("--only", help="comma-separated scenario letters, e.g. A,D")
    parser.add_argument("--keep-db", action="store_true", help="reuse the seeded database")
    opts = parser.parse_args(argv)

    wrk = ensure_wrk()
    LOG.parent.mkdir(parents=True, exist_ok=True)
    LOG.write_text("")
    # Rate limit raised for the run: every POST comes from 127.0.0.1.
    env = production_env(REGISTRATION_RATE_LIMIT=10**9)
    # The same server with the event page cache switched off (events/cache.py reads this).
    cold_env = {**env, "EVENT_PAGE_CACHE_SECONDS": "0"}
    if not opts.keep_db:
        prepare(env, opts.registrations)
    else:
        flush_redis()

    warm_base = f"http://127.0.0.1:{opts.port}"
    cold_base = f"http://127.0.0.1:{opts.port + 1}"
    event_path = f"/en/events/{SLUG}/"
    register_path = f"/en/events/{SLUG}/register/"

    with Processes() as processes:
        web = start_gunicorn(processes, env, opts.port, opts.workers)
        start_gunicorn(processes, cold_env, opts.port + 1, opts.workers)

        scenarios = {"A": ("/healthz", warm_base + "/healthz", "get.lua", ["200"])}
        if _answers(warm_base + event_path):
            scenarios["B"] = ("event page, warm cache", warm_base + event_path, "get.lua", ["200"])
            scenarios["C"] = ("event page, cache off", cold_base + event_path, "get.lua", ["200"])
        else:
            say(f"  {event_path} does not answer 200 yet: event page scenarios skipped")
        if _answers(warm_base + register_path):
            cookie, html = form_session(warm_base, register_path)
            body = registration_body(html)
            scenarios["D"] = (
                "registration POST",
                warm_base + register_path,
                "post.lua",
                ["302", cookie, body],
            )
            # The form as a new visitor gets it: no cookies, so a fresh CSRF cookie each time.
            scenarios["E"] = ("form page", warm_base + register_path, "get.lua", ["200"])
            scenarios["F"] = ("registration flow", warm_base, None, None)
        else:
            say(f"  {register_path} does not answer 200 yet: POST and form scenarios skipped")
        if opts.only:
            scenarios = {k: v for k, v in scenarios.items() if k in opts.only.split(",")}
        flow = None
        if "F" in scenarios:
            flow = RegistrationFlow(processes, env, web, warm_base, opts.visitors)

        say(f"Warming up ({', '.join(name for name, *_ in scenarios.values())})")
        for letter, (_name, url, script, args) in scenarios.items():
            if letter == "F":
                flow.run(0, duration=2)
                continue
            run_wrk(
                wrk,
                url,
                script=script,
                args=_args(args, letter, 0),
                duration=2,
                connections=opts.connections,
            )

        results = {letter: [] for letter in scenarios}
        time.sleep(1)  # let the warm-up's in-flight POSTs finish before counting
        rows_before = count_registrations()
        posted = 0
        for round_number in range(1, opts.rounds + 1):
            for letter, (name, url, script, args) in scenarios.items():
                if letter == "F":
                    figures = flow.run(round_number, duration=opts.duration)
                    results[letter].append(figures)
                    say(_flow_line(round_number, figures))
                    continue
                figures = run_wrk(
                    wrk,
                    url,
                    script=script,
                    args=_args(args, letter, round_number),
                    duration=opts.duration,
                    connections=opts.connections,
                )
                results[letter].append(figures)
                if letter == "D":
                    posted += figures["requests"] - figures["unexpected_status"]
                say(
                    f"  round {round_number} {letter} {name:<24} {figures['rps']:8.1f} req/s"
                    f"  p50 {fmt_ms(figures['p50_us']):>6} ms  p99 {fmt_ms(figures['p99_us']):>6}"
                    f" ms  errors {figures['errors']}"
                )
                if figures.get("stderr"):
                    say("    wrk: " + figures["stderr"].replace("\n", "; ")[:300])
        rows_added = count_registrations() - rows_before
        flow_check = flow.check() if flow else None

    with_post = "D" in scenarios
    failures = report(
        scenarios, results, opts, posted=posted, rows_added=rows_added, with_post=with_post
    )
    if flow_check:
        failures += report_flow(results["F"], flow_check, opts)
    say(f"\n{'All budgets PASS' if not failures else f'{failures} budget(s) FAIL'}")
    return 0


def _flow_line(round_number, figures):
    cpu = figures["cpu_ms"]
    line = (
        f"  round {round_number} F {'registration flow':<24} {figures['rps']:8.1f} reg/s "
        f"  p50 {fmt_ms(figures['p50_us']):>6} ms  p99 {fmt_ms(figures['p99_us']):>6}"
        f" ms  errors {figures['errors']}; CPU ms/registration: web {cpu['web']:.1f}, "
        f"worker {cpu['worker']:.1f}, PostgreSQL {cpu['postgres']:.1f}, "
        f"load generator {cpu['load generator']:.1f}; last email "
        f"{figures['email_lag_s']:.1f} s after the last visitor"
    )
    if figures["missing_emails"]:
        line += f"; {figures['missing_emails']} emails MISSING after 120 s"
    for sample in figures["error_samples"]:
        line += f"\n    {sample}"
    return line


def _args(args, letter, round_number):
    if letter != "D":
        return args
    return [*args, f"{int(time.time())}x{round_number}"]


def _answers(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status == 200
    except OSError:
        return False


def report(scenarios, results, opts, *, posted, rows_added, with_post):
    medians = {}
    for letter, runs in results.items():
        medians[letter] = {
            key: statistics.median(run[key] for run in runs) for key in ("rps", "p50_us", "p99_us")
        }
        medians[letter]["errors"] = sum(run["errors"] for run in runs)
    base = medians["A"]["rps"] if "A" in medians else None

    say("")
    say(f"Machine: {machine_summary()}")
    say(
        f"gunicorn {opts.workers} sync workers, wrk {opts.connections} connections, "
        f"{opts.duration}s per run, median of {opts.rounds}; event holds "
        f"{opts.registrations} registrations before the POSTs"
        + (f"; flow: {opts.visitors} visitors, req/s = registrations/s" if "F" in results else "")
    )
    say("")
    say(f"{'scenario':<26}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'ratio':>8}  budget")
    failures = 0
    for letter, (name, *_rest) in scenarios.items():
        m = medians[letter]
        ratio = m["rps"] / base if base else float("nan")
        budget = BUDGETS.get(name)
        verdict = ""
        if budget:
            minimum, max_p99 = budget
            ok = ratio >= minimum
            text = f">= {minimum:.2f}x"
            if max_p99 is not None:
                ok = ok and m["p99_us"] / 1000 <= max_p99 and m["errors"] == 0
                text += f", p99 <= {max_p99} ms, 0 errors"
            verdict = f"{text}: {'PASS' if ok else 'FAIL'}"
            failures += not ok
        elif m["errors"]:
            verdict = "errors!"
        say(
            f"{name:<26}{m['rps']:9.1f}{fmt_ms(m['p50_us']):>9}{fmt_ms(m['p99_us']):>9}"
            f"{m['errors']:8d}{ratio:8.{2 if ratio >= 0.1 else 3}f}  {verdict}"
        )
    if with_post:
        # wrk stops with up to one request in flight per connection; the server finishes
        # those, so the table may hold up to that many rows more than wrk counted.
        in_flight = opts.connections * opts.rounds
        ok = posted <= rows_added <= posted + in_flight
        say(
            f"\nRegistration POSTs answered with the redirect: {posted}; registrations added "
            f"in the database: {rows_added} "
            + ("(consistent)" if ok else "(MISMATCH: a redirect without a stored row?)")
        )
        failures += not ok
    if "E" in medians and "C" in medians:
        # Issue 19: the form page should cost no more than the uncached event page.
        say(
            f"\nForm page / event page with the cache off: "
            f"{medians['E']['rps'] / medians['C']['rps']:.2f} x the req/s"
        )
    return failures


def report_flow(runs, check, opts):
    """Scenario F's details: time per step, CPU per registration where it is spent, the
    checks of what was stored and sent. Medians of the rounds, as in the table."""
    steps = {
        step: statistics.median(run["steps_p50_ms"][step] for run in runs)
        for step in runs[0]["steps_p50_ms"]
    }
    cpu = {
        where: statistics.median(run["cpu_ms"][where] for run in runs)
        for where in runs[0]["cpu_ms"]
    }
    server = cpu["web"] + cpu["worker"] + cpu["postgres"]
    say(
        f"\nRegistration flow: {opts.visitors} visitors, each a new browser (event page, form, "
        "POST, check-your-email page), closed loop; medians of the rounds"
    )
    say("  p50 per step: " + ", ".join(f"{step} {ms:.1f} ms" for step, ms in steps.items()))
    say(
        f"  CPU per registration: web {cpu['web']:.1f} ms (gunicorn), worker {cpu['worker']:.1f}"
        f" ms (confirmation email), PostgreSQL {cpu['postgres']:.1f} ms (backends of "
        f"{BENCH_DB}) = {server:.1f} ms; load generator {cpu['load generator']:.1f} ms "
        "(same machine, not in the total)"
    )
    say(
        "  last confirmation email after the last visitor: "
        + ", ".join(f"{run['email_lag_s']:.1f} s" for run in runs)
    )
    redirected, stored, problems = check
    verdict = "PASS" if not problems else "FAIL (" + "; ".join(problems) + ")"
    say(
        f"  {redirected} registrations completed (warm-up included), {stored} stored: each "
        f"stored once and confirmed by exactly one email: {verdict}"
    )
    return bool(problems)


if __name__ == "__main__":
    raise SystemExit(main())
