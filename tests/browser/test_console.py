"""The console in Chromium: the whole incident lifecycle, a phone-sized incident list, and the README
screenshots."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.browser.conftest import Console, sign_in
from tests.browser.seed import seed_realistic_desk
from tests.conftest import PASSWORD, World
from warroom.incidents.models import Incident

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _no_csp_errors(console: Console) -> None:
    assert not [e for e in console.errors if "Content Security Policy" in e], console.errors


def test_incident_lifecycle(page: Page, live_server: LiveServer, world: World, console: Console) -> None:
    base = live_server.url
    sign_in(page, base, "alice@example.com", PASSWORD)
    expect(page.get_by_role("heading", name="Incidents")).to_be_visible()

    # Declare, watching the htmx priority preview follow impact and urgency.
    page.get_by_role("link", name="+ Declare incident").click()
    page.get_by_label("Title").fill("Checkout returns 502 for a third of requests")
    page.get_by_label("Description").fill("Started right after the **4.2.1** deploy.")
    page.get_by_label("Impact").select_option("1")
    expect(page.locator("#priority-preview")).to_contain_text("P2")
    page.get_by_label("Urgency").select_option("1")
    expect(page.locator("#priority-preview")).to_contain_text("P1")
    page.get_by_label("Checkout · Team A").check()
    page.get_by_role("button", name="Declare incident").click()

    timeline = page.locator("#timeline")
    expect(page.get_by_role("heading", name="Checkout returns 502 for a third of requests")).to_be_visible()
    expect(page.locator("#incident-state")).to_have_text("New")
    expect(timeline).to_contain_text("Declared: Checkout returns 502 for a third of requests")
    expect(page.locator(".prose strong")).to_have_text("4.2.1")
    ref = Incident.objects.get().ref

    # Assign it to bob.
    page.locator("summary", has_text="Edit fields").click()
    page.get_by_label("Assignee").select_option(label="Bob Responder")
    page.get_by_role("button", name="Save changes").click()
    expect(timeline).to_contain_text("Assignee: — → Bob Responder")
    expect(page.locator("#field-assignee")).to_have_text("Bob Responder")

    # Put it on hold, awaiting the vendor.
    page.locator("summary", has_text="Put on hold…").click()
    page.get_by_label("Hold reason").select_option(label="Awaiting vendor")
    page.get_by_role("button", name="Put on hold", exact=True).click()
    expect(timeline).to_contain_text("State: New → On Hold (Awaiting vendor)")
    expect(page.locator("#incident-state")).to_have_text("On Hold")

    # Resume.
    page.get_by_role("button", name="Resume", exact=True).click()
    expect(timeline).to_contain_text("State: On Hold → In Progress")
    expect(page.locator("#incident-state")).to_have_text("In Progress")

    # Resolve with a code and notes.
    page.locator("summary", has_text="Resolve…").click()
    page.get_by_label("Resolution code").select_option(label="Solved (workaround)")
    page.get_by_label("Resolution notes").fill("Rolled back to 4.2.0; the fix ships in 4.2.2.")
    page.get_by_role("button", name="Resolve", exact=True).click()
    expect(timeline).to_contain_text(
        "State: In Progress → Resolved (Solved (workaround)): Rolled back to 4.2.0; the fix ships in 4.2.2."
    )
    expect(page.locator("#incident-state")).to_have_text("Resolved")

    # Close.
    page.locator("summary", has_text="Close…").click()
    page.get_by_role("button", name="Close incident").click()
    expect(timeline).to_contain_text("State: Resolved → Closed")
    expect(page.locator("#incident-state")).to_have_text("Closed")
    expect(page.get_by_role("button", name="Reopen")).to_have_count(0)

    # Every step came from the web console, and the page is still the incident's own URL.
    assert page.url.endswith(f"/incidents/{ref}/")
    expect(timeline.locator(".source").first).to_have_text("via web")
    _no_csp_errors(console)


def test_bad_input_is_shown_in_place(
    page: Page, live_server: LiveServer, world: World, console: Console
) -> None:
    base = live_server.url
    sign_in(page, base, "alice@example.com", PASSWORD)
    page.goto(f"{base}/incidents/declare/")
    page.get_by_label("Title").fill("Disk full on db-3")
    page.get_by_role("button", name="Declare incident").click()
    page.locator("summary", has_text="Resolve…").click()
    page.get_by_label("Resolution code").select_option(label="Duplicate")
    page.get_by_label("Resolution notes").fill("   ")
    page.get_by_label("Resolution notes").evaluate("el => el.removeAttribute('required')")
    page.get_by_role("button", name="Resolve", exact=True).click()
    expect(page.locator("#actions .alert-error")).to_contain_text("resolution notes must not be empty")
    expect(page.locator("#incident-state")).to_have_text("New")
    _no_csp_errors(console)


def test_incident_list_on_a_phone(
    phone: Page, live_server: LiveServer, world: World, console: Console
) -> None:
    seed_realistic_desk(world)
    base = live_server.url
    sign_in(phone, base, "alice@example.com", PASSWORD)
    rows = phone.locator("#results tbody tr")
    expect(rows.first).to_be_visible()
    # Nothing is wider than the screen: no sideways scrolling.
    overflow = phone.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    first_title = rows.first.locator(".title-link")
    box = first_title.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    expect(rows.first.locator(".badge.prio")).to_be_visible()
    expect(rows.first.locator(".badge.state")).to_be_visible()
    # The live search filters the list and the URL follows.
    phone.get_by_placeholder("Search title, text or INC number").fill("replication")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("replication")
    phone.wait_for_url("**q=replication**")
    # (No request of the list still in flight: on SQLite the live server's threads share one in-memory database
    # connection, and two requests at once can break it: "bad parameter or other API misuse".)
    phone.wait_for_load_state("networkidle")
    # Navigation stays reachable, and a tap opens the incident.
    expect(phone.get_by_role("link", name="Services")).to_be_visible()
    rows.first.locator(".title-link").tap()
    expect(phone.locator("#timeline")).to_be_visible()
    overflow = phone.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    _no_csp_errors(console)


def test_screenshots(
    page: Page, live_server: LiveServer, world: World, console: Console, tmp_path: Path
) -> None:
    """The README's screenshots, from a desk with a few realistic incidents. They land in docs/screenshots only
    with WARROOM_SCREENSHOTS=1 (so a plain test run does not rewrite committed files)."""
    target = SCREENSHOTS if os.environ.get("WARROOM_SCREENSHOTS") == "1" else tmp_path
    featured = seed_realistic_desk(world)
    base = live_server.url
    sign_in(page, base, "alice@example.com", PASSWORD)
    expect(page.locator("#results tbody tr").first).to_be_visible()
    target.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target / "incident-list.png"))
    page.goto(f"{base}/incidents/{featured.ref}/")
    expect(page.locator("#timeline")).to_contain_text("Declared")
    page.screenshot(path=str(target / "incident-detail.png"), full_page=True)
    assert (target / "incident-detail.png").stat().st_size > 10_000
    _no_csp_errors(console)
