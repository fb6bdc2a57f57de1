import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, parse_database_url, parse_email_url


def test_healthz_reports_database_ok(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
    assert response.json()["status"] == "ok"


def test_healthz_is_503_when_database_is_down(client, db, monkeypatch):
    from config import views

    monkeypatch.setattr(views, "_database_ok", lambda: False)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "down", "status": "down"} | (
        {"broker": response.json()["broker"]} if "broker" in response.json() else {}
    )


def test_home_page_renders_with_bootstrap_from_our_static_files(client, db):
    response = client.get("/", follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/bootstrap/css/bootstrap.min.css" in html
    assert "cdn" not in html.lower()


def test_arabic_pages_are_right_to_left_with_the_rtl_stylesheet(client, db):
    html = client.get("/ar/").content.decode()
    assert 'dir="rtl"' in html
    assert 'lang="ar"' in html
    assert "bootstrap.rtl.min.css" in html


@pytest.mark.parametrize("raw", ["maybe", "2", "yes please"])
def test_bad_boolean_names_the_variable(monkeypatch, raw):
    monkeypatch.setenv("DJANGO_DEBUG", raw)
    with pytest.raises(ImproperlyConfigured, match="DJANGO_DEBUG"):
        env_bool("DJANGO_DEBUG", True)


def test_database_url_postgres(tmp_path):
    db = parse_database_url(
        "DATABASE_URL", "postgres://u:p%40ss@db.example:5433/convene", base_dir=tmp_path
    )
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "convene",
        "u",
        "p@ss",
        "db.example",
        "5433",
    )


def test_database_url_sqlite_relative_and_absolute(tmp_path):
    rel = parse_database_url("DATABASE_URL", "sqlite:///var/x.sqlite3", base_dir=tmp_path)
    assert rel["NAME"] == str(tmp_path / "var" / "x.sqlite3")
    absolute = parse_database_url("DATABASE_URL", "sqlite:////srv/x.sqlite3", base_dir=tmp_path)
    assert absolute["NAME"] == "/srv/x.sqlite3"


def test_unsupported_database_url_names_the_variable(tmp_path):
    with pytest.raises(ImproperlyConfigured, match=r"DATABASE_URL.*mysql"):
        parse_database_url("DATABASE_URL", "mysql://x/y", base_dir=tmp_path)


def test_email_url_smtp_with_starttls(tmp_path):
    mailer = parse_email_url(
        "EMAIL_URL", "smtp+tls://me:secret@mail.example:2525", base_dir=tmp_path
    )
    assert mailer["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert mailer["OPTIONS"]["host"] == "mail.example"
    assert mailer["OPTIONS"]["port"] == 2525
    assert mailer["OPTIONS"]["use_tls"] is True
    assert mailer["OPTIONS"]["username"] == "me"


def test_email_url_anymail_esp(tmp_path):
    mailer = parse_email_url("EMAIL_URL", "anymail://postmark", base_dir=tmp_path)
    assert mailer["BACKEND"] == "anymail.backends.postmark.EmailBackend"
    with pytest.raises(ImproperlyConfigured, match="unknown ESP 'nosuch'"):
        parse_email_url("EMAIL_URL", "anymail://nosuch", base_dir=tmp_path)


def test_default_mailer_writes_eml_files_and_logs_a_line_at_info(tmp_path, caplog):
    import logging

    from django.core.mail import EmailMessage

    from notifications.backends import MailFolderBackend

    caplog.set_level(logging.INFO, logger="notifications.backends")
    backend = MailFolderBackend(folder=tmp_path / "mail")
    sent = backend.send_messages(
        [
            EmailMessage("Hello", "Body", "from@example.org", ["a@example.org"]),
            EmailMessage("Again", "Body", "from@example.org", ["b@example.org"]),
        ]
    )
    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert sent == 2 and len(files) == 2
    assert b"Subject: Hello" in files[0].read_bytes() or b"Subject: Hello" in files[1].read_bytes()
    lines = [r for r in caplog.records if r.getMessage().startswith("[mail] to=")]
    # INFO, not stdout: the Celery worker re-logs a worker's stdout at WARNING.
    assert [r.levelname for r in lines] == ["INFO", "INFO"]


def test_production_without_secret_key_refuses_to_start():
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SECRET_KEY"}
    env.update(DJANGO_DEBUG="false", DJANGO_SETTINGS_MODULE="config.settings")
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in result.stderr


def test_root_redirects_to_the_browsers_language(client, db):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="fr-CH, fr;q=0.9, en;q=0.8")
    assert response.status_code == 302
    assert response["Location"] == "/fr/"


def test_language_switcher_links_to_the_same_page_in_each_language(client, db):
    html = client.get("/ru/").content.decode()
    for code in ["ar", "zh-hans", "en", "fr", "ru", "es"]:
        assert f'href="/{code}/"' in html
