"""Every allowed and every refused transition of the incident state machine, through the service."""

from __future__ import annotations

import itertools

import pytest

from tests.conftest import World
from warroom.incidents import services
from warroom.incidents.models import Incident, TimelineEntry
from warroom.incidents.states import TRANSITIONS, State, allowed_targets
from warroom.lib.errors import Conflict, ValidationFailed

EXPECTED_ALLOWED = {
    ("new", "in_progress"),
    ("new", "on_hold"),
    ("new", "resolved"),
    ("new", "canceled"),
    ("in_progress", "on_hold"),
    ("in_progress", "resolved"),
    ("in_progress", "canceled"),
    ("on_hold", "in_progress"),
    ("on_hold", "resolved"),
    ("on_hold", "canceled"),
    ("resolved", "in_progress"),
    ("resolved", "closed"),
}

# How to reach each state from New, through allowed moves.
PATHS = {
    "new": [],
    "in_progress": ["in_progress"],
    "on_hold": ["on_hold"],
    "resolved": ["resolved"],
    "closed": ["resolved", "closed"],
    "canceled": ["canceled"],
}

EXTRA = {
    "on_hold": {"hold_reason": "awaiting_vendor"},
    "resolved": {"resolution_code": "workaround", "resolution_notes": "Restarted the pool."},
}


def _move(incident: Incident, world: World, to: str) -> Incident:
    return services.transition_incident(
        incident=incident, actor=world.bob, source="api", to=to, **EXTRA.get(to, {})
    )


def _incident_in(world: World, state: str) -> Incident:
    incident = services.declare_incident(
        actor=world.bob, source="api", title=f"Reach {state}", team=world.team_a
    )
    for step in PATHS[state]:
        incident = _move(incident, world, step)
    assert incident.state == state
    return incident


def test_the_table_is_the_documented_one() -> None:
    assert {(a.value, b.value) for a, b in TRANSITIONS} == EXPECTED_ALLOWED
    assert allowed_targets("closed") == []
    assert allowed_targets("canceled") == []


@pytest.mark.django_db
@pytest.mark.parametrize("frm,to", sorted(itertools.product(State.values, State.values)))
def test_every_pair(world: World, frm: str, to: str) -> None:
    incident = _incident_in(world, frm)
    entries_before = TimelineEntry.objects.filter(incident=incident).count()
    if (frm, to) in EXPECTED_ALLOWED:
        moved = _move(incident, world, to)
        assert moved.state == to
        fresh = Incident.objects.get(pk=incident.pk)
        assert fresh.state == to
        last = TimelineEntry.objects.filter(incident=incident, kind="state").last()
        assert last is not None
        assert last.old_value == State(frm).label and last.new_value == State(to).label
    else:
        with pytest.raises(Conflict) as refused:
            _move(incident, world, to)
        assert State(frm).label in refused.value.message
        assert Incident.objects.get(pk=incident.pk).state == frm
        assert TimelineEntry.objects.filter(incident=incident).count() == entries_before


@pytest.mark.django_db
def test_hold_needs_a_reason_and_resolve_needs_code_and_notes(world: World) -> None:
    incident = _incident_in(world, "in_progress")
    with pytest.raises(ValidationFailed) as no_reason:
        services.transition_incident(incident=incident, actor=world.bob, source="api", to="on_hold")
    assert no_reason.value.field == "hold_reason"
    with pytest.raises(ValidationFailed) as no_code:
        services.transition_incident(
            incident=incident, actor=world.bob, source="api", to="resolved", resolution_notes="fixed"
        )
    assert no_code.value.field == "resolution_code"
    with pytest.raises(ValidationFailed) as no_notes:
        services.transition_incident(
            incident=incident,
            actor=world.bob,
            source="api",
            to="resolved",
            resolution_code="permanent_fix",
            resolution_notes="   ",
        )
    assert no_notes.value.field == "resolution_notes"
    assert Incident.objects.get(pk=incident.pk).state == "in_progress"


@pytest.mark.django_db
def test_lifecycle_records_times_and_reopen_clears_resolution(world: World) -> None:
    incident = _incident_in(world, "new")
    assert incident.acknowledged_at is None
    incident = _move(incident, world, "in_progress")
    first_response = incident.acknowledged_at
    assert first_response is not None
    incident = _move(incident, world, "on_hold")
    assert incident.hold_reason == "awaiting_vendor"
    incident = _move(incident, world, "in_progress")
    assert incident.hold_reason == ""
    incident = _move(incident, world, "resolved")
    assert incident.resolved_at is not None and incident.resolution_code == "workaround"
    incident = services.transition_incident(
        incident=incident, actor=world.bob, source="api", to="in_progress"
    )
    fresh = Incident.objects.get(pk=incident.pk)
    assert fresh.resolved_at is None and fresh.resolution_code == "" and fresh.reopen_count == 1
    assert fresh.acknowledged_at == first_response
    fresh = _move(_move(fresh, world, "resolved"), world, "closed")
    assert fresh.closed_at is not None
