"""``warroom ack`` and ``warroom oncall`` against a live server: the real console script in a subprocess, as bob
(a responder of team A) with his token in WARROOM_TOKEN."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.cli.live import Run, client_as
from tests.conftest import World
from tests.paging.conftest import declare, make_policy, pages_to, reachable, user_steps
from warroom.lib import clock
from warroom.oncall import services as oncall
from warroom.oncall.selectors import zone_of
from warroom.paging import services as paging

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def warroom(live_server: Any, world: World, tmp_path: Path, settings: Any) -> Run:
    """``warroom(*args)`` → the finished ``warroom *args`` process, as bob."""
    settings.WARROOM_HTTP_ALLOW_PRIVATE = ("127.0.0.0/8",)
    return client_as(world.bob, live_server.url, tmp_path / "home")


def test_ack_stops_the_paging_of_the_incident(warroom: Run, world: World) -> None:
    reachable(world.bob)
    reachable(world.alice)
    make_policy(world, user_steps([world.bob], [world.alice], delay=5))
    incident = declare(world)
    paging.run(clock.now())
    assert pages_to(world.bob, incident) == 1

    done = warroom("ack", str(incident.number))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{incident.ref} acknowledged: paging stopped. It is In Progress."
    paging.run(clock.now() + timedelta(minutes=10))
    assert pages_to(world.alice, incident) == 0  # the second step never came

    as_json = warroom("ack", incident.ref, "--json")
    assert as_json.returncode == 0, as_json.stderr
    answer = json.loads(as_json.stdout)
    assert answer["incident"]["state"] == "in_progress" and answer["escalation"]["next_at"] is None

    missing = warroom("ack", "INC0999999")
    assert missing.returncode == 1 and "error:" in missing.stderr and missing.stdout == ""


def test_oncall_lists_who_is_on_call_now(warroom: Run, world: World) -> None:
    schedule = oncall.create_schedule(
        team=world.team_a, name="Checkout primary", time_zone="Europe/London", actor=None, source="system"
    )
    start = (
        (clock.now() - timedelta(days=2)).astimezone(zone_of(schedule)).replace(tzinfo=None, microsecond=0)
    )
    oncall.create_layer(
        schedule=schedule,
        name="Weekly",
        rotation_kind="weekly",
        start=start,
        participants=[world.bob],
        actor=None,
        source="system",
    )
    oncall.create_schedule(
        team=world.team_a, name="Database nights", time_zone="UTC", actor=None, source="system"
    )

    table = warroom("oncall")
    assert table.returncode == 0, table.stderr
    rows = {line.split("  ")[0].strip(): line for line in table.stdout.splitlines() if line.strip()}
    assert "Bob Responder" in rows["Checkout primary"] and "team-a" in rows["Checkout primary"]
    assert "nobody" in rows["Database nights"]
    handoff = (start + timedelta(days=7)).strftime("%Y-%m-%d %H:%M")
    assert handoff in rows["Checkout primary"]  # in the schedule's own zone

    as_json = json.loads(warroom("oncall", "--json", "--team", "team-a").stdout)
    assert {s["schedule"]["name"] for s in as_json["schedules"]} == {"Checkout primary", "Database nights"}

    other = warroom("oncall", "--team", "team-b")  # bob is not in team B
    assert other.returncode == 1 and "error:" in other.stderr
