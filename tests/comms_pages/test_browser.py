"""The public status page in Chromium (Debian's, driven by Playwright): a calm page, a major outage and a
maintenance, each saved as a screenshot under docs/screenshots/; read on a phone; and with JavaScript off. No
console errors (the strict CSP holds: the brand colour comes from the page's own stylesheet)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.browser.conftest import (  # noqa: F401 (fixtures)
    CHROMIUM_ARGS,
    WAIT_MS,
    Console,
    browser,
    console,
    page,
    phone,
    playwright,
)
from tests.comms_pages.conftest import declare, post, resolve, status_cycle
from tests.conftest import World
from warroom.catalog import services as catalog
from warroom.comms import page_services as pages
from warroom.comms.models import Component, ComponentStatusPeriod, StatusPage, StatusUpdate
from warroom.lib import clock

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _history(component: Component, now: datetime, outages: list[tuple[int, float, str]]) -> None:
    """Replace the component's history: operational for 120 days but for ``(days ago, hours, status)``."""
    ComponentStatusPeriod.objects.filter(component=component).delete()
    cursor = now - timedelta(days=120)
    rows = []
    for days_ago, hours, status in sorted(outages, reverse=True):
        begin = (now - timedelta(days=days_ago)).replace(hour=13, minute=10)
        rows.append(
            ComponentStatusPeriod(
                component=component, status="operational", started_at=cursor, ended_at=begin
            )
        )
        cursor = begin + timedelta(hours=hours)
        rows.append(
            ComponentStatusPeriod(component=component, status=status, started_at=begin, ended_at=cursor)
        )
    rows.append(ComponentStatusPeriod(component=component, status=component.status, started_at=cursor))
    ComponentStatusPeriod.objects.bulk_create(rows)


def seed(world: World) -> dict[str, Component]:
    """A believable page: two groups, six components, three months of history, one past incident."""
    now = clock.now()
    api_service = catalog.create_service(
        team=world.team_a, name="Public API", tier=1, actor=None, source="system"
    )
    db_service = catalog.create_service(
        team=world.team_a, name="Postgres", tier=1, actor=None, source="system"
    )
    with clock.frozen(now - timedelta(days=120)):
        page = pages.create_page(
            team=world.team_a,
            name="Acme Cloud",
            slug="acme",
            actor=world.alice,
            source="test",
            description="Live status of Acme Cloud's services. Subscribe to hear about incidents and maintenance.",
            brand_color="#4338ca",
            footer_links=[
                {"label": "Support", "url": "https://acme.example.com/support"},
                {"label": "Privacy", "url": "https://acme.example.com/privacy"},
            ],
        ).page
        apps = pages.create_group(page=page, name="Applications", actor=world.alice, source="test")
        infra = pages.create_group(page=page, name="Infrastructure", actor=world.alice, source="test")

        def add(name: str, group: object, services: list[object], description: str = "") -> Component:
            return pages.create_component(
                page=page,
                name=name,
                group=group,
                services=services,  # type: ignore[arg-type]
                description=description,
                actor=world.alice,
                source="test",
            )

        made = {
            "website": add("Website", apps, []),
            "checkout": add("Checkout", apps, [world.service_a], "Cart, payment and order confirmation"),
            "api": add("Public API", apps, [api_service], "REST API and webhooks"),
            "cdn": add("CDN", infra, []),
            "database": add("Database", infra, [db_service]),
            "email": add("Email delivery", infra, []),
        }
    _history(made["checkout"], now, [(12, 1.5, "major_outage"), (40, 3, "degraded_performance")])
    _history(made["api"], now, [(12, 0.75, "partial_outage"), (63, 5, "degraded_performance")])
    _history(made["database"], now, [(26, 2, "under_maintenance")])
    _history(made["email"], now, [(5, 6, "degraded_performance"), (77, 1, "major_outage")])
    with clock.frozen(now - timedelta(days=2, hours=3)):
        past = declare(world, title="Delayed order confirmation emails", impact=2, urgency=2)
        post(
            world,
            past,
            "Order confirmation emails are delayed by up to 20 minutes.",
            components=[made["email"]],
        )
    with clock.frozen(now - timedelta(days=2, hours=1)):
        post(
            world,
            past,
            "The mail queue has drained; all emails are delivered.",
            status="resolved",
            components=[made["email"]],
        )
        resolve(world, past)
    return made


def _shoot(page: Page, name: str) -> None:  # noqa: F811
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def _no_errors(console: Console) -> None:  # noqa: F811
    assert not console.errors, console.errors


