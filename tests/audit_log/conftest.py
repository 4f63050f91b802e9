"""The audit log's tests: the standard world, the API clients, and a few audit rows at known times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from tests.api.conftest import api  # noqa: F401 (the API tests' clients, one per person)
from tests.conftest import World
from warroom.accounts import services as accounts
from warroom.catalog import services as catalog
from warroom.catalog.models import Service
from warroom.lib import clock

T1 = datetime(2036, 3, 1, 9, 0, tzinfo=UTC)
T2 = datetime(2036, 3, 2, 9, 0, tzinfo=UTC)
T3 = datetime(2036, 3, 3, 9, 0, tzinfo=UTC)


@dataclass
class Log:
    world: World
    search: Service


@pytest.fixture
def log(world: World) -> Log:
    """Three writes (in the future, so they are the newest rows) at T1 (alice: a service), T2 (olivia: a team) and T3 (alice: bob's role), on top of the
    world's own setup rows (actor None, source system)."""
    with clock.frozen(T1):
        search = catalog.create_service(team=world.team_a, name="Search", actor=world.alice, source="web")
    with clock.frozen(T2):
        accounts.create_team(name="Team C", actor=world.olivia, source="api")
    with clock.frozen(T3):
        accounts.set_membership(
            team=world.team_a, user=world.bob, role="manager", actor=world.alice, source="cli"
        )
    return Log(world, search)
