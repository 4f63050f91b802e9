"""The status page console on a phone (375 px wide, Chromium): a page with a maintenance whose title is long and
which covers several components fits the window — the maintenance table reads as one card per maintenance
instead of pushing the page sideways — and its actions stay usable. The screenshot lands in docs/screenshots
only with WARROOM_SCREENSHOTS=1."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.browser.conftest import Console, sign_in
from tests.comms_pages.conftest import make_site
from tests.conftest import PASSWORD, World
from warroom.comms import page_services as pages
from warroom.lib import clock

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
NARROW_PHONE = {"width": 375, "height": 812}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _target(tmp_path: Path) -> Path:
    target = SCREENSHOTS if os.environ.get("WARROOM_SCREENSHOTS") == "1" else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    return target


def test_maintenance_table_fits_a_phone(
    phone: Page, live_server: LiveServer, world: World, console: Console, tmp_path: Path
) -> None:
    site = make_site(world)
    start = clock.now() + timedelta(days=3)
    title = "Database cluster upgrade to PostgreSQL 17 with a failover of the primary in every region"
    pages.create_maintenance(
        page=site.page,
        title=title,
        message="Writes pause for up to two minutes.",
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=2),
        components=[site.checkout, site.api, site.cdn],
        actor=world.alice,
        source="test",
    )
    phone.set_viewport_size(NARROW_PHONE)
    sign_in(phone, live_server.url, "alice@example.com", PASSWORD)
    phone.goto(f"{live_server.url}/status-pages/{site.page.slug}/")
    row = phone.locator("#maintenance tbody tr").first
    expect(row).to_contain_text(title)

    widths = phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths  # no sideways scrolling of the page
    card = phone.locator("#maintenance").bounding_box()
    assert card is not None
    for cell in row.locator("td").all():
        box = cell.bounding_box()
        if box is None:  # an empty cell
            continue
        assert box["x"] >= card["x"] and box["x"] + box["width"] <= card["x"] + card["width"] + 0.5, (
            box,
            card,
        )
    # the whole row is in view at once: nothing hides in a scrolled-away part of the table
    scroller = phone.locator("#maintenance .table-scroll")
    assert scroller.evaluate("e => e.scrollWidth <= e.clientWidth"), "the maintenance table still scrolls"
    edit = row.get_by_role("link", name="Edit")
    edit.scroll_into_view_if_needed()
    expect(edit).to_be_in_viewport()
    expect(row.get_by_role("button", name="Cancel")).to_be_visible()
    for name in ("Checkout", "API", "CDN"):
        expect(row.locator(".chip", has_text=name)).to_be_visible()
    phone.screenshot(path=str(_target(tmp_path) / "status-page-console-phone.png"), full_page=True)
    assert not console.errors, console.errors
