"""A service's Integrations page in Chromium at a 1280 px laptop window, with one integration of every kind and
endpoints as long as a real base URL makes them: the table fits its card (the Created column used to scroll out
of sight) and every name keeps its words whole (the crushed name column broke "Prometheus" into "Prometheu s").
A heartbeat's page keeps its "Setup snippets" button clear of the monitor's state below it."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.alerts.conftest import make_integration
from tests.browser.conftest import Console, sign_in
from tests.conftest import PASSWORD, World

LAPTOP = {"width": 1280, "height": 800}
KINDS = {
    "pagerduty": "Datadog prod",
    "alertmanager": "Prometheus prod",
    "grafana": "Grafana alerting",
    "opsgenie": "Opsgenie bridge",
    "webhook": "Queue monitor",
    "email": "Nagios mail",
    "heartbeat": "Nightly backup",
}

# How many lines each word of an element's text is laid out on.
WORD_LINES = """e => {
  const text = e.firstChild, counts = [];
  let at = 0;
  for (const word of text.data.split(" ")) {
    const range = document.createRange();
    range.setStart(text, at);
    range.setEnd(text, at + word.length);
    counts.push(range.getClientRects().length);
    at += word.length + 1;
  }
  return counts;
}"""

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_integrations_table_fits_a_laptop_and_names_keep_their_words(
    page: Page, live_server: LiveServer, world: World, console: Console, settings: Any
) -> None:
    # the endpoints shown are as long as in production
    settings.WARROOM_BASE_URL = "https://warroom.example.com"
    for kind, name in KINDS.items():
        options = {"heartbeat_interval_seconds": 86400} if kind == "heartbeat" else {}
        make_integration(world, kind, name=name, **options)
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server.url, "alice@example.com", PASSWORD)
    page.goto(f"{live_server.url}/services/{world.service_a.slug}/integrations/")
    expect(page.locator("table.integrations tbody tr")).to_have_count(len(KINDS))

    scroller = page.locator(".table-scroll").first
    widths = scroller.evaluate("e => [e.scrollWidth, e.clientWidth]")
    assert widths[0] <= widths[1], widths  # no column hidden behind a horizontal scroll
    expect(page.get_by_role("columnheader", name="Created")).to_be_in_viewport()
    for name in KINDS.values():
        link = page.get_by_role("link", name=name, exact=True)
        pieces = link.evaluate(WORD_LINES)
        assert pieces == [1] * len(name.split()), (name, pieces)  # each word on one line: none broken inside
    assert not console.errors, console.errors


def test_heartbeat_setup_snippets_button_does_not_touch_the_monitor_state(
    page: Page, live_server: LiveServer, world: World, console: Console
) -> None:
    hooked = make_integration(world, "heartbeat", name="Nightly backup", heartbeat_interval_seconds=86400)
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server.url, "alice@example.com", PASSWORD)
    page.goto(f"{live_server.url}/services/{world.service_a.slug}/integrations/{hooked.integration.pk}/")
    button = page.locator("#endpoint summary", has_text="Setup snippets").bounding_box()
    state = page.locator("#heartbeat").bounding_box()
    assert button is not None and state is not None
    assert button["y"] + button["height"] + 8 <= state["y"], (button, state)  # a gap, not touching
    assert not console.errors, console.errors
