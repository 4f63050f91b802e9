"""Removals that ask first, on a phone: a responder removes an override of their own from the schedule page
("Remove…" says what happens, when), and someone deletes a contact method (warned when it is their only way to
be paged); the questions fit the screen and confirming does it."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.browser.conftest import Console, sign_in
from tests.conftest import PASSWORD, World
from tests.notify.conftest import verified
from warroom.lib import clock
from warroom.notify.models import ContactMethod
from warroom.oncall import services
from warroom.oncall.models import Override

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SIDEWAYS = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


def test_a_responder_removes_their_own_override_after_confirming(
    phone: Page, live_server: LiveServer, world: World, console: Console
) -> None:
    schedule = services.create_schedule(
        team=world.team_a, name="Checkout primary", time_zone="UTC", actor=None, source="system"
    )
    services.create_layer(
        schedule=schedule,
        name="Primary",
        rotation_kind="daily",
        start=datetime(2026, 1, 1, 9, 0),
        handoff_time=time(9, 0),
        participants=[world.alice, world.bob],
        actor=None,
        source="system",
    )
    start = clock.now().replace(microsecond=0) + timedelta(days=1)
    services.create_override(
        schedule=schedule,
        user=world.alice,
        replaces=world.bob,
        start=start,
        end=start + timedelta(hours=4),
        note="bob's dentist",
        actor=world.alice,
        source="web",
    )
    base = live_server.url
    sign_in(phone, base, "bob@example.com", PASSWORD)
    phone.goto(f"{base}/oncall/schedules/{schedule.pk}/")
    overrides = phone.locator("#overrides")
    remove = overrides.locator("summary", has_text="Remove…")
    remove.scroll_into_view_if_needed()
    remove.click()
    question = overrides.get_by_text("Remove this override?")
    expect(question).to_be_visible()
    expect(question).to_contain_text("the layers decide again: Bob Responder's shifts are theirs again")
    assert phone.evaluate(SIDEWAYS) <= 0, "the question fits the phone's width"
    overrides.get_by_role("button", name="Remove override").click()
    expect(phone.get_by_text("Override removed.")).to_be_visible()
    expect(phone.locator("#overrides")).to_contain_text("No upcoming overrides.")
    assert not Override.objects.exists()
    assert not [e for e in console.errors if "Content Security Policy" in e]


def test_deleting_a_contact_method_on_a_phone_asks_first(
    phone: Page, live_server: LiveServer, world: World, console: Console, settings: Any
) -> None:
    settings.MAILERS = {
        **settings.MAILERS,
        "notifications": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"},
    }
    verified(world.bob, "email", "bob@example.com", name="Work email")
    base = live_server.url
    sign_in(phone, base, "bob@example.com", PASSWORD)
    phone.goto(f"{base}/settings/notifications/")
    methods = phone.locator("#contact-methods")
    ask = methods.locator("summary", has_text="Delete…")
    ask.scroll_into_view_if_needed()
    ask.click()
    expect(methods).to_contain_text("It is your only working contact method: pages would reach you nowhere.")
    confirm = methods.get_by_role("button", name="Delete Work email", exact=True)
    confirm.scroll_into_view_if_needed()
    expect(confirm).to_be_visible()
    confirm.click()
    expect(phone.get_by_text("Work email deleted, with its rules.")).to_be_visible()
    assert not ContactMethod.objects.filter(user=world.bob).exists()
    assert phone.evaluate(SIDEWAYS) <= 0
