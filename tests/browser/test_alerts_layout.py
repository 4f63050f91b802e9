"""The alert-intake console's layout in Chromium at a 1366 px laptop viewport: an alert with a 64-hex dedup key
and a 1024-character summary does not make the page wider than the window, its heading is clamped and its
buttons sit side by side; the New integration form shows only the fields of the chosen kind and, after a refused
submit, brings a summary of the errors into view. The screenshots land in docs/screenshots only with
WARROOM_SCREENSHOTS=1."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.alerts.conftest import cycle, make_integration, post
from tests.browser.conftest import Console, sign_in
from tests.conftest import PASSWORD, World
from warroom.alerts.models import Alert

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
LAPTOP = {"width": 1366, "height": 768}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _target(tmp_path: Path) -> Path:
    target = SCREENSHOTS if os.environ.get("WARROOM_SCREENSHOTS") == "1" else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    return target


def _box(page: Page, selector: str) -> dict[str, float]:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return box


def test_alert_with_long_values_fits_the_window(
    page: Page, live_server: LiveServer, world: World, console: Console, tmp_path: Path
) -> None:
    hooked = make_integration(world, "webhook")
    dedup_key = "sha256:" + "1fe79a39b9044e40c30fd7e4406f7e5b9e1fac03d0054c80af37" + "0123456789ab"
    summary = ("Long word " + "word " * 250)[:1024]
    body = {"summary": summary, "severity": "warning", "dedup_key": dedup_key, "source": "x@example.com"}
    assert post("/integrations/webhook", body, key=hooked.key).status_code == 202
    cycle()
    alert = Alert.objects.get()
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server.url, "bob@example.com", PASSWORD)
    page.goto(f"{live_server.url}/alerts/{alert.pk}/")
    expect(page.locator("#dedup-key")).to_have_text(dedup_key)

    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths  # no horizontal scrolling
    key, card = _box(page, "#dedup-key"), _box(page, "#alert-fields")
    assert key["x"] + key["width"] <= card["x"] + card["width"], (key, card)  # the key wraps inside its card
    heading = page.locator("#alert-heading")
    assert len(heading.inner_text()) <= 200
    assert heading.get_attribute("title") == alert.summary
    lines = _box(page, "#alert-heading")["height"] / float(
        heading.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)")
    )
    assert lines <= 5, lines  # not 16 lines of heading
    acknowledge = _box(page, "#alert-actions button.primary")
    resolve = _box(page, "#alert-actions button.success")
    assert acknowledge["y"] == resolve["y"] and acknowledge["x"] < resolve["x"]  # side by side
    expect(page.locator("#full-summary")).to_have_text(alert.summary)
    page.screenshot(path=str(_target(tmp_path) / "alert-long-values.png"), full_page=True)

    # The list row of the same alert does not widen the page either.
    page.goto(f"{live_server.url}/alerts/")
    expect(page.locator("#alert-results tbody tr")).to_have_count(1)
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths
    assert not console.errors, console.errors


def test_new_integration_form_fields_follow_the_kind_and_errors_come_into_view(
    page: Page, live_server: LiveServer, world: World, console: Console, settings: Any, tmp_path: Path
) -> None:
    settings.WARROOM_BASE_URL = live_server.url
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server.url, "alice@example.com", PASSWORD)
    page.goto(f"{live_server.url}/services/{world.service_a.slug}/integrations/")
    page.locator("summary", has_text="+ New integration").click()
    form = page.locator("#new-integration form")
    interval = form.get_by_label("Heartbeat: expected every (seconds)")
    secret = form.get_by_label("Signing secret (HMAC-SHA256)")
    rate = form.get_by_label("Rate limit (requests per minute per key)")
    mapping = form.get_by_label("Webhook: field mapping (JSON)")
    window = form.get_by_label("Window (minutes)")

    # Alertmanager (the default): a rate limit, no signature, mapping, heartbeat or window.
    expect(rate).to_be_visible()
    for hidden in (interval, secret, mapping, window):
        expect(hidden).to_be_hidden()
    form.get_by_label("Kind").select_option("webhook")
    for shown in (secret, mapping, rate):
        expect(shown).to_be_visible()
    form.get_by_label("Group alerts into incidents").select_option("window")
    expect(window).to_be_visible()
    form.get_by_label("Group alerts into incidents").select_option("alert")
    expect(window).to_be_hidden()

    # A heartbeat with a 10 s interval: refused, and the summary of errors is in view at the top of the form.
    form.get_by_label("Kind").select_option("heartbeat")
    expect(interval).to_be_visible()
    for hidden in (secret, rate, mapping):
        expect(hidden).to_be_hidden()
    form.get_by_label("Name").fill("Nightly backup")
    interval.fill("10")
    form.get_by_role("button", name="Create integration").click()
    summary = page.locator("#new-integration [data-error-summary]")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Heartbeat: expected every (seconds)")
    expect(summary).to_be_in_viewport()
    expect(
        page.locator("#new-integration form").get_by_label("Rate limit (requests per minute per key)")
    ).to_be_hidden()
    page.screenshot(path=str(_target(tmp_path) / "integration-form-errors.png"))

    # Fixed: created, and the ping URL on the page it lands on carries the real key.
    page.locator("#new-integration form").get_by_label("Heartbeat: expected every (seconds)").fill("300")
    page.locator("#new-integration form").get_by_role("button", name="Create integration").click()
    expect(page.get_by_role("heading", name="Your new key")).to_be_visible()
    secret_value = page.locator("#key-secret").input_value()
    expect(page.locator("#endpoint-url")).to_have_value(
        f"{live_server.url}/integrations/heartbeat/{secret_value}"
    )
    page.reload()
    expect(page.get_by_role("heading", name="Your new key")).to_have_count(0)
    expect(page.locator("#endpoint-template")).to_contain_text("/integrations/heartbeat/<key>")
    assert not [e for e in console.errors if "400" not in e], console.errors
