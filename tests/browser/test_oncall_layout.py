"""On-call and notification settings pages on a phone: the layers table of a schedule and the contact methods
table are wide, so they scroll inside their cards; the page itself never scrolls sideways."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.browser.conftest import Console, sign_in
from tests.conftest import PASSWORD, World
from tests.notify.conftest import verified
from warroom.oncall import rotation, services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SIDEWAYS = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


def test_schedule_and_notification_pages_fit_a_phone(
    phone: Page, live_server: LiveServer, world: World, console: Console, settings: Any
) -> None:
    settings.MAILERS = {
        **settings.MAILERS,
        "notifications": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"},
    }
    verified(world.alice, "email", "alice.on.call.for.checkout@example.com", name="Work email")
    schedule = services.create_schedule(
        team=world.team_a, name="Checkout primary", time_zone="America/Chicago", actor=None, source="system"
    )
    services.create_layer(
        schedule=schedule,
        name="Business hours",
        rotation_kind="daily",
        start=datetime(2026, 3, 2, 9, 0),
        handoff_time=time(9, 0),
        participants=[world.alice, world.bob],
        restrictions=[rotation.Restriction(frozenset(range(5)), time(9), time(17))],
        actor=None,
        source="system",
    )
    base = live_server.url
    sign_in(phone, base, "alice@example.com", PASSWORD)

    phone.goto(f"{base}/oncall/schedules/{schedule.pk}/")
    layers = phone.locator("#layers")
    expect(layers).to_contain_text("Weekdays 09:00–17:00")
    assert phone.evaluate(SIDEWAYS) <= 0, "the layers table scrolls inside its card"
    edit = layers.get_by_role("link", name="Edit layer Business hours")
    edit.scroll_into_view_if_needed()
    expect(edit).to_be_visible()

    phone.goto(f"{base}/settings/notifications/")
    expect(phone.locator("#contact-methods")).to_contain_text("alice.on.call.for.checkout@example.com")
    assert phone.evaluate(SIDEWAYS) <= 0, "the contact methods table scrolls inside its card"
    assert not [e for e in console.errors if "Content Security Policy" in e]
