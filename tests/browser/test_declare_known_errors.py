"""Declaring in Chromium: while the title is typed, the known errors that match show up under the form with their
workaround, before the incident exists (docs/problems.md, "Known-error suggestions")."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.browser.conftest import Console, sign_in
from tests.conftest import PASSWORD, World
from warroom.reviews import services as reviews

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_known_error_shows_up_while_the_title_is_typed(
    page: Page, live_server: LiveServer, world: World, console: Console
) -> None:
    problem = reviews.create_problem(
        actor=world.alice,
        source="test",
        title="Payment gateway timeouts from the acquirer",
        team=world.team_a,
        services=[],
        workaround="Switch payments to the **secondary acquirer**.",
    )
    sign_in(page, live_server.url, "alice@example.com", PASSWORD)
    page.goto(f"{live_server.url}/incidents/declare/")
    finder = page.locator("#declare-known-errors")
    expect(finder).to_be_empty()
    page.get_by_label("Title").press_sequentially("Card payments fail: gateway timeouts", delay=20)
    expect(finder).to_contain_text("Known errors that may match")
    expect(finder).to_contain_text(problem.title)
    expect(finder.locator("strong", has_text="secondary acquirer")).to_be_visible()  # markdown, open
    # the words change and no longer match: the panel empties
    page.get_by_label("Title").fill("Disk full on the log host")
    page.get_by_label("Title").press("End")
    page.get_by_label("Title").press_sequentially(" again", delay=20)
    expect(finder).to_be_empty()
    assert not console.errors, console.errors
