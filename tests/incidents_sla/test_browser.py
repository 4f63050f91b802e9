"""The SLA card and the report page in Chromium: they render, the card follows a hold and a resolve done in the
page (htmx swaps the whole incident), and nothing trips the Content Security Policy. Screenshots go to
test-artifacts/sla-*.png for review."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.browser.conftest import Console, sign_in
from tests.conftest import PASSWORD, make_world
from tests.incidents_sla.conftest import define, move
from warroom.incidents import services as incidents
from warroom.lib import clock

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_the_sla_card_and_the_report_in_a_browser(
    page: Page, live_server: LiveServer, console: Console
) -> None:
    world = make_world()
    define(priority=3, response_minutes=15, resolution_minutes=60)
    now = clock.now()
    incident = incidents.declare_incident(
        actor=world.alice,
        source="test",
        title="Checkout returns 502 for a third of requests",
        team=world.team_a,
        services=[world.service_a],
        opened_at=now - timedelta(minutes=50),
    )
    move(incident, now - timedelta(minutes=30), "in_progress")  # response breached (20 of 15 minutes)

    sign_in(page, live_server.url, "alice@example.com", PASSWORD)
    page.goto(f"{live_server.url}/incidents/{incident.ref}/")
    card = page.locator("#sla")
    expect(card.get_by_role("heading", name="SLA")).to_be_visible()
    expect(page.locator("#sla-response")).to_have_attribute("data-status", "breached")
    expect(page.locator("#sla-resolution")).to_have_attribute("data-status", "warning")
    expect(page.locator("#sla-resolution")).to_contain_text("of 1h used")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "sla-incident.png"), full_page=True)
    # A screenshot leaves style="" on the inputs, which htmx would then copy while swapping (a CSP report): reload.
    page.reload()

    page.locator("summary", has_text="Put on hold…").click()
    page.get_by_label("Hold reason").select_option(label="Awaiting vendor")
    page.get_by_role("button", name="Put on hold", exact=True).click()
    expect(page.locator("#sla-resolution")).to_have_attribute("data-status", "paused")
    page.get_by_role("button", name="Resume", exact=True).click()
    expect(page.locator("#incident-state")).to_have_text("In Progress")
    expect(page.locator("#sla-resolution")).to_have_attribute("data-status", "warning")
    page.locator("summary", has_text="Resolve…").click()
    page.get_by_label("Resolution code").select_option(label="Solved (workaround)")
    page.get_by_label("Resolution notes").fill("Rolled back.")
    page.get_by_role("button", name="Resolve", exact=True).click()
    expect(page.locator("#sla-resolution")).to_have_attribute("data-status", "met")
    expect(page.locator("#timeline")).to_contain_text("Resolution SLA met (resolved)")

    page.get_by_role("link", name="SLA reports").click()
    expect(page.get_by_role("heading", name="SLA compliance")).to_be_visible()
    expect(page.locator("#by-team")).to_contain_text("Team A")
    assert not [e for e in console.errors if "Content Security Policy" in e], console.errors
    page.screenshot(path=str(ARTIFACTS / "sla-report.png"), full_page=True)
