"""Fixtures of the reviews tests: the standard world, API clients per person, and helpers that script
incidents through the real services."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.api.conftest import api  # noqa: F401 (the API tests' clients, one per person)
from tests.conftest import World
from warroom.accounts.models import User
from warroom.incidents import services as incidents
from warroom.incidents.models import Incident
from warroom.lib import clock
from warroom.reviews import services
from warroom.reviews.models import Postmortem

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def declare(world: World, *, actor: User | None = None, **fields: Any) -> Incident:
    values: dict[str, Any] = {
        "title": "Checkout returns 502 for a third of requests",
        "team": world.team_a,
        "services": [world.service_a],
        "impact": 1,
        "urgency": 1,
    }
    values.update(fields)
    return incidents.declare_incident(actor=actor or world.alice, source="test", **values)


def resolve(incident: Incident, actor: User, notes: str = "Rolled back to 4.2.0.") -> Incident:
    return incidents.transition_incident(
        incident=incident,
        actor=actor,
        source="test",
        to="resolved",
        resolution_code="workaround",
        resolution_notes=notes,
    )


def postmortem_of(world: World, **fields: Any) -> Postmortem:
    """A draft postmortem of a fresh P3 incident of team A (P3: the policy does not create one itself)."""
    fields.setdefault("impact", 2)
    fields.setdefault("urgency", 2)
    incident = declare(world, **fields)
    return services.create_postmortem(incident=incident, actor=world.bob, source="test")


@pytest.fixture
def frozen() -> Iterator[datetime]:
    with clock.frozen(T0):
        yield T0


@pytest.fixture
def draft(world: World) -> Postmortem:
    return postmortem_of(world)
