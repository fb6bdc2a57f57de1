"""The W3C Nu HTML checker (vnu.jar, npm package `vnu-jar`; needs only Java).

Looked for at $VNU_JAR, else var/tools/node_modules/vnu-jar/build/dist/vnu.jar (what
`npm install --prefix var/tools vnu-jar` gives, as .ci/run does). Without Java or the jar
these tests skip with the reason, except under CI, where a missing checker fails the run.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VNU_JAR = Path(
    os.environ.get("VNU_JAR") or ROOT / "var/tools/node_modules/vnu-jar/build/dist/vnu.jar"
)
INSTALL = "npm install --prefix var/tools vnu-jar (and a Java runtime, e.g. apt-get install default-jre-headless)"


def _missing():
    if not shutil.which("java"):
        return "no java on PATH"
    if not VNU_JAR.exists():
        return f"no vnu.jar at {VNU_JAR}"
    return None


@pytest.fixture(scope="session")
def vnu(tmp_path_factory):
    """vnu(documents: {name: html}) -> {name: [error messages]} (one JVM for all)."""
    missing = _missing()
    if missing:
        message = f"W3C Nu checker unavailable: {missing}; install with: {INSTALL}"
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {message}", pytrace=False)
        pytest.skip(message)

    def check(documents):
        folder = tmp_path_factory.mktemp("vnu")
        files = {}
        for number, (name, html) in enumerate(documents.items()):
            path = folder / f"{number}.html"
            path.write_text(html, encoding="utf-8")
            files[path.name] = name
        result = subprocess.run(
            [
                "java",
                "-jar",
                str(VNU_JAR),
                "--format",
                "json",
                "--exit-zero-always",
                *(str(folder / name) for name in files),
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
        errors = {name: [] for name in documents}
        for message in json.loads(result.stderr)["messages"]:
            if message["type"] in ("error", "non-document-error"):
                url = message.get("url", "")
                name = files.get(url.rsplit("/", 1)[-1], url)
                errors.setdefault(name, []).append(
                    f"line {message.get('lastLine')}: {message['message']}"
                    f" [{message.get('extract', '').strip()[:120]}]"
                )
        return {name: found for name, found in errors.items() if found}

    return check
