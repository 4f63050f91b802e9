"""Wide tables on a phone (390 px): each scrolls sideways inside its own card, so its last column can be reached;
the page itself never scrolls sideways, and nothing is cut off by the card."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.browser.conftest import Console, sign_in
from tests.conftest import PASSWORD, World
from warroom.accounts import services as accounts
from warroom.catalog import services as catalog
from warroom.oncall import services as oncall

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# For the table (by a CSS selector): its nearest scroller and how far that scrolls, and its last header.
TABLE = """(selector) => {
  const table = document.querySelector(selector);
  let box = table.parentElement;
  while (box && box !== document.body && getComputedStyle(box).overflowX === 'visible') box = box.parentElement;
  const headers = table.querySelectorAll('thead th');
  return {
    overflowX: getComputedStyle(box).overflowX, scroller: box.className,
    scrollWidth: box.scrollWidth, clientWidth: box.clientWidth,
    last: headers.length ? headers[headers.length - 1].textContent.trim() : '',
  };
}"""
PAGE_WIDTH = "document.scrollingElement.scrollWidth"


def _seed(world: World) -> None:
    people = [
        ("maximiliane.oberhuber-lindqvist@example.com", "Maximiliane Oberhuber-Lindqvist"),
        ("bartholomew.featherstonehaugh@example.com", "Bartholomew Featherstonehaugh"),
    ]
    for email, name in people:
        user = accounts.create_user(email=email, password=PASSWORD, full_name=name, actor=None, source="seed")
        accounts.set_membership(team=world.team_a, user=user, role="responder", actor=None, source="seed")
    catalog.create_service(
        team=world.team_a,
        name="Payment authorisation gateway",
        tier=1,
        description="Authorises card payments with the acquirers before checkout completes.",
        dependencies=[world.service_a],
        actor=None,
        source="seed",
    )
    schedule = oncall.create_schedule(
        team=world.team_a,
        name="Checkout primary on-call rotation",
        time_zone="America/Argentina/Buenos_Aires",
        actor=None,
        source="seed",
    )
    oncall.create_layer(
        schedule=schedule,
        name="Weekly",
        rotation_kind="weekly",
        start=datetime(2026, 3, 2, 9, 0),
        handoff_time=time(9, 0),
        participants=[world.alice, world.bob],
        actor=None,
        source="seed",
    )
    oncall.create_policy(
        team=world.team_a,
        name="Checkout escalation for high urgency",
        description="Pages the primary, then the secondary, then the engineering manager.",
        actor=None,
        source="seed",
    )


@pytest.mark.parametrize(
    ("path", "table", "last", "who"),
    [
        ("/oncall/", "table.schedules", "Until", "alice"),
        ("/services/", "table.services", "Open incidents", "alice"),
        ("/oncall/policies/", "table.policies", "Services", "alice"),
        ("/teams/team-a/", "table.members", "Actions", "alice"),
        # an organisation admin edits the matrix: a choice in every cell
        ("/priority-matrix/", "table.matrix", "3 - Low", "olivia"),
    ],
)
def test_a_wide_table_scrolls_inside_its_card_on_a_phone(
    phone: Page,
    live_server: LiveServer,
    world: World,
    console: Console,
    path: str,
    table: str,
    last: str,
    who: str,
) -> None:
    _seed(world)
    base = live_server.url
    sign_in(phone, base, f"{who}@example.com", PASSWORD)
    phone.goto(f"{base}{path}")
    expect(phone.locator(table)).to_be_visible()

    assert phone.evaluate(PAGE_WIDTH) <= 390, "the page itself does not scroll sideways"
    box: dict[str, Any] = phone.evaluate(TABLE, table)
    assert box["overflowX"] == "auto" and "table-scroll" in box["scroller"], box
    assert box["scrollWidth"] > box["clientWidth"], box  # wider than the phone: it scrolls in its card
    assert box["last"].startswith(last)

    header = phone.locator(f"{table} thead th").last
    header.scroll_into_view_if_needed()
    expect(header).to_be_in_viewport()
    assert phone.evaluate(PAGE_WIDTH) <= 390
    assert not [e for e in console.errors if "Content Security Policy" in e]
