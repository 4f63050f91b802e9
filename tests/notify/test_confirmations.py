"""The Notifications page asks before removing a notification rule or disabling a contact method (as it does
before deleting one), saying what changes: by what, for which urgency, the person will no longer be paged, and
warning when high-urgency pages would then reach them nowhere. Enabling again needs no question."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import World
from tests.notify.conftest import verified
from warroom.notify.models import ContactMethod, NotificationRule

pytestmark = pytest.mark.django_db

PAGE = "/settings/notifications/"


@pytest.fixture(autouse=True)
def _email(settings: Any) -> None:
    settings.MAILERS = {
        **settings.MAILERS,
        "notifications": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"},
    }


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def _question(html: str, details_id: str) -> str:
    """The text of the confirmation ``<details id=...>``; fails when there is none."""
    match = re.search(rf'<details class="action-pop[^"]*" id="{details_id}">(.*?)</details>', html, re.S)
    assert match is not None, f"no confirmation {details_id}"
    return _text(match.group(1))


def _forms_outside_confirmations(html: str, action: str) -> list[str]:
    """The forms posting to ``action`` that are not inside a confirmation: one click would do it."""
    bare = re.sub(r'<details class="action-pop.*?</details>', "", html, flags=re.S)
    return re.findall(rf'<form[^>]*action="{re.escape(action)}"[^>]*>.*?</form>', bare, re.S)


def test_disabling_a_contact_method_asks_first_and_says_what_stops(
    client_for: Callable[..., Client], world: World
) -> None:
    work = verified(world.bob, "email", "bob@example.com", name="Work email")
    bob = client_for(world.bob)
    html = bob.get(PAGE).content.decode()
    disable = reverse("notify-method-disable", args=[work.pk])
    assert not _forms_outside_confirmations(html, disable), "Disable does not act on one click"
    question = _question(html, f"disable-method-{work.pk}")
    assert "Disable Work email (bob@example.com)?" in question
    assert "You will not be paged by Work email for high- or low-urgency incidents" in question
    assert "only working contact method for high-urgency incidents" in question

    home = verified(world.bob, "email", "bob.home@example.com", name="Home email")
    html = bob.get(PAGE).content.decode()
    assert "only working contact method" not in _question(html, f"disable-method-{work.pk}")
    assert "only working contact method" not in _question(html, f"disable-method-{home.pk}")

    assert bob.post(disable, {"disabled": "1"}).status_code == 302
    work.refresh_from_db()
    assert work.disabled
    html = bob.get(PAGE).content.decode()
    assert f'id="disable-method-{work.pk}"' not in html
    enable = _forms_outside_confirmations(html, disable)
    assert len(enable) == 1 and "Enable" in enable[0], "enabling again is one click"


def test_a_method_no_rule_uses_says_paging_does_not_change(
    client_for: Callable[..., Client], world: World
) -> None:
    spare = verified(world.bob, "email", "bob@example.com", name="Spare")
    NotificationRule.objects.filter(contact_method=spare).delete()
    html = client_for(world.bob).get(PAGE).content.decode()
    question = _question(html, f"disable-method-{spare.pk}")
    assert "No notification rule uses it: your paging does not change." in question
    assert "You will not be paged" not in question


def test_removing_a_rule_asks_first_and_says_what_stops(
    client_for: Callable[..., Client], world: World
) -> None:
    work = verified(world.bob, "email", "bob@example.com", name="Work email")
    high = NotificationRule.objects.get(contact_method=work, urgency="high")
    low = NotificationRule.objects.get(contact_method=work, urgency="low")
    bob = client_for(world.bob)
    html = bob.get(PAGE).content.decode()
    remove_high = reverse("notify-rule-delete", args=[high.pk])
    assert not _forms_outside_confirmations(html, remove_high), "Remove does not act on one click"
    question = _question(html, f"remove-rule-{high.pk}")
    assert (
        f"You will not be paged by Work email (bob@example.com) at {high.delay_minutes} min for"
        " high-urgency incidents." in question
    )
    assert (
        "It is your only working high-urgency rule: high-urgency pages would reach you nowhere." in question
    )
    low_question = _question(html, f"remove-rule-{low.pk}")
    assert f"at {low.delay_minutes} min for low-urgency incidents." in low_question
    assert "only working" not in low_question

    verified(world.bob, "email", "bob.home@example.com", name="Home email")
    html = bob.get(PAGE).content.decode()
    assert "only working" not in _question(html, f"remove-rule-{high.pk}")

    assert bob.post(remove_high).status_code == 302
    assert not NotificationRule.objects.filter(pk=high.pk).exists()
    assert ContactMethod.objects.filter(pk=work.pk).exists()
