"""Schedules, working hours and profiles take the same time zones (warroom.lib.zones): any place of the tz
database, never the server's own setting."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import World
from warroom.accounts import services as accounts
from warroom.lib.errors import ValidationFailed
from warroom.notify import services as notify
from warroom.oncall import services as oncall
from warroom.oncall.models import Schedule


def _attempts(world: World, zone: str) -> list[Callable[[], Any]]:
    """Setting ``zone`` on a new schedule, on Bob's working hours and on Bob's profile."""
    return [
        lambda: oncall.create_schedule(
            team=world.team_a, actor=world.alice, source="api", name="Rota", time_zone=zone
        ),
        lambda: notify.set_working_hours(
            user=world.bob,
            time_zone=zone,
            days=["weekdays"],
            start="09:00",
            end="17:00",
            actor=world.bob,
            source="api",
        ),
        lambda: accounts.update_profile(user=world.bob, actor=world.bob, source="api", time_zone=zone),
    ]


@pytest.mark.django_db
def test_a_place_is_taken_everywhere_with_its_name_cleaned(world: World) -> None:
    stored = [attempt().time_zone for attempt in _attempts(world, " Australia/Lord_Howe ")]
    assert stored == ["Australia/Lord_Howe"] * 3


@pytest.mark.django_db
@pytest.mark.parametrize("zone", ["localtime", "posixrules", "Atlantis/Nowhere", "/etc/localtime", ""])
def test_the_servers_own_zone_and_unknown_names_are_refused_everywhere(world: World, zone: str) -> None:
    attempts = _attempts(world, zone)
    for attempt in attempts:
        with pytest.raises(ValidationFailed) as refused:
            attempt()
        assert refused.value.field == "time_zone"
        assert "is not an IANA time zone" in refused.value.message
    assert not Schedule.objects.filter(name="Rota").exists()
    world.bob.refresh_from_db()
    assert world.bob.time_zone == "UTC"
