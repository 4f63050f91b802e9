"""Workflows in Chromium: alice writes Team A's P1 playbook in the console (declared, priority 1, two tasks, the
Incident Commander role to herself), finds it in the list, and sees its first run on its page. The screenshot of
the workflow's page lands in docs/screenshots only with WARROOM_SCREENSHOTS=1."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.browser.conftest import Console, sign_in
from tests.conftest import PASSWORD, World
from warroom.automation import runner
from warroom.automation.models import Workflow
from warroom.incidents import services as incidents
from warroom.lib import clock

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_alice_writes_a_p1_playbook(
    page: Page, live_server: LiveServer, world: World, console: Console, tmp_path: Path
) -> None:
    target = SCREENSHOTS if os.environ.get("WARROOM_SCREENSHOTS") == "1" else tmp_path
    runner.run(clock.now())  # the runner's first pass: it looks at what happens from now on
    sign_in(page, live_server.url, "alice@example.com", PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Workflows").click()
    expect(page.get_by_role("heading", name="Workflows")).to_be_visible()
    page.get_by_role("link", name="New workflow").click()

    form = page.locator("#workflow-form")
    expect(form.get_by_label("Team", exact=True)).to_have_value(str(world.team_a.pk))  # her only team
    form.get_by_label("Name", exact=True).fill("P1 playbook")
    form.get_by_label("Trigger", exact=True).select_option(label="An incident is declared")
    form.get_by_label("P1", exact=True).check()
    form.get_by_label("Tasks").fill("Open a bridge call\nTell customer support")
    form.get_by_label("Incident Commander").select_option(label="Alice Admin")
    form.get_by_label("URL").fill("https://hooks.example.com/warroom/T0K3N")
    form.get_by_role("button", name="Create workflow").click()

    expect(page.locator("#flash")).to_contain_text(
        "P1 playbook created: it runs when an incident is declared."
    )
    workflow = Workflow.objects.get(name="P1 playbook")
    # the webhook's new signing secret, on this page only
    expect(page.locator("#reveal")).to_contain_text("never show it again")
    expect(page.locator("#reveal-secret")).to_have_value(workflow.webhook_secret["signing_secret"])
    assert (workflow.team, workflow.trigger, workflow.priorities) == (world.team_a, "declared", [1])
    assert workflow.tasks == ["Open a bridge call", "Tell customer support"]
    assert workflow.roles == {"incident-commander": world.alice.pk}

    page.get_by_role("link", name="Workflows").first.click()
    row = page.locator("#workflows tr", has_text="P1 playbook")
    expect(row).to_contain_text("Team A")
    expect(row).to_contain_text("An incident is declared")
    expect(row).to_contain_text("2 tasks · Incident Commander → Alice Admin")
    expect(row).to_contain_text("Never")

    # a P1 is declared on Checkout: the runner runs the playbook, and its page shows the run
    incident = incidents.declare_incident(
        actor=world.bob,
        source="test",
        title="Checkout returns 502 for a third of requests",
        team=world.team_a,
        services=[world.service_a],
        impact=1,
        urgency=1,
    )
    assert runner.run(clock.now()) == 1
    row.get_by_role("link", name="P1 playbook").click()
    runs = page.locator("#workflow-runs")
    expect(runs.get_by_role("link", name=incident.ref)).to_be_visible()
    expect(runs).to_contain_text("task “Open a bridge call”")
    expect(runs).to_contain_text("Incident Commander → Alice Admin")
    expect(runs).to_contain_text("webhook to https://hooks.example.com/… queued")
    expect(runs.locator(".run-webhook")).to_contain_text("Pending")  # no engine sends it in this test
    expect(page.locator("#reveal")).to_have_count(0)
    expect(page.get_by_label("Name", exact=True)).to_have_value("P1 playbook")
    page.screenshot(path=str(target / "workflow.png"), full_page=True)
    assert not console.errors, console.errors
