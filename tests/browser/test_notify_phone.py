"""The Notifications page on a phone (390 px): each contact method is a card, so a method still to verify does not
push the page sideways, a wrong code's error shows under the field in view, and Disable… asks first with its
question and button on screen; confirming disables the method."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.browser.conftest import PHONE, Console, sign_in
from tests.conftest import PASSWORD, World
from tests.notify.conftest import verified
from warroom.notify import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SIDEWAYS = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


def _on_screen(page: Page, selector: str) -> None:
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (
        f"{selector} is off to the side: {box}"
    )


def test_contact_methods_on_a_phone_keep_codes_errors_and_questions_in_view(
    phone: Page, live_server: LiveServer, world: World, console: Console, settings: Any
) -> None:
    settings.MAILERS = {
        **settings.MAILERS,
        "notifications": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"},
    }
    work = verified(world.alice, "email", "alice.on.call.for.checkout@example.com", name="Work email")
    home = services.create_contact_method(
        user=world.alice,
        kind="email",
        name="Home email",
        address="alice.at.home.in.the.evening@example.com",
        token="",
        actor=world.alice,
        source="test",
    ).method
    base = live_server.url
    sign_in(phone, base, "alice@example.com", PASSWORD)
    phone.goto(f"{base}/settings/notifications/")
    expect(phone.locator("#contact-methods")).to_contain_text("alice.at.home.in.the.evening@example.com")
    assert phone.evaluate(SIDEWAYS) <= 0, "a method still to verify does not widen the page"

    code = phone.get_by_label("Code for Home email")
    code.fill("12")
    phone.get_by_role("button", name="Verify Home email").click()
    error = phone.locator(f"#code-{home.pk}_error")
    expect(error).to_contain_text("a code is 6 digits")
    expect(phone.locator(f"#code-{home.pk}")).to_have_attribute("aria-invalid", "true")
    _on_screen(phone, f"#code-{home.pk}_error")
    assert phone.evaluate(SIDEWAYS) <= 0

    card = phone.locator(f"#method-{work.pk}")
    card.locator("summary", has_text="Disable…").click()
    expect(card).to_contain_text("You will not be paged by Work email for high- or low-urgency incidents")
    confirm = card.get_by_role("button", name="Disable Work email", exact=True)
    confirm.scroll_into_view_if_needed()
    expect(confirm).to_be_in_viewport()
    _on_screen(phone, f"#disable-method-{work.pk} .pop")
    assert phone.evaluate(SIDEWAYS) <= 0, "the question fits the phone's width"
    confirm.click()
    expect(phone.get_by_text("Work email disabled.")).to_be_visible()
    work.refresh_from_db()
    assert work.disabled
    assert not [e for e in console.errors if "Content Security Policy" in e]
