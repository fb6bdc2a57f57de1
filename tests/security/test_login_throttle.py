"""Organiser login: five wrong passwords for one username from one address lock that pair
out for 15 minutes with a clear message; so do 20 from one address, or 30 for one username
from anywhere; nobody else is affected, and parallel guesses get no more checks."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db import connections
from django.utils import timezone

from tests.conftest import BrowserClient

LOGIN = "/en/admin/login/"
PASSWORD = "correct horse battery"
WRONG_LOGIN = "Please enter the correct username and password"


@pytest.fixture
def organiser(db):
    return get_user_model().objects.create_user(
        "organiser", "organiser@example.org", PASSWORD, is_staff=True
    )


@pytest.fixture
def colleague(db):
    return get_user_model().objects.create_user(
        "colleague", "colleague@example.org", PASSWORD, is_staff=True
    )


def attempt(client, username, password, ip="203.0.113.7"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def fail_five_times(client, username="organiser", ip="203.0.113.7"):
    for _ in range(5):
        response = attempt(client, username, "wrong", ip)
        assert response.status_code == 200
        assert WRONG_LOGIN in response.content.decode()


def test_five_failures_block_the_sixth_attempt_even_with_the_right_password(client, organiser):
    fail_five_times(client)

    response = attempt(client, "organiser", PASSWORD)
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed login attempts. Try again in 15 minutes." in page
    assert 14 * 60 < int(response["Retry-After"]) <= 15 * 60
    assert "_auth_user_id" not in client.session


def test_the_message_counts_down_and_the_block_lifts_after_15_minutes(client, organiser):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        fail_five_times(client)
        clock.shift(timedelta(minutes=10, seconds=30))
        response = attempt(client, "organiser", PASSWORD)
        assert response.status_code == 429
        assert "Try again in 5 minutes." in response.content.decode()

        clock.shift(timedelta(minutes=5))
        response = attempt(client, "organiser", PASSWORD)
        assert response.status_code == 302
        assert client.session["_auth_user_id"] == str(organiser.pk)


def test_other_users_and_other_addresses_can_still_log_in(client, organiser, colleague):
    fail_five_times(client, "organiser", ip="203.0.113.7")

    response = attempt(client, "colleague", PASSWORD, ip="203.0.113.7")
    assert response.status_code == 302
    client.logout()
    response = attempt(client, "organiser", PASSWORD, ip="198.51.100.20")
    assert response.status_code == 302


def test_a_successful_login_resets_the_count(client, organiser):
    for _ in range(4):
        attempt(client, "organiser", "wrong")
    assert attempt(client, "organiser", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert attempt(client, "organiser", "wrong").status_code == 200
    assert attempt(client, "organiser", PASSWORD).status_code == 302


def test_guessing_many_usernames_from_one_address_is_blocked_too(client, organiser):
    for number in range(20):
        assert attempt(client, f"guess{number}", "wrong").status_code == 200
    response = attempt(client, "organiser", PASSWORD)
    assert response.status_code == 429
    # A different address is unaffected.
    assert attempt(client, "organiser", PASSWORD, ip="198.51.100.20").status_code == 302


def test_username_case_and_spaces_do_not_reset_the_count(client, organiser):
    for username in ["organiser", "Organiser", "ORGANISER ", " organiser", "OrGaNiSeR"]:
        attempt(client, username, "wrong")
    assert attempt(client, "organiser", PASSWORD).status_code == 429


def test_guessing_one_account_from_many_addresses_is_blocked_too(client, organiser, colleague):
    for number in range(30):
        response = attempt(client, "organiser", "wrong", ip=f"198.51.100.{number + 1}")
        assert response.status_code == 200
    response = attempt(client, " Organiser", PASSWORD, ip="192.0.2.200")
    assert response.status_code == 429
    assert "Try again in 15 minutes." in response.content.decode()
    # Other accounts, from any of those addresses, are unaffected.
    assert attempt(client, "colleague", PASSWORD, ip="198.51.100.1").status_code == 302


@pytest.mark.django_db(transaction=True)
def test_thirty_parallel_wrong_passwords_get_exactly_five_checked(organiser):
    # Real threads, each its own client and database connection, released together: the
    # count is taken atomically before a password is checked, so no more than the limit are.
    threads = 30
    barrier = threading.Barrier(threads)
    statuses = []

    def guess():
        try:
            client = BrowserClient()
            barrier.wait()
            statuses.append(attempt(client, "organiser", "wrong").status_code)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=guess) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert sorted(statuses) == [200] * 5 + [429] * 25
