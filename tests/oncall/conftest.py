"""On-call fixtures: the standard world with the clock frozen on 1 March 2026 (a week before the US DST change),
API clients with real tokens, and a Team A schedule in America/Chicago with a daily 09:00 rotation of alice
and bob."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time

import pytest

from tests.api.conftest import Clients, client_with_token
from tests.conftest import PASSWORD, World
from warroom.accounts import services as accounts
from warroom.accounts.models import User
from warroom.lib import clock
from warroom.oncall import rotation, services
from warroom.oncall.models import Layer, Schedule

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def now() -> Iterator[datetime]:
    with clock.frozen(NOW):
        yield NOW


@pytest.fixture
def api(world: World, now: datetime) -> Clients:
    return Clients(
        alice=client_with_token(world.alice),
        bob=client_with_token(world.bob),
        charlie=client_with_token(world.charlie),
        dave=client_with_token(world.dave),
        olivia=client_with_token(world.olivia),
    )


@pytest.fixture
def erin(world: World) -> User:
    """A second responder of team A, to put on call where dave, an observer, may not be."""
    user = accounts.create_user(
        email="erin@example.com", password=PASSWORD, full_name="Erin Responder", actor=None, source="system"
    )
    accounts.set_membership(team=world.team_a, user=user, role="responder", actor=None, source="system")
    return user


@pytest.fixture
def schedule(world: World, now: datetime) -> Schedule:
    return services.create_schedule(
        team=world.team_a, name="Checkout primary", time_zone="America/Chicago", actor=None, source="system"
    )


@pytest.fixture
def layer(world: World, schedule: Schedule) -> Layer:
    """Daily 09:00 handoffs from Sunday 1 March 2026 09:00 Chicago: alice, bob, alice, ..."""
    return services.create_layer(
        schedule=schedule,
        name="Primary",
        rotation_kind="daily",
        start=datetime(2026, 3, 1, 9, 0),
        handoff_time=time(9, 0),
        participants=[world.alice, world.bob],
        actor=None,
        source="system",
    )


def business_hours() -> tuple[rotation.Restriction, ...]:
    return (rotation.Restriction(days=frozenset(range(5)), start=time(9), end=time(17)),)
