"""Paging in Chromium: alice builds an escalation policy whose step pages whoever is on call on a schedule,
assigns it to Checkout from the service page, an incident opens on Checkout, the engine pages Bob (on call)
through his verified webhook (a real receiver on 127.0.0.1), the incident's Escalation card shows the page and
its delivery, and Bob acknowledges from the incident page: the card shows paging stopped. The screenshot lands
in docs/screenshots/paging.png only with WARROOM_SCREENSHOTS=1."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.alerts.conftest import cycle
from tests.browser.conftest import Console, sign_in
from tests.conftest import PASSWORD, World
from tests.notify.conftest import verified
from tests.notify.receivers import Receiver, running
from warroom.incidents import services as incidents
from warroom.incidents.models import Incident
from warroom.lib import clock
from warroom.notify.models import Category, Message
from warroom.oncall import services as oncall
from warroom.oncall.models import EscalationPolicy, Schedule
from warroom.paging.models import EscalationStatus, IncidentEscalation

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def receiver(settings: Any) -> Iterator[Receiver]:
    settings.WARROOM_HTTP_ALLOW_PRIVATE = ("127.0.0.0/8",)
    with running(Receiver()) as server:
        yield server


def _schedule_with_bob(world: World) -> Schedule:
    """ "Checkout primary": Bob alone, daily from yesterday, so he is on call now."""
    schedule = oncall.create_schedule(
        team=world.team_a, name="Checkout primary", time_zone="Europe/London", actor=None, source="seed"
    )
    start = (clock.now() - timedelta(days=1)).replace(tzinfo=None)
    oncall.create_layer(
        schedule=schedule,
        name="Weekly",
        rotation_kind="daily",
        start=datetime.combine(start.date(), time(9)),
        participants=[world.bob],
        actor=None,
        source="seed",
    )
    return schedule


def test_policy_with_schedule_step_pages_bob_who_acknowledges(
    page: Page,
    live_server: LiveServer,
    world: World,
    console: Console,
    settings: Any,
    receiver: Receiver,
    tmp_path: Path,
) -> None:
    target = SCREENSHOTS if os.environ.get("WARROOM_SCREENSHOTS") == "1" else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    settings.WARROOM_BASE_URL = base
    schedule = _schedule_with_bob(world)
    verified(world.bob, "webhook", receiver.url("/bob"), name="Pager hook")
    Message.objects.filter(category=Category.VERIFICATION).delete()

    # alice creates the policy from the On call page and gives it a schedule step
    sign_in(page, base, "alice@example.com", PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="On call").click()
    page.get_by_role("link", name="Escalation policies").click()
    expect(page.get_by_role("heading", name="Escalation policies", exact=True)).to_be_visible()
    page.get_by_label("Team", exact=True).select_option(str(world.team_a.pk))
    page.get_by_label("Name").fill("Checkout on call")
    page.get_by_label("Repeat").fill("1")
    page.get_by_role("button", name="Create policy").click()
    expect(page.get_by_role("heading", name="Checkout on call")).to_be_visible()
    page.get_by_label("Page").select_option(f"schedule:{schedule.pk}")
    page.get_by_label("Then wait (minutes)").fill("10")
    page.get_by_role("button", name="Add step").click()
    expect(page.locator("#step-1")).to_contain_text("on call on Checkout primary")
    expect(page.locator("#step-1")).to_contain_text("then wait 10 min")
    policy = EscalationPolicy.objects.get(name="Checkout on call")
    page.screenshot(path=str(target / "paging-policy.png"), full_page=True)

    # ... and picks it on Checkout's page
    page.goto(f"{base}/services/{world.service_a.slug}/")
    page.locator("#service-policy-select").select_option(str(policy.pk))
    page.locator("#service-policy").get_by_role("button", name="Save").click()
    expect(page.locator("#service-policy-name")).to_have_text("Checkout on call")

    # an incident opens on Checkout; the engine starts the escalation and pages whoever is on call: Bob
    incident: Incident = incidents.declare_incident(
        actor=None,
        source="system",
        title="Checkout returns 500 for card payments",
        team=world.team_a,
        services=[world.service_a],
        impact=1,
        urgency=1,
        reporter=None,
    )
    cycle()
    cycle()
    assert len(receiver.requests) == 1
    page.goto(f"{base}/incidents/{incident.ref}/")
    card = page.locator("#escalation")
    expect(card.locator("#escalation-status")).to_have_text("Escalating")
    expect(card).to_contain_text("Bob Responder")
    expect(card).to_contain_text("on call on Checkout primary")
    expect(card).to_contain_text("step 1 of 1")
    expect(card.locator(".message-row")).to_contain_text("sent")
    expect(card.locator(".message-row")).to_contain_text("Webhook")
    page.screenshot(path=str(target / "paging.png"), full_page=True)

    # Bob signs in and acknowledges from the incident page: paging stops
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, base, "bob@example.com", PASSWORD)
    page.goto(f"{base}/incidents/{incident.ref}/")
    page.locator("#escalation").get_by_role("button", name="Acknowledge").click()
    expect(page.locator("#escalation-status")).to_have_text("Acknowledged")
    expect(page.locator("#incident-state")).to_have_text("In Progress")
    expect(page.locator("#escalation")).not_to_contain_text("Escalate now")
    assert IncidentEscalation.objects.get(incident=incident).status == EscalationStatus.ACKNOWLEDGED
    page.screenshot(path=str(target / "paging-acknowledged.png"), full_page=True)

    # Bob's own Notifications page, from the user menu: his verified webhook and its high-urgency rule
    page.get_by_role("link", name="Notifications").click()
    expect(page.locator("#contact-methods")).to_contain_text("Pager hook")
    expect(page.locator("#contact-methods")).to_contain_text("Verified")
    expect(page.locator("#ladder-high")).to_contain_text("via Pager hook")
    expect(page.locator("#unreachable-warning")).to_have_count(0)
    page.screenshot(path=str(target / "notifications.png"), full_page=True)
    assert not [e for e in console.errors if "Content Security Policy" in e], console.errors
    assert not console.errors, console.errors
