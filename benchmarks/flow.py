"""Load generator for the registration flow a flash crowd makes (run by benchmarks.http).

    python -m benchmarks.flow --base http://127.0.0.1:8701 --slug bench-side-event \\
        --visitors 16 --duration 10 --run-id 1764470000x1 --emails var/bench/flow.emails

Each of N visitors is a thread that, until the time is up, arrives as a new browser (no
cookies) and makes the four requests a browser makes to register: the event page, the
registration form (which sets the CSRF cookie), the form's POST with that cookie, the page's
CSRF token and an Origin header, and the check-your-email page the POST redirects to. Closed
loop: a visitor's thread starts the next visitor when the previous one is done, and finishes
the flow it is in when the time is up, so every POST has a known outcome.

The form is read once before the run (every field it offers, filled as a person would: the
known fields with fixed answers, any other required field with its first choice or a short
text, optional unknown ones and the honeypot left empty); each visitor then only takes its
own CSRF token and hidden inputs from the page it got. wrk cannot follow a multi-step flow
with cookies and a per-visitor token, hence Python: http.client on blocking sockets, light
next to the server's work (its CPU is printed all the same: it runs on the same machine).

Prints one line, BENCH {json}: flows completed and their rate over the time until the last
one finished (the duration plus the flows in flight then), p50/p99 per flow and per step,
errors by kind, this process's CPU. Writes the address of every POST answered with the
redirect to --emails, one a line (and those whose POST got no answer to --emails +
".uncertain"), for the checks benchmarks.http makes afterwards.
"""

import argparse
import html
import http.client
import json
import re
import resource
import statistics
import threading
import time
import urllib.parse
from html.parser import HTMLParser
from http.cookies import CookieError, SimpleCookie

STEPS = ("event page", "form", "POST", "check-your-email page")
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
HIDDEN = re.compile(r'<input[^>]*type="hidden"[^>]*>')
NAME = re.compile(r'name="([^"]*)"')
VALUE = re.compile(r'value="([^"]*)"')

# What a person types or picks in the fields the form has today; fields it gains later
# (registration questions, access codes) are filled from what the page offers.
ANSWERS = {
    "name": "Bench Registrant",
    "organisation": "Bench Organisation",
    "job_title": "Analyst",
    "country": "FR",
    "affiliation": "cso_ngo",
    "preferred_language": "en",
    "interpretation_language": "en",
    "timezone": "Europe/Zurich",
    "consent": "on",
}
EMAIL_FIELD = "email"
EMAIL_PLACEHOLDER = "XEMAILX"


class _FormReader(HTMLParser):
    """The fields of the page's POST forms: name -> (kind, required, choices, value)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []
        self.fields = None
        self.select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self.fields = {}
            self.forms.append(self.fields)
        if self.fields is None:
            return
        name = attrs.get("name")
        required = "required" in attrs
        if tag == "input" and name:
            kind = (attrs.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            field = self.fields.setdefault(name, [kind, required, [], attrs.get("value")])
            if kind in ("radio", "checkbox"):
                field[2].append(attrs.get("value") or "on")
                field[1] = field[1] or required
        elif tag in ("select", "textarea") and name:
            self.select = self.fields.setdefault(name, [tag, required, [], None])
        elif tag == "option" and self.select is not None:
            self.select[2].append(attrs.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self.fields = None
        elif tag in ("select", "textarea"):
            self.select = None


def read_form(page):
    """The fields a person submits on the registration page, filled in; the email field holds
    EMAIL_PLACEHOLDER. Hidden inputs are left out: each visitor sends its own page's."""
    reader = _FormReader()
    reader.feed(page)
    forms = [fields for fields in reader.forms if EMAIL_FIELD in fields]
    if not forms:
        raise RuntimeError("no POST form with an email field on the registration page")
    fields = {}
    for name, (kind, required, choices, _value) in forms[0].items():
        if kind == "hidden":
            continue
        if name == EMAIL_FIELD:
            fields[name] = EMAIL_PLACEHOLDER
        elif name in ANSWERS and (not choices or ANSWERS[name] in choices):
            fields[name] = ANSWERS[name]
        elif required and choices:
            fields[name] = next((choice for choice in choices if choice), choices[0])
        elif required:
            fields[name] = {"number": "1", "date": "2026-01-01"}.get(kind, "Bench answer")
    return fields


def form_body(page, fields, email):
    """The urlencoded POST of this visitor's page: its CSRF token and hidden inputs."""
    email_at = page.find(f'name="{EMAIL_FIELD}"')
    start = page.rfind("<form", 0, email_at)
    if email_at < 0 or start < 0:
        raise ValueError("no registration form on the page")
    body = {}
    for tag in HIDDEN.findall(page, start, page.find("</form>", email_at)):
        name, value = NAME.search(tag), VALUE.search(tag)
        if name:
            body[name.group(1)] = html.unescape(value.group(1)) if value else ""
    if "csrfmiddlewaretoken" not in body:
        raise ValueError("no CSRF token in the form")
    body.update(fields)
    body[EMAIL_FIELD] = email
    return urllib.parse.urlencode(body)


