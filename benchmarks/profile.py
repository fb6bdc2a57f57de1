"""Where the slow paths spend their time: cProfile over N in-process requests with the
production settings on the benchmark database (run benchmarks.http first to seed it).

    .venv/bin/python -m benchmarks.profile [--requests 300] [--top 35]

Profiles the event page with its cache off, the registration form as a new visitor gets it
(no cookies: a fresh CSRF cookie each time; a page no cache can serve) and the registration
POST, and prints the functions with the most cumulative time, plus the SQL each request runs.
"""

import argparse
import cProfile
import io
import os
import pstats
import time
from collections import defaultdict

from benchmarks.common import production_env
from benchmarks.flow import form_body, read_form

SLUG = "bench-side-event"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--only", choices=["page", "form", "post"])
    parser.add_argument("--sort", default="cumulative", help="pstats sort key, e.g. tottime")
    opts = parser.parse_args()
    env = production_env(REGISTRATION_RATE_LIMIT=10**9, EVENT_PAGE_CACHE_SECONDS=0)
    os.environ.update(env)

    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    visitor = Client(HTTP_HOST="127.0.0.1")  # for the form: a new browser every time
    page = f"/en/events/{SLUG}/"
    form = f"/en/events/{SLUG}/register/"
    form_page = client.get(form).content.decode()
    # Every field the form offers, filled as the flow benchmark's visitors fill it (the
    # bench event's registration questions included); its CSRF token and hidden inputs.
    fields = read_form(form_page)
    counter = iter(range(10**9))
    run_id = int(time.time())

    def get_page():
        response = client.get(page)
        assert response.status_code == 200, response.status_code

    def get_form():
        visitor.cookies.clear()
        response = visitor.get(form)
        assert response.status_code == 200, response.status_code

    def post():
        n = next(counter)
        # urlencoded, as a browser (and wrk) sends the form; the test client's default is
        # multipart, which costs more to parse.
        response = client.post(
            form,
            form_body(form_page, fields, f"p{run_id}-{n}@bench.example.org"),
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 302, response.content[:2000]

    scenarios = {
        "page": ("event page, cache off", get_page),
        "form": ("registration form, new visitor", get_form),
        "post": ("registration POST", post),
    }
    for key, (name, call) in scenarios.items():
        if opts.only and key != opts.only:
            continue
        for _ in range(20):
            call()
        started = time.process_time()
        for _ in range(opts.requests):
            call()
        plain_ms = (time.process_time() - started) * 1000 / opts.requests
        # An execute wrapper, not CaptureQueriesContext: each request resets the query log.
        queries = []

        def record(execute, sql, params, many, context, queries=queries):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(record):
            call()
        profiler = cProfile.Profile()
        started = time.process_time()
        profiler.enable()
        for _ in range(opts.requests):
            call()
        profiler.disable()
        cpu_ms = (time.process_time() - started) * 1000 / opts.requests
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).sort_stats(opts.sort)
        stats.print_stats(opts.top)
        print(
            f"\n===== {name}: {plain_ms:.1f} ms CPU per request in this process "
            f"({cpu_ms:.1f} ms under the profiler) ====="
        )
        print(f"{len(queries)} queries:")
        for sql in queries:
            print("   ", sql[:160])
        print(out.getvalue())
        print("Own time by package (where the CPU goes):")
        by_package = defaultdict(float)
        for (filename, _line, _name), row in stats.stats.items():
            by_package[_package(filename)] += row[2]
        total = sum(by_package.values())
        for package, seconds in sorted(by_package.items(), key=lambda kv: -kv[1])[:15]:
            print(f"  {package:<40}{100 * seconds / total:5.1f} %")


def _package(filename):
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/")[0]
    if "/work/" in filename or filename.startswith(os.getcwd()):
        return "convene: " + filename.rsplit("/", 2)[-2]
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins"
    return "stdlib: " + filename.rsplit("/", 1)[-1]


if __name__ == "__main__":
    main()
