"""A major incident unflagged and flagged again in *Edit fields* (PATCH ``is_major``) owes its updates from the
moment it became major again: the time it spent as an ordinary incident is not an overdue update."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import World
from tests.incidents_major.conftest import T0, declare, lines, run, webhook
from warroom.incidents import major
from warroom.incidents import services as incidents
from warroom.incidents.models import Incident
from warroom.lib import clock

pytestmark = pytest.mark.django_db


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def flag(incident: Incident, value: bool, when: timedelta, world: World) -> Incident:
    with clock.frozen(T0 + when):
        return incidents.update_incident(incident=incident, actor=world.alice, source="test", is_major=value)


def test_flagging_major_again_starts_the_rhythm_afresh(world: World) -> None:
    webhook(world.bob)
    incident = declare(world, is_major=True, assignee=world.bob)  # P1: an update every 30 min
    assert run(T0) == 0  # the engine adopts it: updates owed from T0
    incident = flag(incident, False, minutes(10), world)
    assert run(T0 + minutes(20)) == 0
    incident = flag(incident, True, minutes(120), world)  # major again, two hours later
    assert run(T0 + minutes(121)) == 0  # not "121 min since the last update"
    with clock.frozen(T0 + minutes(125)):
        view = major.rhythm_view(Incident.objects.get(pk=incident.pk), T0 + minutes(125))
    assert view is not None and not view.overdue
    assert view.due_at is not None and view.due_at >= T0 + minutes(150)
    assert lines(incident, "major_update") == []
    assert run(T0 + minutes(151)) == 1  # one period after it became major again
    assert len(lines(incident, "major_update")) == 1
