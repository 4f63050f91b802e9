"""A verification code that is not even a code (letters, too few or too many digits) is refused naming the
format without using up one of the limited tries, in the console and the API alike; a well-formed wrong code
still uses one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from django.test import Client

from tests.api.conftest import Clients, error
from tests.conftest import World
from tests.notify.conftest import pending_code
from tests.notify.receivers import Inbox
from warroom.notify import services
from warroom.notify.models import ContactMethod

pytestmark = pytest.mark.django_db


def _method(world: World) -> ContactMethod:
    return services.create_contact_method(
        user=world.bob, kind="email", name="Work", address="bob@example.com", actor=world.bob, source="api"
    ).method


def _attempts(method: ContactMethod) -> int:
    return ContactMethod.objects.get(pk=method.pk).code_attempts


@pytest.mark.parametrize("typo", ["12a456", "abcdef", "12345", "1234567", "１２３４５６"])
def test_a_malformed_code_is_refused_naming_the_format_without_using_a_try_in_the_api(
    api: Clients, world: World, smtp: Inbox, frozen: datetime, typo: str
) -> None:
    method = _method(world)
    response = api.bob.post(f"/me/contact-methods/{method.pk}/verify", {"code": typo})
    assert response.status_code == 400
    body = error(response)
    assert body["errors"][0]["field"] == "code"
    assert "6 digits" in body["detail"] and "tries left" not in body["detail"]
    assert _attempts(method) == 0, "a typo is not a guess"
    # a well-formed wrong code is a guess: it uses one of the five tries, the first one
    wrong = "000000" if pending_code(method) != "000000" else "111111"
    guess = api.bob.post(f"/me/contact-methods/{method.pk}/verify", {"code": wrong})
    assert guess.status_code == 400 and "wrong code (4 tries left)" in error(guess)["detail"]
    assert _attempts(method) == 1
    ok = api.bob.post(f"/me/contact-methods/{method.pk}/verify", {"code": pending_code(method)})
    assert ok.status_code == 200 and ok.json()["verified"] is True


def test_the_console_refuses_a_malformed_code_without_using_a_try(
    client_for: Callable[..., Client], world: World, smtp: Inbox, frozen: datetime
) -> None:
    method = _method(world)
    bob = client_for(world.bob)
    for _ in range(6):  # more than the tries a code has
        page = bob.post(f"/settings/notifications/methods/{method.pk}/verify/", {"code": "12a456"})
        assert page.status_code == 400
        assert "a code is 6 digits (0-9)" in page.content.decode()
    assert _attempts(method) == 0
    done = bob.post(f"/settings/notifications/methods/{method.pk}/verify/", {"code": pending_code(method)})
    assert done.status_code == 302 and ContactMethod.objects.get(pk=method.pk).is_verified


def test_a_typo_stays_in_the_code_box_next_to_the_message(
    client_for: Callable[..., Client], world: World, smtp: Inbox, frozen: datetime
) -> None:
    method = _method(world)
    page = client_for(world.bob).post(
        f"/settings/notifications/methods/{method.pk}/verify/", {"code": "12a456"}
    )
    assert f'id="code-{method.pk}"' in page.content.decode() and 'value="12a456"' in page.content.decode()
