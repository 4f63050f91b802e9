"""Alert intake in Chromium: create an Alertmanager integration in the console, copy its key from the page,
post an Alertmanager group to the live server with it, run the engine, and find the alerts and their incident
in the console. The screenshots land in docs/screenshots only with WARROOM_SCREENSHOTS=1."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.alerts.conftest import cycle
from tests.browser.conftest import Console, sign_in
from tests.conftest import PASSWORD, World
from warroom.alerts.models import Alert
from warroom.incidents.models import Incident

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _no_csp_errors(console: Console) -> None:
    assert not [e for e in console.errors if "Content Security Policy" in e], console.errors


def _alert(instance: str, fingerprint: str, summary: str) -> dict[str, Any]:
    return {
        "status": "firing",
        "labels": {
            "alertname": "HighErrorRate",
            "instance": instance,
            "job": "checkout",
            "severity": "critical",
            "cluster": "eu-west-1",
        },
        "annotations": {"summary": summary, "description": "More than 5% of requests fail."},
        "startsAt": "2026-03-02T09:00:00.123Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=rate%28http_5xx%5B5m%5D%29",
        "fingerprint": fingerprint,
    }


GROUP = {
    "receiver": "warroom",
    "status": "firing",
    "alerts": [
        _alert("web-1:8080", "a1b2c3d4e5f60718", "High 5xx rate on web-1"),
        _alert("web-2:8080", "0f1e2d3c4b5a6978", "High 5xx rate on web-2"),
    ],
    "groupLabels": {"alertname": "HighErrorRate"},
    "commonLabels": {"alertname": "HighErrorRate", "job": "checkout", "severity": "critical"},
    "commonAnnotations": {"description": "More than 5% of requests fail."},
    "externalURL": "http://alertmanager:9093",
    "version": "4",
    "groupKey": '{}:{alertname="HighErrorRate"}',
    "truncatedAlerts": 0,
}


def test_integration_key_alertmanager_alert_incident(
    page: Page, live_server: LiveServer, world: World, console: Console, settings: Any, tmp_path: Path
) -> None:
    target = SCREENSHOTS if os.environ.get("WARROOM_SCREENSHOTS") == "1" else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    settings.WARROOM_BASE_URL = base
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    sign_in(page, base, "alice@example.com", PASSWORD)

    # From the service page to its integrations; create an Alertmanager integration grouped by group key.
    page.goto(f"{base}/services/{world.service_a.slug}/")
    page.locator("#alerting").get_by_role("link", name="Integrations").click()
    expect(page.get_by_role("heading", name="Integrations")).to_be_visible()
    page.locator("summary", has_text="+ New integration").click()
    page.get_by_label("Kind").select_option("alertmanager")
    page.get_by_label("Name").fill("Prometheus prod")
    page.get_by_label("Group alerts into incidents").select_option("group_key")
    page.get_by_role("button", name="Create integration").click()

    # The key, once, with the Alertmanager receiver around it. Copy it, as a person would.
    expect(page.get_by_role("heading", name="Your new key")).to_be_visible()
    secret = page.locator("#key-secret").input_value()
    assert secret.startswith("wr_ik_")
    page.locator("#new-key").get_by_role("button", name="Copy").first.click()
    expect(page.locator("#new-key").get_by_role("button", name="Copied")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == secret
    receiver = page.locator("#new-key textarea").first
    receiver_text = receiver.input_value()
    assert f'url: "{base}/integrations/alertmanager"' in receiver_text
    assert f'credentials: "{secret}"' in receiver_text and "type: Bearer" in receiver_text
    endpoint = page.locator("#endpoint-url").input_value()
    assert endpoint == f"{base}/integrations/alertmanager"
    page.screenshot(path=str(target / "alerts-integration.png"), full_page=True)

    # Alertmanager posts a firing group with the copied key; the engine turns it into alerts and an incident.
    response = httpx.post(endpoint, json=GROUP, headers={"Authorization": f"Bearer {copied}"}, timeout=10)
    assert response.status_code == 202, response.text
    assert response.json() == {"status": "success", "events": 2}
    cycle()
    assert Alert.objects.count() == 2
    incident = Incident.objects.get()

    # The alerts list, through the navigation.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Alerts").click()
    rows = page.locator("#alert-results tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("High 5xx rate on web-2")
    expect(rows.first).to_contain_text(incident.ref)
    page.screenshot(path=str(target / "alerts.png"), full_page=True)

    # The alert: why it joined the incident, its raw event, and the incident link.
    rows.last.get_by_role("link", name="High 5xx rate on web-1").click()
    expect(page.locator("#group-reason")).to_contain_text("first alert of group key")
    page.locator("#raw-events summary", has_text="Raw payload").first.click()
    expect(page.locator("#raw-events pre").first).to_contain_text("a1b2c3d4e5f60718")
    page.screenshot(path=str(target / "alert-detail.png"), full_page=True)
    page.locator("#grouping").get_by_role("link", name=incident.ref).click()
    expect(page.locator("#incident-alerts")).to_contain_text("High 5xx rate on web-1")
    expect(page.locator("#incident-alerts")).to_contain_text("High 5xx rate on web-2")
    expect(page.locator("#timeline")).to_contain_text("opened this incident")

    # Acknowledge one alert from its page.
    page.locator("#incident-alerts").get_by_role("link", name="High 5xx rate on web-2").click()
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.locator("#alert-status")).to_have_text("Acknowledged")

    # The event log shows both events as processed.
    integration_id = Alert.objects.values_list("integration_id", flat=True).first()
    page.goto(f"{base}/services/{world.service_a.slug}/integrations/{integration_id}/events/")
    expect(page.locator("#events .tl")).to_have_count(2)
    expect(page.locator("#events")).to_contain_text("Processed")
    _no_csp_errors(console)
    assert not console.errors, console.errors
