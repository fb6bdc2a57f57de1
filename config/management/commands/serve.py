"""`make run`: the web server, a Celery worker and beat in one command; Ctrl-C stops all."""

import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the site and run a Celery worker with beat until Ctrl-C."

    def add_arguments(self, parser):
        # settings.SITE_URL follows CONVENE_ADDR, so links in emails point here.
        parser.add_argument("--addr", default=settings.CONVENE_ADDR)

    def handle(self, *args, addr, **options):
        python = sys.executable
        processes = {
            "web": [python, "manage.py", "runserver", addr, "--noreload"],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--beat",
                "--loglevel",
                "INFO",
                "--concurrency",
                "2",
                "--schedule",
                settings.CELERY_BEAT_SCHEDULE_FILENAME,
            ],
        }
        broker = settings.CELERY_BROKER_URL.split("://", 1)[0]
        database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        self.stdout.write(
            f"Convene on http://{addr}/ (admin: /admin/) — database: {database}, broker: {broker}, "
            f"mail: {_describe_mailer(settings.MAILERS['default'])}. Ctrl-C stops all."
        )
        children = {name: subprocess.Popen(cmd) for name, cmd in processes.items()}  # noqa: S603
        stopping = False

        def stop(*_args):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            while not stopping:
                for name, child in children.items():
                    if child.poll() is not None:
                        self.stderr.write(f"{name} exited with code {child.returncode}; stopping.")
                        stopping = True
                time.sleep(0.5)
        finally:
            for child in children.values():
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 15
            for child in children.values():
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
            self.stdout.write("Stopped the web server, the worker and beat.")


def _describe_mailer(mailer):
    options = mailer.get("OPTIONS", {})
    if "folder" in options:
        return f".eml files in {options['folder']} (and a console line each)"
    if "file_path" in options:
        return f"files in {options['file_path']}"
    if "host" in options:
        return f"SMTP {options['host']}:{options['port']}"
    return mailer["BACKEND"]
