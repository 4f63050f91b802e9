"""The sign-in throttle: ten wrong passwords for one email from one address within 15 minutes, and that pair
waits; another address, and the right person elsewhere, are not locked out. The console says how long to wait."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD, World
from warroom.accounts import signin
from warroom.accounts.models import SignInFailure
from warroom.audit.models import AuditEvent
from warroom.lib import clock

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
LOGIN = "/login/"


def sign_in(email: str, password: str, *, address: str = "203.0.113.7") -> tuple[int, str, bool]:
    """POST the console's sign-in form from ``address``: (status, page text, signed in?)."""
    client = Client(REMOTE_ADDR=address)
    response = client.post(LOGIN, {"username": email, "password": password})
    return response.status_code, response.content.decode(), "_auth_user_id" in client.session


@pytest.fixture
def frozen() -> object:
    with clock.frozen(T0):
        yield


def test_the_right_password_signs_in_and_the_email_case_does_not_matter(world: World) -> None:
    status, _page, signed_in = sign_in("Bob@Example.com ", PASSWORD)
    assert (status, signed_in) == (302, True)


def test_ten_wrong_passwords_and_even_the_right_one_must_wait(world: World, frozen: object) -> None:
    for attempt in range(signin.LIMIT):
        status, page, signed_in = sign_in("bob@example.com", f"wrong-{attempt}")
        assert (status, signed_in) == (200, False)
        assert "That email and password do not match an active account." in page

    status, page, signed_in = sign_in("bob@example.com", PASSWORD)

    assert signed_in is False
    assert "Too many failed sign-ins for this email from your address. Try again in 15 minutes" in page
    throttled = AuditEvent.objects.get(action="user.sign_in.throttle")
    assert throttled.object_id == str(world.bob.pk)
    assert throttled.after == {"address": "203.0.113.7", "failures": 10, "window_seconds": 900}


def test_the_wait_ends_with_the_window_and_success_clears_the_count(world: World) -> None:
    with clock.frozen(T0):
        for attempt in range(signin.LIMIT):
            sign_in("bob@example.com", f"wrong-{attempt}")
    with clock.frozen(T0 + timedelta(minutes=14)):
        _status, page, signed_in = sign_in("bob@example.com", PASSWORD)
        assert not signed_in and "Try again in 1 minute," in page
    with clock.frozen(T0 + timedelta(minutes=15, seconds=1)):
        assert sign_in("bob@example.com", PASSWORD)[2] is True
        assert not SignInFailure.objects.filter(email="bob@example.com").exists()


def test_the_throttle_holds_one_address_not_the_person_everywhere(world: World, frozen: object) -> None:
    for attempt in range(signin.LIMIT):
        sign_in("bob@example.com", f"wrong-{attempt}", address="198.51.100.66")
    assert sign_in("bob@example.com", PASSWORD, address="198.51.100.66")[2] is False
    assert sign_in("bob@example.com", PASSWORD, address="203.0.113.7")[2] is True
    assert sign_in("alice@example.com", PASSWORD, address="198.51.100.66")[2] is True


def test_the_admin_site_sign_in_is_throttled_too(world: World, frozen: object) -> None:
    for attempt in range(signin.LIMIT):
        sign_in("olivia@example.com", f"wrong-{attempt}")
    client = Client(REMOTE_ADDR="203.0.113.7")
    client.post(reverse("admin:login"), {"username": "olivia@example.com", "password": PASSWORD})
    assert "_auth_user_id" not in client.session


def test_an_unknown_email_is_throttled_like_a_known_one_and_audits_nothing(
    world: World, frozen: object
) -> None:
    for attempt in range(signin.LIMIT + 1):
        _status, page, _signed_in = sign_in("nobody@example.com", f"wrong-{attempt}")
    assert "Too many failed sign-ins" in page
    assert not AuditEvent.objects.filter(action="user.sign_in.throttle").exists()


def test_old_failures_are_forgotten(world: World) -> None:
    with clock.frozen(T0):
        sign_in("bob@example.com", "wrong")
    with clock.frozen(T0 + timedelta(hours=1)):
        sign_in("alice@example.com", "wrong")
    assert list(SignInFailure.objects.values_list("email", flat=True)) == ["alice@example.com"]
