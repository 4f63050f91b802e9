"""Fixtures of the status page tests: the standard world, a page of team A with two groups and components
linked to its services, the real SMTP inbox and HTTP receiver of the notification tests, and helpers that run
the engine modules (``comms.status_pages``, ``comms.deliver``) exactly as an engine cycle would."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.cache import cache

from tests.api.conftest import api  # noqa: F401 (the API clients, one per person)
from tests.conftest import World
from tests.notify.conftest import frozen, loopback_allowed, receiver, smtp  # noqa: F401 (fixtures)
from tests.notify.receivers import Answer, Received, Receiver, Responder, as_json, running, text
from warroom.catalog import services as catalog
from warroom.catalog.models import Service
from warroom.comms import page_selectors
from warroom.comms import page_services as pages
from warroom.comms import services as comms
from warroom.comms.models import Component, ComponentGroup, StatusPage, StatusUpdate
from warroom.engine import registry
from warroom.incidents import services as incidents
from warroom.incidents.models import Incident
from warroom.lib import clock

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def run_module(name: str, now: datetime | None = None) -> int:
    """Run one registered engine module once, as an engine cycle would."""
    registry.discover()
    module = next(m for m in registry.modules() if m.name == name)
    return module.func(now or clock.now())


def status_cycle(now: datetime | None = None) -> int:
    return run_module("comms.status_pages", now)


def deliver(now: datetime | None = None) -> int:
    return run_module("comms.deliver", now)


def verify_signature(request: Received, secret: str) -> bool:
    """What a receiver does: HMAC-SHA256(secret, "<timestamp>.<raw body>") against ``Warroom-Signature``."""
    timestamp = request.headers["warroom-timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, request.headers["warroom-signature"].removeprefix("v1="))


def is_challenge(request: Received) -> bool:
    """The subscription challenge Warroom POSTs to a webhook before it subscribes it."""
    try:
        return bool(request.json().get("type") == "subscription.verify")
    except (ValueError, AttributeError):
        return False


def echoing(respond: Responder | None = None) -> Responder:
    """A webhook endpoint that wants the subscription: it answers the challenge with ``{"challenge": …}`` and
    everything else with ``respond`` (default 200 ok)."""

    def answer(request: Received) -> Answer:
        if is_challenge(request):
            return as_json(200, {"challenge": request.json()["challenge"]})
        return (respond or (lambda _r: text(200)))(request)

    return answer


def deliveries(server: Receiver) -> list[Received]:
    """What a receiver got besides subscription challenges: the updates and maintenance messages."""
    return [r for r in server.requests if not is_challenge(r)]


@pytest.fixture
def hooks(loopback_allowed: None) -> Iterator[Receiver]:  # noqa: F811
    """A webhook receiver on 127.0.0.1 that answers the subscription challenge (as a real subscriber does)."""
    with running(Receiver(echoing())) as server:
        yield server


@dataclass
class Site:
    page: StatusPage
    core: ComponentGroup
    edge: ComponentGroup
    checkout: Component  # derived from service_a (Checkout)
    api: Component  # derived from a second team A service
    cdn: Component  # manual
    api_service: Service


def make_site(world: World, **page_options: Any) -> Site:
    api_service = catalog.create_service(
        team=world.team_a, name="Public API", tier=1, actor=None, source="system"
    )
    page = pages.create_page(
        team=world.team_a, name="Acme", slug="acme", actor=world.alice, source="test", **page_options
    ).page
    core = pages.create_group(page=page, name="Core", actor=world.alice, source="test")
    edge = pages.create_group(page=page, name="Edge", actor=world.alice, source="test")
    checkout = pages.create_component(
        page=page, name="Checkout", group=core, services=[world.service_a], actor=world.alice, source="test"
    )
    api_component = pages.create_component(
        page=page, name="API", group=core, services=[api_service], actor=world.alice, source="test"
    )
    cdn = pages.create_component(
        page=page, name="CDN", group=edge, status_mode="manual", actor=world.alice, source="test"
    )
    return Site(page, core, edge, checkout, api_component, cdn, api_service)


@pytest.fixture
def site(world: World) -> Site:
    return make_site(world)


def declare(
    world: World, *, title: str = "Checkout errors", impact: int = 1, urgency: int = 1, **kw: Any
) -> Incident:
    """An incident on Checkout (impact × urgency 1 × 1 = P1 by the ITIL matrix)."""
    services = kw.pop("services", [world.service_a])
    return incidents.declare_incident(
        actor=world.alice,
        source="test",
        title=title,
        team=world.team_a,
        services=services,
        impact=impact,
        urgency=urgency,
        **kw,
    )


def post(
    world: World, incident: Incident, message: str, *, audience: str = "public", **kw: Any
) -> StatusUpdate:
    return comms.post_update(
        incident=incident,
        status=kw.pop("status", "investigating"),
        message=message,
        audience=audience,
        actor=world.alice,
        source="test",
        **kw,
    )


def resolve(world: World, incident: Incident) -> Incident:
    return incidents.transition_incident(
        incident=incident,
        actor=world.alice,
        source="test",
        to="resolved",
        resolution_code="permanent_fix",
        resolution_notes="Fixed.",
    )


@pytest.fixture(autouse=True)
def _clean_cache() -> None:
    """Rendered pages are cached per page version; a fresh cache per test keeps the tests independent."""
    cache.clear()
    page_selectors.forget_pages()
