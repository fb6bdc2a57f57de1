"""Shared plumbing for the benchmarks: their own PostgreSQL database and Redis db, the
production-like environment, seeding through the ORM, and child processes stopped by PID.

Nothing here is imported by the app. Every process a benchmark starts is recorded and
stopped in a finally block, so an interrupted run leaves nothing behind.
"""

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else sys.executable
BIN = Path(PYTHON).parent

PG_HOST = os.environ.get("BENCH_PG_HOST", "127.0.0.1")
PG_PORT = os.environ.get("BENCH_PG_PORT", "5432")
PG_USER = os.environ.get("BENCH_PG_USER", "convene")
BENCH_DB = os.environ.get("BENCH_DB", "convene_bench")
# Flushed on every run: a database number nothing else on the machine uses.
BENCH_REDIS_DB = os.environ.get("BENCH_REDIS_DB", "6")
BENCH_REDIS = os.environ.get("BENCH_REDIS_URL", f"redis://127.0.0.1:6379/{BENCH_REDIS_DB}")


def database_url(name=BENCH_DB):
    return f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


def production_env(**extra):
    """The environment gunicorn and Celery get in production, pointed at the bench services."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="false",
        # Plain http on 127.0.0.1: a browser would not send Secure cookies back.
        DJANGO_SECURE_COOKIES="false",
        DJANGO_HSTS_SECONDS="0",
        DATABASE_URL=database_url(),
        CELERY_BROKER_URL=BENCH_REDIS,
        REDIS_URL=BENCH_REDIS,
        CACHE_KEY_PREFIX="convene-bench",
        CONVENE_VAR_DIR=str(ROOT / "var" / "bench"),
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def say(message):
    print(message, flush=True)


def recreate_database():
    """Drop and create the bench database as role PG_USER, which needs CREATEDB. On a
    development machine whose PostgreSQL trusts local connections, a missing role is
    created through the `postgres` superuser; otherwise the error says what to do."""
    import psycopg

    def connect(user):
        return psycopg.connect(
            host=PG_HOST, port=PG_PORT, user=user, dbname="postgres", autocommit=True
        )

    try:
        conn = connect(PG_USER)
    except psycopg.OperationalError as error:
        if f'role "{PG_USER}" does not exist' not in str(error):
            raise
        try:
            with connect("postgres") as admin:
                admin.execute(f'CREATE ROLE "{PG_USER}" LOGIN CREATEDB')
        except psycopg.Error as admin_error:
            raise SystemExit(
                f"The benchmarks need a PostgreSQL role {PG_USER} with CREATEDB on "
                f"{PG_HOST}:{PG_PORT}, and creating it as postgres failed ({admin_error}). "
                f'Create it: psql -U postgres -c "CREATE ROLE {PG_USER} LOGIN CREATEDB", '
                "or set BENCH_PG_USER to a role that has CREATEDB."
            ) from error
        say(f"Created the PostgreSQL role {PG_USER} (LOGIN CREATEDB) for the benchmarks.")
        conn = connect(PG_USER)
    with conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')


def flush_redis():
    import redis

    redis.Redis.from_url(BENCH_REDIS).flushdb()


def manage(env, *args):
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)


def run_module(env, module, *args):
    """Run `python -m module args` with Django configured by env (seeding, probes)."""
    subprocess.run([PYTHON, "-m", module, *args], cwd=ROOT, env=env, check=True)


class Processes:
    """Child processes started by a benchmark, stopped by PID (never by name)."""

    def __init__(self):
        self.children = []

    def start(self, args, *, env, log=None, **kwargs):
        out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
        proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, **kwargs
        )
        self.children.append(proc)
        return proc

    def stop(self, proc, timeout=15):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def stop_all(self):
        for proc in reversed(self.children):
            self.stop(proc)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop_all()


def wait_for_http(url, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"{url} did not answer 200 within {timeout}s")


def ensure_wrk():
    """wrk from Debian's packages; installed with apt-get when missing and running as root."""
    path = shutil.which("wrk")
    if path:
        return path
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say("wrk not found: installing Debian's wrk package")
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"],
            check=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        return shutil.which("wrk")
    raise SystemExit("wrk is required: apt-get install wrk (or run this as root to install it)")


def machine_summary():
    import platform

    import django

    cores = os.cpu_count()
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    pg = subprocess.run(
        [
            "psql",
            "-h",
            PG_HOST,
            "-p",
            PG_PORT,
            "-U",
            PG_USER,
            "-d",
            "postgres",
            "-tAc",
            "SHOW server_version",
        ],
        capture_output=True,
        text=True,
    ).stdout.strip()
    redis_version = ""
    try:
        import redis

        redis_version = redis.Redis.from_url(BENCH_REDIS).info("server")["redis_version"]
    except Exception:  # noqa: S110
        pass
    return (
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}; {cores} cores ({cpu}); Python "
        f"{platform.python_version()}, Django {django.get_version()}, PostgreSQL {pg}, "
        f"Redis {redis_version}"
    )
