"""HTTP throughput benchmark: gunicorn with the production settings on PostgreSQL + Redis,
driven by wrk from a separate process. Prints req/s and p50/p99 per scenario, the ratios to
/healthz and PASS/FAIL against the budgets in DESIGN.md.

    .venv/bin/python -m benchmarks.http            # ~3 minutes on 2 cores
    .venv/bin/python -m benchmarks.http --duration 5 --rounds 1   # a quick look

It recreates its own database (convene_bench) and uses Redis db 6: never the app's data.
Scenarios run interleaved (A B C D, A B C D, A B C D) and each figure is the median of the
rounds, so drift on a noisy machine hits every scenario alike; compare the ratios.
"""

import argparse
import json
import re
import statistics
import subprocess
import time
import urllib.parse
import urllib.request
from http.cookies import SimpleCookie
from pathlib import Path

from benchmarks.common import (
    BIN,
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

WRK_DIR = Path(__file__).resolve().parent / "wrk"
SLUG = "bench-side-event"
LOG = ROOT / "var" / "bench" / "gunicorn.log"

# name -> (minimum ratio to /healthz, maximum p99 in ms or None)
BUDGETS = {
    "event page, warm cache": (0.8, None),
    "event page, cache off": (0.15, None),
    "registration POST": (0.12, 300),
}


def count_registrations():
    import psycopg

    with psycopg.connect(database_url()) as conn:
        return conn.execute("SELECT count(*) FROM registration_registration").fetchone()[0]


def form_session(base_url, path):
    """Load the registration form once, as a browser would: its cookies and CSRF token."""
    with urllib.request.urlopen(base_url + path, timeout=10) as response:
        html = response.read().decode()
        cookies = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookies.load(header)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if not token:
        raise RuntimeError(f"no CSRF token in the form at {path}")
    cookie_header = "; ".join(f"{name}={morsel.value}" for name, morsel in cookies.items())
    return cookie_header, token.group(1), html


def registration_body(html, token):
    """A valid submission of the form as served: every field the page has, filled in."""
    fields = {"csrfmiddlewaretoken": token}
    form = html[html.find('method="post"') :]
    # Hidden inputs the form carries (honeypot timestamps and the like), as served.
    for name, value in re.findall(
        r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form
    ):
        fields.setdefault(name, value)
    fields.update(
        name="Bench Registrant",
        organisation="Bench Organisation",
        job_title="Analyst",
        country="FR",
        affiliation="cso_ngo",
        preferred_language="en",
        interpretation_language="en",
        timezone="Europe/Zurich",
        consent="on",
    )
    names = set(re.findall(r'name="([^"]+)"', form))
    fields = {k: v for k, v in fields.items() if k in names or k == "csrfmiddlewaretoken"}
    fields["email"] = "XEMAILX"
    return urllib.parse.urlencode(fields)


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
        start_gunicorn(processes, env, opts.port, opts.workers)
        start_gunicorn(processes, cold_env, opts.port + 1, opts.workers)

        scenarios = {"A": ("/healthz", warm_base + "/healthz", "get.lua", ["200"])}
        if _answers(warm_base + event_path):
            scenarios["B"] = ("event page, warm cache", warm_base + event_path, "get.lua", ["200"])
            scenarios["C"] = ("event page, cache off", cold_base + event_path, "get.lua", ["200"])
        else:
            say(f"  {event_path} does not answer 200 yet: event page scenarios skipped")
        post = None
        if _answers(warm_base + register_path):
            cookie, token, html = form_session(warm_base, register_path)
            body = registration_body(html, token)
            post = (
                "registration POST",
                warm_base + register_path,
                "post.lua",
                ["302", cookie, body],
            )
            scenarios["D"] = post
        else:
            say(f"  {register_path} does not answer 200 yet: POST scenario skipped")
        if opts.only:
            scenarios = {k: v for k, v in scenarios.items() if k in opts.only.split(",")}

        say(f"Warming up ({', '.join(name for name, *_ in scenarios.values())})")
        for letter, (_name, url, script, args) in scenarios.items():
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

    report(scenarios, results, opts, posted=posted, rows_added=rows_added, with_post=bool(post))
    return 0


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
            f"{m['errors']:8d}{ratio:8.2f}  {verdict}"
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
    say(f"\n{'All budgets PASS' if not failures else f'{failures} budget(s) FAIL'}")


if __name__ == "__main__":
    raise SystemExit(main())
