"""The incident page in Chromium as an on-call engineer uses it: a refusal of what they clicked, or a server
that fails to answer, shows at the top of the page and is brought into view wherever they were scrolled to;
demoting a major incident asks first, with room for why; timeline lines of alerts and paging say so."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect
from pytest_django.live_server_helper import LiveServer

from tests.browser.conftest import Console, sign_in
from tests.conftest import PASSWORD, World
from warroom.incidents import major
from warroom.incidents import services as incidents
from warroom.incidents.models import Incident

LAPTOP = {"width": 1366, "height": 768}
SHOTS = "/tmp/h2"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _declare(world: World, **fields: Any) -> Incident:
    values: dict[str, Any] = {
        "title": "Checkout returns 502 for a third of all card payments",
        "team": world.team_a,
        "services": [world.service_a],
        "description": "Started right after the **4.2.1** deploy.\n\n" + "More detail.\n\n" * 12,
        "impact": 1,
        "urgency": 1,
    }
    values.update(fields)
    return incidents.declare_incident(actor=world.alice, source="test", **values)


def _open_scrolled_down(page: Page, live_server: LiveServer, incident: Incident) -> None:
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server.url, "alice@example.com", PASSWORD)
    page.goto(f"{live_server.url}/incidents/{incident.ref}/")
    page.locator("#times").scroll_into_view_if_needed()
    expect(page.locator("#flash")).not_to_be_in_viewport()


def _submit_promote(page: Page) -> None:
    """Send the "Promote to major" form as its button would, without scrolling up to it."""
    page.locator("#major-promote").evaluate("button => button.form.requestSubmit(button)")


def test_a_refusal_is_brought_into_view(
    page: Page, live_server: LiveServer, world: World, console: Console
) -> None:
    incident = _declare(world)
    _open_scrolled_down(page, live_server, incident)
    major.promote_to_major(incident=incident, actor=world.bob, source="test")  # meanwhile, bob did it
    _submit_promote(page)
    alert = page.locator("#flash [role=alert]")
    expect(alert).to_contain_text("already a major incident")
    expect(alert).to_be_in_viewport()
    page.screenshot(path=f"{SHOTS}/refusal-in-view.png")
    assert not [e for e in console.errors if "Content Security Policy" in e], console.errors


def test_a_server_failure_is_said_and_brought_into_view(
    page: Page, live_server: LiveServer, world: World
) -> None:
    incident = _declare(world)
    _open_scrolled_down(page, live_server, incident)

    def fail(route: Route) -> None:
        route.fulfill(status=502, body="Bad gateway")

    page.route("**/major/promote/", fail)
    _submit_promote(page)
    alert = page.locator("#flash [role=alert]")
    expect(alert).to_contain_text("the server answered with an error (502)")
    expect(alert).to_be_in_viewport()
    assert not Incident.objects.get(pk=incident.pk).is_major

    # the next attempt clears it; this one gets through
    page.unroute("**/major/promote/")
    _submit_promote(page)
    expect(page.locator("#incident-main .badge.major").first).to_be_visible()
    expect(page.locator("#flash [role=alert]")).to_have_count(0)


def test_demote_asks_first_and_records_why(
    page: Page, live_server: LiveServer, world: World, console: Console
) -> None:
    incident = _declare(world, is_major=True)
    incidents.record_alert(
        incident=incident, source="engine", message="Alert HighErrorRate opened this incident"
    )
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server.url, "alice@example.com", PASSWORD)
    page.goto(f"{live_server.url}/incidents/{incident.ref}/")
    expect(page.locator("#timeline .tl-link-alert .tl-kind")).to_have_text("Alert")

    page.get_by_text("Demote to ordinary…").click()
    confirm = page.locator("#confirm-demote form")
    expect(confirm).to_contain_text(f"Demote {incident.ref} to an ordinary incident?")
    page.screenshot(path=f"{SHOTS}/demote-confirm.png")
    assert Incident.objects.get(pk=incident.pk).is_major  # the first click only asks
    confirm.get_by_label("Why (optional)").fill("Impact contained to one region")
    confirm.get_by_role("button", name="Demote incident").click()
    expect(page.locator("#major-promote")).to_be_visible()
    expect(page.locator("#timeline")).to_contain_text("Impact contained to one region")
    assert not Incident.objects.get(pk=incident.pk).is_major
    assert not console.errors, console.errors


def test_working_the_incident_keeps_the_place_and_clears_old_confirmations(
    page: Page, live_server: LiveServer, world: World, console: Console
) -> None:
    """Adding a task or a note (htmx swaps the incident's main block) leaves the page where it was, with the new
    task in view; the "declared" confirmation of the form before does not stay on screen through them."""
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server.url, "alice@example.com", PASSWORD)
    page.goto(f"{live_server.url}/incidents/declare/")
    page.fill("#id_title", "Checkout returns 502 for a third of all card payments")
    page.select_option("#id_team", str(world.team_a.pk))
    page.fill("#id_description", "Started right after the deploy.\n\n" + "More detail.\n\n" * 12)
    page.get_by_role("button", name="Declare incident").click()
    confirmation = page.locator("#flash [role=status]")
    expect(confirmation).to_contain_text("declared. Its timeline has started.")

    task = page.locator("#task_title")
    task.scroll_into_view_if_needed()
    before = page.evaluate("window.scrollY")
    assert before > 0
    task.fill("Roll back 4.2.1")
    task.press("Enter")
    added = page.locator("#incident-main .tasks li", has_text="Roll back 4.2.1")
    expect(added).to_be_in_viewport()
    assert abs(page.evaluate("window.scrollY") - before) < 50, "the page did not jump"
    expect(confirmation).to_have_count(0)
    assert not console.errors, console.errors