def test_calm_outage_and_maintenance_in_chromium(
    page: Page,  # noqa: F811
    phone: Page,  # noqa: F811
    browser: Browser,  # noqa: F811
    live_server: LiveServer,
    world: World,
    console: Console,  # noqa: F811
) -> None:
    made = seed(world)
    status_cycle()
    base = f"{live_server.url}/status/acme/"

    # A calm page.
    page.goto(base)
    expect(page.get_by_role("heading", level=1)).to_have_text("✓ All systems operational")
    expect(page.get_by_role("main")).to_be_visible()
    expect(page.get_by_role("contentinfo")).to_contain_text("Support")
    expect(page.locator(".sp-component")).to_have_count(6)
    uptime = page.locator(f"#component-{made['checkout'].pk} .sp-uptime")
    expect(uptime).to_have_text(re.compile(r"^99\.9\d% uptime$"))  # 1.5 h of major outage in 90 days
    header_bg = page.locator(".sp-header").evaluate("e => getComputedStyle(e).backgroundColor")
    assert header_bg == "rgb(67, 56, 202)"  # the brand colour, through brand.css
    expect(page.get_by_text("Delayed order confirmation emails")).to_be_visible()
    _shoot(page, "status-calm.png")

    # A major outage.
    with clock.frozen(clock.now() - timedelta(minutes=40)):
        incident = declare(world, title="Checkout payments failing")
        post(
            world,
            incident,
            "Card payments fail for most customers. We are investigating.",
            components=[made["checkout"]],
        )
    with clock.frozen(clock.now() - timedelta(minutes=15)):
        post(
            world,
            incident,
            "A faulty release of the payment gateway is the cause; rolling it back now. The Public "
            "API answers slowly meanwhile.",
            status="identified",
            components=[made["checkout"], made["api"]],
        )
        post(world, incident, "Internal: rollback ticket CHG-2231, approver Dana", audience="internal")
    pages.set_component_status(
        component=made["api"], status="partial_outage", actor=world.alice, source="test"
    )
    status_cycle()
    page.goto(base)
    expect(page.get_by_role("heading", level=1)).to_have_text("✕ Major outage")
    expect(page.get_by_text("Checkout payments failing")).to_be_visible()
    expect(page.get_by_text("rolling it back now", exact=False)).to_be_visible()
    assert "CHG-2231" not in page.content()
    _shoot(page, "status-outage.png")

    # Phone: readable, nothing wider than the screen, the last 30 days of bars.
    phone.goto(base)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    expect(phone.locator(f"#component-{made['checkout'].pk} .sp-bar:visible")).to_have_count(30)
    _shoot(phone, "status-phone.png")

    # A maintenance: resolved outage, one maintenance in progress and one scheduled.
    resolve(world, incident)
    pages.update_component(component=made["api"], status_mode="derived", actor=world.alice, source="test")
    now = clock.now()
    pages.create_maintenance(
        page=StatusPage.objects.get(),
        title="Database upgrade to PostgreSQL 17",
        message="Writes pause for up to five minutes during the switch-over.",
        scheduled_start=now - timedelta(minutes=20),
        scheduled_end=now + timedelta(hours=1),
        components=[made["database"]],
        actor=world.alice,
        source="test",
    )
    nxt = datetime.combine((now + timedelta(days=3)).date(), datetime.min.time(), tzinfo=UTC) + timedelta(
        hours=2
    )
    pages.create_maintenance(
        page=StatusPage.objects.get(),
        title="CDN certificate rotation",
        scheduled_start=nxt,
        scheduled_end=nxt + timedelta(minutes=30),
        components=[made["cdn"]],
        actor=world.alice,
        source="test",
    )
    status_cycle()
    page.goto(base)
    expect(page.get_by_role("heading", level=1)).to_have_text("⚙ Maintenance in progress")
    expect(page.locator(f"#component-{made['database'].pk}")).to_contain_text("Under maintenance")
    expect(page.get_by_text("CDN certificate rotation")).to_be_visible()
    expect(page.locator(".sp-past").first).to_contain_text("Resolved")
    _shoot(page, "status-maintenance.png")
    _no_errors(console)


@pytest.mark.usefixtures("smtp")  # a server that sends email: the confirmation goes out
def test_the_page_works_with_javascript_off(browser: Browser, live_server: LiveServer, world: World) -> None:  # noqa: F811
    seed(world)
    context = browser.new_context(java_script_enabled=False)
    context.set_default_timeout(WAIT_MS)
    try:
        tab = context.new_page()
        tab.goto(f"{live_server.url}/status/acme/")
        expect(tab.get_by_role("heading", level=1)).to_contain_text("All systems operational")
        tab.get_by_role("link", name="Subscribe to updates").click()
        tab.get_by_label("Email address").fill("pat@example.com")
        tab.get_by_role("button", name="Subscribe").click()
        expect(tab.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    finally:
        context.close()


def test_times_show_in_the_visitors_time_zone(
    browser: Browser,  # noqa: F811
    live_server: LiveServer,
    world: World,
) -> None:
    """The page is rendered and cached in UTC; a visitor in Chicago reads the past incident's update times in
    Chicago time, and the footer says so. With JavaScript off the same page reads in UTC."""
    seed(world)
    update = StatusUpdate.objects.filter(message__startswith="The mail queue has drained").get()
    chicago = update.created_at.astimezone(ZoneInfo("America/Chicago"))
    local = f"{chicago:%H:%M} C"  # CST or CDT, as the date falls
    utc = f"{update.created_at:%H:%M}"
    for zone, javascript in [("America/Chicago", True), ("America/Chicago", False), ("UTC", True)]:
        context = browser.new_context(timezone_id=zone, locale="en-US", java_script_enabled=javascript)
        context.set_default_timeout(WAIT_MS)
        try:
            tab = context.new_page()
            tab.goto(f"{live_server.url}/status/acme/incidents/{update.incident.ref}/")
            footer = tab.locator("#sp-zone-note")
            updates = tab.locator("main")
            if zone == "America/Chicago" and javascript:
                expect(footer).to_have_text(re.compile(r"Times are in your time zone \(America/Chicago\)"))
                expect(updates).to_contain_text(local)
                expect(updates).not_to_contain_text(" UTC")
            else:
                expect(footer).to_have_text("Times are in UTC.")
                expect(updates).to_contain_text(f"{utc} UTC")
        finally:
            context.close()
