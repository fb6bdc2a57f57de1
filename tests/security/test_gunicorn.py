"""The Procfile's web process, for real: gunicorn with config/gunicorn.py and the production
settings, in its own process. What lives in the server is tested against the server: bodies
refused from their headers before anything is spooled, tokens kept out of the access log, and
the headers every response carries."""

import os
import secrets
import select
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "Zk3v" + secrets.token_urlsafe(32)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    def __init__(self, tmp):
        self.port = free_port()
        self.spool = tmp / "spool"  # the workers' TMPDIR: where Django would spool uploads
        self.spool.mkdir()
        self.log = tmp / "gunicorn.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))}
        env.pop("DATABASE_URL", None)
        env.pop("REDIS_URL", None)
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DJANGO_DEBUG="false",
            DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
            DJANGO_ALLOWED_HOSTS="127.0.0.1",
            DJANGO_SECURE_SSL_REDIRECT="false",
            DJANGO_SECURE_COOKIES="false",
            DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
            EMAIL_URL="console:",
            SITE_URL=f"http://127.0.0.1:{self.port}",
            PORT=str(self.port),
            WEB_CONCURRENCY="1",
            TMPDIR=str(self.spool),
            PYTHONUNBUFFERED="1",
            LOG_LEVEL="WARNING",
        )
        self.env = env

    def start(self):
        for command in (["migrate", "--no-input", "-v0"], ["collectstatic", "--no-input", "-v0"]):
            subprocess.run(
                [sys.executable, "manage.py", *command], cwd=ROOT, env=self.env, check=True
            )
        # The Procfile's web line, as a platform runs it.
        procfile = (ROOT / "Procfile").read_text()
        web = next(line for line in procfile.splitlines() if line.startswith("web:"))
        args = web.removeprefix("web:").split()
        assert args[0] == "gunicorn"
        binary = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
        self.proc = subprocess.Popen(
            [binary, *args[1:]],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not start within 30s")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def get(self, path, **headers):
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def access_log_after(self, marker):
        """The access log once the line of the request for `marker` is written."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            text = self.log.read_text()
            if marker in text:
                return text
            time.sleep(0.05)
        raise AssertionError(f"no access-log line for {marker}:\n{self.log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = Gunicorn(tmp_path_factory.mktemp("gunicorn")).start()
    try:
        yield server
    finally:
        server.stop()


def test_a_300_mb_upload_to_the_registration_form_is_refused_from_its_headers(server):
    # Only the headers are sent: a server that answers has not waited for (or spooled) the
    # body. One that waits gets 8 MiB of it, which it spools, and the test shows where. The
    # CSRF cookie is there as after a form load, so the CSRF check would read the body.
    boundary = "convene-boundary"
    head = (
        "POST /en/events/any-event/register/ HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{server.port}\r\n"
        f"Cookie: csrftoken={'a' * 32}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {300 * 1024 * 1024}\r\n"
        "\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as conn:
        conn.sendall(head)
        answered, _, _ = select.select([conn], [], [], 20)
        if not answered:
            part = (
                f'--{boundary}\r\nContent-Disposition: form-data; name="cv"; '
                'filename="cv.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'
            ).encode()
            conn.sendall(part + b"\0" * (8 * 1024 * 1024))
            time.sleep(2)
        spooled = {path.name: path.stat().st_size for path in server.spool.iterdir()}
        assert answered, f"gunicorn waited for the body and spooled it: {spooled}"
        response = b""
        while chunk := conn.recv(65536):
            response += chunk
    status_line, _, rest = response.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 413 ")
    assert b"Too much data" in rest
    assert spooled == {}


def test_manage_link_tokens_never_reach_the_access_log(server):
    marker = secrets.token_hex(8)
    server.get(f"/en/r/{TOKEN}/", Referer=f"http://127.0.0.1/en/r/{TOKEN}/")
    server.get(f"/fr/r/{TOKEN}/cancel/?token={TOKEN}")
    server.get(f"/es/organisers/welcome/MQ/{TOKEN}/")  # an organiser's invitation
    server.get(f"/en/?done={marker}")
    log = server.access_log_after(marker)

    assert TOKEN not in log
    assert 'GET /en/r/[redacted]/ HTTP/1.1" 404' in log
    assert "/en/r/[redacted]/" in log.split('GET /en/r/[redacted]/ HTTP/1.1" 404', 1)[1]  # referrer
    assert "GET /fr/r/[redacted]/cancel/?token=[redacted] HTTP/1.1" in log
    assert "GET /es/organisers/welcome/MQ/[redacted]/ HTTP/1.1" in log


def test_responses_name_no_server_and_carry_a_permissions_policy(server):
    for path in ["/healthz", "/en/", "/static/js/convene.js"]:
        status, headers, _body = server.get(path)
        assert status == 200, path
        assert "Server" not in headers, (path, headers["Server"])
        assert "camera=()" in headers["Permissions-Policy"], path
