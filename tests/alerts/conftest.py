"""Integrations of the standard world and helpers that post exactly what the senders post."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client

from tests.conftest import World
from warroom.alerts import services
from warroom.alerts.models import Integration
from warroom.alerts.ratelimit import LIMITER
from warroom.engine import registry
from warroom.engine.loop import CycleReport, run_cycle

#: What the console's New integration form posts for an Alertmanager integration, as a browser sends it.
CONSOLE_FORM = {
    "kind": "alertmanager",
    "name": "Prometheus prod",
    "grouping": "group_key",
    "window_minutes": "10",
    "severity_critical": "11",
    "severity_error": "21",
    "severity_warning": "22",
    "severity_info": "33",
    "auto_resolve_incident": "on",
    "rate_limit_per_minute": "6000",
}


@dataclass
class Hooked:
    integration: Integration
    key: str


def make_integration(world: World, kind: str, **options: Any) -> Hooked:
    service = options.pop("service", world.service_a)
    admin = world.alice if service.team_id == world.team_a.pk else world.charlie
    integration = services.create_integration(
        service=service,
        kind=kind,
        name=options.pop("name", f"{kind} main"),
        actor=admin,
        source="test",
        **options,
    )
    new = services.create_integration_key(integration=integration, actor=admin, source="test")
    return Hooked(integration, new.secret)


@pytest.fixture
def pd(world: World) -> Hooked:
    return make_integration(world, "pagerduty")


@pytest.fixture
def am(world: World) -> Hooked:
    return make_integration(world, "alertmanager", grouping="group_key")


@pytest.fixture
def hook(world: World) -> Hooked:
    return make_integration(world, "webhook")


def post(
    path: str, body: Any, *, key: str | None = None, content_type: str = "application/json"
) -> HttpResponse:
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return Client().post(path, data=data, content_type=content_type, headers=headers)


def cycle() -> CycleReport:
    registry.discover()
    report = run_cycle()
    assert not report.failed, report.failed
    return report


def pd_trigger(key: str, dedup_key: str | None = None, **payload: Any) -> dict[str, Any]:
    """A PagerDuty Events v2 trigger as the PagerDuty docs and client libraries send it."""
    event: dict[str, Any] = {
        "routing_key": key,
        "event_action": "trigger",
        "payload": {
            "summary": "DISK at 99% on machine prod-datapipe03.example.com",
            "timestamp": "2026-03-02T09:00:00.000+0000",
            "severity": "critical",
            "source": "prod-datapipe03.example.com",
            "component": "mysql",
            "group": "prod-datapipe",
            "class": "disk",
            "custom_details": {"free space": "1%", "ping time": "1500ms", "load avg": 0.75},
            **payload,
        },
        "links": [{"href": "https://example.com/", "text": "Link text"}],
        "images": [{"src": "https://www.pagerduty.com/wp-content/uploads/2016/05/pagerduty-logo-green.png"}],
        "client": "Sample Monitoring Service",
        "client_url": "https://monitoring.example.com",
    }
    if dedup_key is not None:
        event["dedup_key"] = dedup_key
    return event


def pd_follow_up(key: str, action: str, dedup_key: str) -> dict[str, Any]:
    return {"routing_key": key, "dedup_key": dedup_key, "event_action": action}


@pytest.fixture
def grafana(world: World) -> Hooked:
    return make_integration(world, "grafana", grouping="group_key")


@pytest.fixture
def opsgenie(world: World) -> Hooked:
    return make_integration(world, "opsgenie")


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    """Rate-limit buckets live in the process and are keyed by key id, which a later test may reuse."""
    LIMITER.reset()
