"""`ensure_organiser` (run by `make run`) holds CONVENE_ADMIN_PASSWORD to Django's password
validators, creating the login or changing its password alike."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("weak", ["password", "12345678", "organiser1", "short"])
def test_a_weak_admin_password_is_refused_with_a_clear_message(monkeypatch, weak):
    monkeypatch.setenv("CONVENE_ADMIN_USER", "organiser")
    monkeypatch.setenv("CONVENE_ADMIN_PASSWORD", weak)
    with pytest.raises(CommandError) as error:
        call_command("ensure_organiser")
    assert str(error.value).startswith("CONVENE_ADMIN_PASSWORD is too weak: ")
    assert not get_user_model().objects.exists()


def test_password_is_refused_as_too_common(monkeypatch):
    monkeypatch.setenv("CONVENE_ADMIN_PASSWORD", "password")
    with pytest.raises(CommandError, match="This password is too common"):
        call_command("ensure_organiser")


def test_a_weak_password_does_not_replace_an_existing_one(monkeypatch):
    user = get_user_model().objects.create_superuser("organiser", "", "a-long-and-rare-Passphrase")
    monkeypatch.setenv("CONVENE_ADMIN_PASSWORD", "password")
    with pytest.raises(CommandError):
        call_command("ensure_organiser")
    user.refresh_from_db()
    assert user.check_password("a-long-and-rare-Passphrase")


def test_a_strong_password_creates_the_login(monkeypatch, capsys):
    monkeypatch.setenv("CONVENE_ADMIN_PASSWORD", "violet-harbour-quietly-47")
    call_command("ensure_organiser")
    user = get_user_model().objects.get(username="organiser")
    assert user.is_superuser and user.check_password("violet-harbour-quietly-47")