class Browser:
    """One visitor: a cookie jar and a connection to the server (reopened when the server
    closes it, as gunicorn's sync workers do after every response)."""

    def __init__(self, host, port, timeout):
        self.connection = http.client.HTTPConnection(host, port, timeout=timeout)
        self.origin = f"http://{host}:{port}"
        self.cookies = {}

    def request(self, method, path, body=None, headers=None):
        headers = {"User-Agent": "convene-bench", **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        content = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            try:
                jar = SimpleCookie(header)
            except CookieError:
                continue
            for name, morsel in jar.items():
                self.cookies[name] = morsel.value
        return response.status, response, content

    def close(self):
        self.connection.close()


class Visitors:
    def __init__(self, opts, fields):
        parsed = urllib.parse.urlsplit(opts.base)
        self.host, self.port = parsed.hostname, parsed.port or 80
        self.opts = opts
        self.fields = fields
        self.event_path = f"/en/events/{opts.slug}/"
        self.form_path = f"/en/events/{opts.slug}/register/"
        self.lock = threading.Lock()
        self.flows = []  # (finished at, seconds) of every completed flow
        self.steps = {step: [] for step in STEPS}
        self.errors = {}
        self.samples = []
        self.redirected = []
        self.uncertain = []

    def run(self):
        self.started = time.monotonic()
        self.deadline = self.started + self.opts.duration
        threads = [
            threading.Thread(target=self.visit, args=(number,), daemon=True)
            for number in range(self.opts.visitors)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.finished = time.monotonic()

    def visit(self, number):
        count = 0
        while time.monotonic() < self.deadline:
            count += 1
            self.flow(f"flow-{self.opts.run_id}-v{number}-n{count}@bench.example.org")

    def flow(self, email):
        browser = Browser(self.host, self.port, self.opts.timeout)
        step, times = STEPS[0], []
        started = time.monotonic()
        try:
            at = time.monotonic()
            status, _response, _content = browser.request("GET", self.event_path)
            if status != 200:
                return self.error(step, status)
            times.append(time.monotonic() - at)

            step, at = STEPS[1], time.monotonic()
            status, _response, content = browser.request("GET", self.form_path)
            if status != 200:
                return self.error(step, status)
            body = form_body(content.decode(), self.fields, email)
            times.append(time.monotonic() - at)

            step, at = STEPS[2], time.monotonic()
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": browser.origin,
                "Referer": browser.origin + self.form_path,
            }
            try:
                status, response, content = browser.request("POST", self.form_path, body, headers)
            except OSError:
                self.uncertain.append(email)  # it may have been stored
                raise
            if status != 302:
                return self.error(step, status, content)
            self.redirected.append(email)
            location = urllib.parse.urlsplit(response.getheader("Location", ""))
            times.append(time.monotonic() - at)

            step, at = STEPS[3], time.monotonic()
            status, _response, _content = browser.request("GET", location.path)
            if status != 200:
                return self.error(step, status)
            times.append(time.monotonic() - at)
        except (OSError, http.client.HTTPException, ValueError) as error:
            return self.error(step, type(error).__name__, str(error).encode())
        finally:
            browser.close()
        finished = time.monotonic()
        with self.lock:
            self.flows.append((finished, finished - started))
            for name, seconds in zip(STEPS, times, strict=True):
                self.steps[name].append(seconds)

    def error(self, step, what, content=b""):
        with self.lock:
            key = f"{step}: {what}"
            self.errors[key] = self.errors.get(key, 0) + 1
            if len(self.samples) < 3:
                # The form's error summary when it is there, else the start of the answer.
                at = content.find(b'id="error-summary"')
                text = content[at : at + 1500] if at >= 0 else content[:300]
                text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text.decode(errors="replace")))
                self.samples.append(f"{key}: {text.strip()[:300]}")

    def figures(self, cpu_seconds):
        every = sorted(seconds for _finished, seconds in self.flows)
        elapsed = self.finished - self.started
        return {
            "flows": len(self.flows),
            "flows_after_deadline": sum(1 for end, _s in self.flows if end > self.deadline),
            "seconds": elapsed,
            # Every flow started is finished, so all of them over the whole time: a flow
            # lasts about a second, and counting only those done by the deadline would
            # drop the work of the 16 in flight then.
            "rps": len(self.flows) / elapsed,
            "p50_us": _percentile(every, 50) * 1e6,
            "p99_us": _percentile(every, 99) * 1e6,
            "steps_p50_ms": {
                step: statistics.median(values) * 1000 if values else 0.0
                for step, values in self.steps.items()
            },
            "errors": sum(self.errors.values()),
            "errors_by_kind": self.errors,
            "error_samples": self.samples,
            "redirected": len(self.redirected),
            "uncertain": len(self.uncertain),
            "cpu_seconds": cpu_seconds,
        }


def _percentile(values, percent):
    """Nearest-rank percentile of sorted values (0 when there are none)."""
    if not values:
        return 0.0
    rank = max(1, -(-percent * len(values) // 100))
    return values[int(rank) - 1]


def _cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="e.g. http://127.0.0.1:8701")
    parser.add_argument("--slug", required=True)
    parser.add_argument("--visitors", type=int, default=16)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--timeout", type=float, default=10, help="seconds per request")
    parser.add_argument("--run-id", required=True, help="makes this run's addresses unique")
    parser.add_argument("--emails", required=True, help="file for the redirected addresses")
    opts = parser.parse_args(argv)

    # The form's fields, read once from a page no visitor counts.
    parsed = urllib.parse.urlsplit(opts.base)
    probe = Browser(parsed.hostname, parsed.port or 80, opts.timeout)
    status, _response, content = probe.request("GET", f"/en/events/{opts.slug}/register/")
    probe.close()
    if status != 200:
        raise SystemExit(f"the registration form answered {status}")
    fields = read_form(content.decode())

    visitors = Visitors(opts, fields)
    cpu = _cpu_seconds()
    visitors.run()
    cpu = _cpu_seconds() - cpu
    with open(opts.emails, "w") as handle:
        handle.write("".join(f"{email}\n" for email in visitors.redirected))
    with open(f"{opts.emails}.uncertain", "w") as handle:
        handle.write("".join(f"{email}\n" for email in visitors.uncertain))
    print("BENCH " + json.dumps(visitors.figures(cpu)), flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
