"""The reports page in Chromium: the charts are drawn (SVG images that load), the filters work, the page fits a
phone, and nothing trips the Content Security Policy. The desktop screenshot is kept in
docs/screenshots/reports.png."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.analytics.conftest import FIRST, LAST, NOW, build, summarize
from tests.browser.conftest import Console, sign_in
from tests.conftest import PASSWORD, make_world
from warroom.lib import clock

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ROOT = Path(__file__).resolve().parents[2]
QUERY = f"start={FIRST}&end={LAST}"


def _charts_loaded(page: Page) -> int:
    """How many chart images decoded to a picture with a width (a broken SVG has none)."""
    return int(
        page.evaluate(
            "Array.from(document.querySelectorAll('.report-chart img'))"
            ".filter(i => i.complete && i.naturalWidth > 0).length"
        )
    )


def test_the_reports_page_in_a_browser(page: Page, live_server: LiveServer, console: Console) -> None:
    build(make_world())
    summarize()
    with clock.frozen(NOW):
        sign_in(page, live_server.url, "alice@example.com", PASSWORD)
        page.get_by_role("link", name="Reports", exact=True).click()
        expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
        page.get_by_label("From").fill(FIRST.isoformat())
        page.get_by_label("To (included)").fill(LAST.isoformat())
        page.get_by_role("button", name="Show").click()
        expect(page.locator(".report-figure").first).to_contain_text("Incidents")
        expect(page.locator(".report-figure").nth(1)).to_contain_text("23m")  # MTTA 1425 s
        chart = page.locator("#chart-trend img")
        expect(chart).to_be_visible()
        assert "MTTA, MTTR and time to detect" in (chart.get_attribute("alt") or "")
        assert _charts_loaded(page) == 1
        page.screenshot(path=str(ROOT / "docs" / "screenshots" / "reports.png"), full_page=True)

        page.get_by_role("link", name="Volume").click()
        expect(page.locator("#table-service")).to_contain_text("Checkout")
        assert _charts_loaded(page) == 4
        page.get_by_label("Service", exact=True).select_option(label="Search")
        page.get_by_role("button", name="Show").click()
        expect(page.locator(".report-title")).to_contain_text("service Search")
        expect(page.locator(".report-figure").first).to_contain_text("2")  # I3 and I4

        page.get_by_role("link", name="Alert noise").click()
        expect(page.locator("#table-integrations")).to_contain_text("Grafana")
        page.get_by_role("link", name="On-call load").click()
        page.get_by_label("Service", exact=True).select_option(label="All services")
        page.get_by_role("button", name="Show").click()
        expect(page.locator("#table-people")).to_contain_text("Europe/Paris")
        assert _charts_loaded(page) == 1
        with page.expect_download() as download:
            page.locator("#table-people").get_by_role("link", name="CSV").click()
        assert download.value.suggested_filename == "warroom-oncall-people-20260302-20260329.csv"
    assert not [e for e in console.errors if "Content Security Policy" in e], console.errors
    assert not console.errors, console.errors


def test_the_reports_page_on_a_phone(phone: Page, live_server: LiveServer, console: Console) -> None:
    build(make_world())
    summarize()
    with clock.frozen(NOW):
        sign_in(phone, live_server.url, "alice@example.com", PASSWORD)
        phone.goto(f"{live_server.url}/reports/volume/?{QUERY}")
        expect(phone.locator("#chart-by-priority img")).to_be_visible()
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390 + 1, f"the page scrolls sideways on a phone ({width}px)"
        box = phone.locator("#chart-by-priority img").bounding_box()
        assert box is not None and box["width"] <= 390
        assert _charts_loaded(phone) == 4
        phone.screenshot(path=str(ROOT / "test-artifacts" / "reports-phone.png"), full_page=True)
    assert not console.errors, console.errors
