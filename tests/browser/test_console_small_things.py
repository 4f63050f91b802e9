"""Small things a user notices in the console, in Chromium: the major-incident card takes in a stakeholder update
posted beside it (it stops saying the update is overdue), and moving an escalation step up or down comes back at
the step with keyboard focus on the same arrow, so pressing Enter again keeps moving it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.browser.conftest import Console, sign_in
from tests.conftest import PASSWORD, World
from tests.incidents_major.conftest import declare
from warroom.lib import clock
from warroom.oncall import services as oncall
from warroom.oncall.models import EscalationPolicy
from warroom.oncall.services import StepSpec, TargetSpec

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_posting_an_update_refreshes_the_major_incident_card(
    page: Page, live_server: LiveServer, world: World, console: Console
) -> None:
    # a P1 major incident (updates every 30 min) opened 45 minutes ago with no update since: overdue
    incident = declare(world, when=clock.now() - timedelta(minutes=45), is_major=True)
    sign_in(page, live_server.url, "alice@example.com", PASSWORD)
    page.goto(f"{live_server.url}/incidents/{incident.ref}/")
    rhythm = page.locator("#major-rhythm")
    expect(rhythm).to_contain_text("overdue")

    updates = page.locator("#incident-updates")
    updates.get_by_label("Status").select_option("investigating")
    updates.get_by_label("Message").fill("We are looking into failed checkouts.")
    updates.get_by_role("button", name="Post update").click()
    expect(updates.locator("#update-list")).to_contain_text("We are looking into failed checkouts.")

    # the card beside it took the update in, without a reload
    expect(rhythm).not_to_contain_text("overdue")
    expect(rhythm).to_contain_text("just now")
    expect(page.locator("#major-demote")).to_be_visible()  # still the whole card, its actions included
    assert not console.errors, console.errors


def _policy(world: World, steps: int) -> EscalationPolicy:
    return oncall.create_policy(
        team=world.team_a,
        name="Checkout primary",
        repeat=1,
        steps=[StepSpec(5 + i, [TargetSpec("user", world.bob.pk)]) for i in range(steps)],
        actor=None,
        source="test",
    )


def test_moving_a_step_comes_back_at_it_with_focus_on_the_arrow(
    page: Page, live_server: LiveServer, world: World, console: Console
) -> None:
    policy = _policy(world, 6)  # step N waits 4+N minutes: a step is known by its wait
    page.set_viewport_size({"width": 1280, "height": 600})  # six steps are taller than the window
    sign_in(page, live_server.url, "alice@example.com", PASSWORD)
    page.goto(f"{live_server.url}/oncall/policies/{policy.pk}/")

    page.get_by_role("button", name="Move step 5 up").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("#flash")).to_contain_text("Steps saved")
    expect(page.locator("#step-4")).to_contain_text("then wait 9 min")  # the step that was 5th
    expect(page.locator("#step-4")).to_be_in_viewport()
    expect(page.get_by_role("button", name="Move step 4 up")).to_be_focused()
    assert page.evaluate("window.scrollY") > 0, "not back at the top of the page"

    # Enter again moves it on; at the top, focus stays with the step (its "down" arrow)
    for expected in ("Move step 3 up", "Move step 2 up", "Move step 1 down"):
        with page.expect_navigation():
            page.keyboard.press("Enter")
        expect(page.get_by_role("button", name=expected)).to_be_focused()
    expect(page.locator("#step-1")).to_contain_text("then wait 9 min")
    expect(page.locator("#step-1")).to_be_in_viewport()

    # down to the bottom the same way
    page.get_by_role("button", name="Move step 5 down").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Move step 6 up")).to_be_focused()
    expect(page.locator("#step-6")).to_be_in_viewport()
    assert not console.errors, console.errors
