"""Promote and demote, children, resolving a parent with its children: the services."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import World
from tests.incidents_major.conftest import T0, declare, lines, messages, webhook
from warroom.audit.models import AuditEvent
from warroom.incidents import major
from warroom.incidents.models import Incident, MajorUpdateRhythm
from warroom.lib import clock
from warroom.lib.errors import Conflict, PermissionDenied


@pytest.fixture
def group(world: World) -> World:
    """The major-incident group: team B (charlie) plus olivia; both can be reached."""
    webhook(world.charlie)
    webhook(world.olivia)
    major.configure(actor=None, source="test", group_team=world.team_b, group_users=[world.olivia])
    return world


def test_promote_writes_timeline_audit_and_notifies_the_group(group: World) -> None:
    world = group
    incident = declare(world)
    with clock.frozen(T0 + timedelta(minutes=1)):
        promoted = major.promote_to_major(
            incident=incident, actor=world.alice, source="test", note="Checkout down"
        )
    assert promoted.is_major
    assert Incident.objects.get(pk=incident.pk).is_major
    [line] = lines(incident, "is_major")
    assert "Promoted to a major incident" in line and "Reason: Checkout down" in line
    assert "Charlie Other" in line and "Olivia Org" in line
    sent = messages(f"major:{incident.pk}:promote")
    assert {m.user_id for m in sent} == {world.charlie.pk, world.olivia.pk}
    assert all(m.urgency == "high" and "MAJOR" in m.subject for m in sent)
    assert not messages(f"major:{incident.pk}:promote", world.bob)
    assert AuditEvent.objects.filter(action="incident.major.promote").count() == 1
    rhythm = MajorUpdateRhythm.objects.get(incident=incident)
    assert rhythm.started_at == T0 + timedelta(minutes=1)


def test_promote_twice_is_a_conflict_and_observer_is_refused(group: World) -> None:
    world = group
    incident = declare(world)
    with pytest.raises(PermissionDenied):
        major.promote_to_major(incident=incident, actor=world.dave, source="test")
    major.promote_to_major(incident=incident, actor=world.alice, source="test")
    with pytest.raises(Conflict):
        major.promote_to_major(incident=incident, actor=world.alice, source="test")
    assert len(lines(incident, "is_major")) == 1


def test_demote_writes_timeline_and_notifies_the_group(group: World) -> None:
    world = group
    incident = declare(world)
    major.promote_to_major(incident=incident, actor=world.alice, source="test")
    demoted = major.demote(incident=incident, actor=world.bob, source="test", note="Only one shop")
    assert not demoted.is_major
    assert "Demoted" in lines(incident, "is_major")[-1]
    sent = messages(f"major:{incident.pk}:demote")
    assert {m.user_id for m in sent} == {world.charlie.pk, world.olivia.pk}
    assert all(m.urgency == "low" for m in sent)
    assert not MajorUpdateRhythm.objects.filter(incident=incident).exists()
    with pytest.raises(Conflict):
        major.demote(incident=incident, actor=world.alice, source="test")


def test_no_group_configured_says_so(world: World) -> None:
    incident = declare(world)
    major.promote_to_major(incident=incident, actor=world.alice, source="test")
    assert "No major-incident group is configured" in lines(incident, "is_major")[0]


def test_attach_and_detach_children_on_both_timelines(world: World) -> None:
    parent = declare(world)
    child = declare(world, title="Payments slow")
    major.attach_child(parent=parent, child=child, actor=world.alice, source="test")
    assert Incident.objects.get(pk=child.pk).parent_id == parent.pk
    assert child.ref in lines(parent, "child")[0]
    assert parent.ref in lines(child, "parent")[0]
    with pytest.raises(Conflict):
        major.attach_child(parent=parent, child=child, actor=world.alice, source="test")
    major.detach_child(parent=parent, child=child, actor=world.alice, source="test")
    assert Incident.objects.get(pk=child.pk).parent_id is None


def _family(world: World) -> tuple[Incident, list[Incident]]:
    parent = declare(world)
    major.promote_to_major(incident=parent, actor=world.alice, source="test")
    children = [declare(world, title=f"Child {n}", parent=parent) for n in (1, 2)]
    return parent, children


def test_resolving_the_parent_resolves_the_children_when_asked(world: World) -> None:
    parent, children = _family(world)
    done, resolved = major.resolve_with_children(
        incident=parent,
        actor=world.bob,
        source="test",
        resolution_code="permanent_fix",
        resolution_notes="Rolled back the deploy.",
        also_children=True,
    )
    assert done.state == "resolved"
    assert {c.pk for c in resolved} == {c.pk for c in children}
    for child in children:
        fresh = Incident.objects.get(pk=child.pk)
        assert fresh.state == "resolved" and fresh.resolution_notes == "Rolled back the deploy."
    assert "Children resolved with the parent" in lines(parent, "child")[-1]


def test_resolving_the_parent_leaves_the_children_otherwise(world: World) -> None:
    parent, children = _family(world)
    _done, resolved = major.resolve_with_children(
        incident=parent,
        actor=world.bob,
        source="test",
        resolution_code="permanent_fix",
        resolution_notes="Rolled back.",
        also_children=False,
    )
    assert resolved == []
    assert Incident.objects.get(pk=parent.pk).state == "resolved"
    assert {Incident.objects.get(pk=c.pk).state for c in children} == {"new"}


def test_resolve_children_is_all_or_nothing(world: World) -> None:
    """A child the actor may not change (team B's) stops the lot: nothing is half-resolved."""
    parent, children = _family(world)
    other = declare(world, title="Billing", team=world.team_b, actor=world.olivia)
    Incident.objects.filter(pk=other.pk).update(parent=parent)
    with pytest.raises(PermissionDenied):
        major.resolve_with_children(
            incident=parent,
            actor=world.bob,
            source="test",
            resolution_code="permanent_fix",
            resolution_notes="Rolled back.",
            also_children=True,
        )
    assert Incident.objects.get(pk=parent.pk).state == "new"
    assert {Incident.objects.get(pk=c.pk).state for c in children} == {"new"}
