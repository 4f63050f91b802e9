"""The Notifications page asks before deleting a contact method, saying what goes with it (its rules) and
warning when it is the person's only working way to be paged."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client

from tests.conftest import World
from tests.notify.conftest import verified
from warroom.notify.models import ContactMethod

pytestmark = pytest.mark.django_db


def _confirmation(html: str, method: ContactMethod) -> str:
    match = re.search(
        rf'<details class="action-pop[^"]*" id="delete-method-{method.pk}">(.*?)</details>', html, re.S
    )
    assert match is not None, "Delete asks first"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", match.group(1)))


def test_deleting_a_contact_method_asks_first_and_says_what_goes_with_it(
    client_for: Callable[..., Client], world: World, settings: object
) -> None:
    settings.MAILERS = {  # type: ignore[attr-defined]
        **settings.MAILERS,  # type: ignore[attr-defined]
        "notifications": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"},
    }
    work = verified(world.bob, "email", "bob@example.com", name="Work email")
    bob = client_for(world.bob)
    alone = _confirmation(bob.get("/settings/notifications/").content.decode(), work)
    assert "Delete Work email (bob@example.com)?" in alone
    assert "Its 2 notification rules go too" in alone
    assert "It is your only working contact method: pages would reach you nowhere." in alone
    home = verified(world.bob, "email", "bob.home@example.com", name="Home email")
    page = bob.get("/settings/notifications/").content.decode()
    assert "only working contact method" not in _confirmation(page, work)
    assert "only working contact method" not in _confirmation(page, home)
    deleted = bob.post(f"/settings/notifications/methods/{work.pk}/delete/")
    assert deleted.status_code == 302
    assert list(ContactMethod.objects.filter(user=world.bob).values_list("name", flat=True)) == ["Home email"]
