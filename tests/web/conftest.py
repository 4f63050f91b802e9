"""Fixtures for the console tests: the standard world plus an incident of Team A."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from tests.conftest import World
from warroom.incidents import services
from warroom.incidents.models import Incident

ClientFor = Callable[..., Client]


@pytest.fixture
def incident(world: World) -> Incident:
    return services.declare_incident(
        actor=world.alice,
        source="test",
        title="Checkout returns 502 for a third of requests",
        description="Started after the **4.2.1** deploy.",
        team=world.team_a,
        services=[world.service_a],
        impact=1,
        urgency=2,
    )


@pytest.fixture
def alice(client_for: ClientFor, world: World) -> Client:
    return client_for(world.alice)
