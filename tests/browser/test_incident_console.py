"""The incident page in Chromium at a 1366 px laptop viewport: no sideways scrolling with a long status badge in
a side card (an exhausted escalation); an edit refused because someone else changed the incident shows its
message where the user is looking; Cancel and Close ask first, with room for a note that lands on the
timeline."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.alerts.conftest import cycle
from tests.browser.conftest import Console, sign_in
from tests.conftest import PASSWORD, World
from warroom.incidents import services as incidents
from warroom.incidents.models import Incident
from warroom.oncall import services as oncall
from warroom.oncall.services import StepSpec, TargetSpec
from warroom.paging.models import EscalationStatus, IncidentEscalation

LAPTOP = {"width": 1366, "height": 768}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _declare(world: World, **fields: Any) -> Incident:
    values: dict[str, Any] = {
        "title": "Checkout returns 502 for a third of all card payments since the 14:02 deploy",
        "team": world.team_a,
        "services": [world.service_a],
        "description": "Started right after the **4.2.1** deploy.\n\n" + "More detail.\n\n" * 8,
    }
    values.update(fields)
    return incidents.declare_incident(actor=world.alice, source="test", **values)


def _no_sideways_scroll(page: Page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths


def test_incident_page_fits_a_laptop_with_an_exhausted_escalation(
    page: Page, live_server: LiveServer, world: World, console: Console
) -> None:
    # A policy whose only step pages a schedule nobody is on: the escalation runs out at once.
    empty = oncall.create_schedule(
        team=world.team_a, name="Nobody yet", time_zone="UTC", actor=None, source="test"
    )
    policy = oncall.create_policy(
        team=world.team_a,
        actor=None,
        source="test",
        name="Checkout on call",
        steps=[StepSpec(5, [TargetSpec("schedule", empty.pk)])],
    )
    oncall.set_service_policy(service=world.service_a, policy=policy, actor=None, source="test")
    incident = _declare(world, is_major=True, impact=1, urgency=1)
    for _ in range(4):
        cycle()
    assert IncidentEscalation.objects.get(incident=incident).status == EscalationStatus.EXHAUSTED

    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server.url, "alice@example.com", PASSWORD)
    page.goto(f"{live_server.url}/incidents/{incident.ref}/")
    badge = page.locator("#escalation-status")
    expect(badge).to_have_text("Exhausted (nobody acknowledged)")
    _no_sideways_scroll(page)
    card = page.locator("#escalation").bounding_box()
    box = badge.bounding_box()
    assert card is not None and box is not None
    assert box["x"] + box["width"] <= card["x"] + card["width"], (box, card)  # the badge stays in its card
    assert not console.errors, console.errors


def test_an_edit_conflict_is_shown_where_the_user_is(
    page: Page, live_server: LiveServer, world: World, console: Console
) -> None:
    incident = _declare(world)
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server.url, "alice@example.com", PASSWORD)
    page.goto(f"{live_server.url}/incidents/{incident.ref}/")
    page.locator("summary", has_text="Edit fields").click()
    page.get_by_label("Title").fill("Checkout returns 502 (card payments)")
    save = page.get_by_role("button", name="Save changes")
    save.scroll_into_view_if_needed()

    # Meanwhile bob changes the incident: alice's form carries the version she saw.
    incidents.update_incident(incident=incident, actor=world.bob, source="test", urgency=1)
    save.click()
    problem = page.locator("#form-problem .alert-error")
    expect(problem).to_contain_text("was changed by someone else meanwhile")
    expect(problem).to_be_in_viewport()
    expect(page.locator("#edit-reload")).to_be_in_viewport()
    assert Incident.objects.get(pk=incident.pk).title == incident.title  # nothing overwritten
    page.locator("#edit-reload").get_by_role("link").click()
    expect(page.locator("#timeline")).to_contain_text("Urgency: 2 → 1")
    _no_sideways_scroll(page)


def test_cancel_and_close_ask_first_and_take_a_note(
    page: Page, live_server: LiveServer, world: World, console: Console
) -> None:
    duplicate = _declare(world, title="Checkout 502s (reported twice)")
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server.url, "alice@example.com", PASSWORD)
    page.goto(f"{live_server.url}/incidents/{duplicate.ref}/")

    # Cancel: the first click only asks.
    page.locator("summary", has_text="Cancel incident…").click()
    confirm = page.locator("#confirm-cancel form")
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text("Canceled is final")
    _no_sideways_scroll(page)  # the question opens leftwards from the right edge
    assert Incident.objects.get(pk=duplicate.pk).state == "new"
    confirm.get_by_label("Note (optional)").fill("Duplicate of the checkout incident")
    confirm.get_by_role("button", name="Cancel incident").click()
    expect(page.locator("#incident-state")).to_have_text("Canceled")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("State: New → Canceled")
    expect(timeline).to_contain_text("Duplicate of the checkout incident")

    # Close: resolved first, then asked, with a note.
    resolved = _declare(world, title="Search is slow")
    incidents.transition_incident(
        incident=resolved,
        actor=world.alice,
        source="test",
        to="resolved",
        resolution_code="workaround",
        resolution_notes="Restarted the indexer.",
    )
    page.goto(f"{live_server.url}/incidents/{resolved.ref}/")
    page.locator("summary", has_text="Close…").click()
    assert Incident.objects.get(pk=resolved.pk).state == "resolved"
    closing = page.locator("#confirm-close form")
    expect(closing).to_contain_text("Closed is final")
    closing.get_by_label("Note (optional)").fill("Fix confirmed by the search team")
    closing.get_by_role("button", name="Close incident").click()
    expect(page.locator("#incident-state")).to_have_text("Closed")
    expect(page.locator("#timeline")).to_contain_text("State: Resolved → Closed")
    expect(page.locator("#timeline")).to_contain_text("Fix confirmed by the search team")
    assert not console.errors, console.errors
