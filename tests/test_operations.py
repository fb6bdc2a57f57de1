"""What an operator meets: where `make run` serves and where email links point, and a log that
warns only when someone should look. Settings are read in a fresh process, as at start-up."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[1]
PROJECT_COMMANDS = ("serve", "compile_translations", "ensure_organiser")

PROBE = """
import django
django.setup()
from django.conf import settings
from config.management.commands.serve import Command
from notifications.emails import absolute
parser = Command().create_parser("manage.py", "serve")
print(settings.SITE_URL)
print(absolute("/en/r/token/"))
print(parser.parse_args([]).addr)
"""


def start(script, tmp_path, **env):
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "SITE_", "CONVENE_", "CELERY_", "DATABASE_", "REDIS_"))
    }
    clean.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        CONVENE_VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
        **env,
    )
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("addr", "site_url"),
    [
        ("127.0.0.1:8123", "http://127.0.0.1:8123"),
        ("8124", "http://127.0.0.1:8124"),
        ("0.0.0.0:9000", "http://127.0.0.1:9000"),
        ("localhost:8125", "http://localhost:8125"),
    ],
)
def test_email_links_follow_the_address_make_run_serves(tmp_path, addr, site_url):
    run = start(PROBE, tmp_path, CONVENE_ADDR=addr)

    assert run.returncode == 0, run.stderr
    settings_url, link, served = run.stdout.split()
    assert settings_url == site_url
    assert link == f"{site_url}/en/r/token/"
    assert served == addr if ":" in addr else served == f"127.0.0.1:{addr}"


def test_site_url_wins_over_the_address_when_set(tmp_path):
    run = start(
        PROBE, tmp_path, CONVENE_ADDR="127.0.0.1:8123", SITE_URL="https://events.example.org"
    )

    assert run.returncode == 0, run.stderr
    assert run.stdout.split()[:2] == [
        "https://events.example.org",
        "https://events.example.org/en/r/token/",
    ]


def test_a_bad_address_stops_start_up_naming_the_variable(tmp_path):
    run = start(PROBE, tmp_path, CONVENE_ADDR="localhost:http")

    assert run.returncode != 0
    assert "CONVENE_ADDR='localhost:http' is not an address" in run.stderr


def test_queueing_sends_on_the_laptop_broker_warns_nothing(tmp_path):
    script = """
import django
django.setup()
from django.conf import settings
from notifications import services
services.enqueue([1])
services.enqueue([2])
print(len(list((settings.CELERY_BROKER_DIR / "queue").iterdir())))
"""
    run = start(script, tmp_path)

    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "2"  # both batches are in the broker's folder
    assert "No hostname was supplied" not in run.stderr
    assert " WARNING " not in run.stderr


def test_project_wide_commands_are_listed_under_the_project_not_events():
    # `manage.py help` groups commands by app: an operator looks for these under the project.
    commands = get_commands()
    assert {name: commands[name] for name in PROJECT_COMMANDS} == dict.fromkeys(
        PROJECT_COMMANDS, "config"
    )
