"""The update rhythm: when a major incident's update is overdue, the Communications Lead (else the Incident
Commander, else the assignee) is reminded, once per overdue period; a note is an update."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import World, make_world
from tests.incidents_major.conftest import T0, declare, lines, messages, run, webhook
from warroom.accounts.models import User
from warroom.comms import services as comms
from warroom.engine import registry
from warroom.incidents import major
from warroom.incidents import services as incidents
from warroom.incidents.models import Incident, RoleType
from warroom.lib import clock


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def promote(world: World, **fields: Any) -> Incident:
    incident = declare(world, **fields)
    with clock.frozen(T0):
        return major.promote_to_major(incident=incident, actor=world.alice, source="test")


def give_role(incident: Incident, slug: str, user: User) -> None:
    with clock.frozen(T0):
        incidents.assign_role(
            incident=incident,
            role_type=RoleType.objects.get(slug=slug),
            user=user,
            actor=None,
            source="test",
        )


def reminders(incident: Incident) -> list[str]:
    return lines(incident, "major_update")


def test_module_is_registered() -> None:
    registry.discover()
    assert "incidents.major_updates" in {m.name for m in registry.modules()}


def test_p1_reminds_the_communications_lead_once_per_overdue_period(world: World) -> None:
    for person in (world.alice, world.bob):
        webhook(person)
    incident = promote(world, assignee=world.bob)
    give_role(incident, "incident-commander", world.alice)
    give_role(incident, "communications-lead", world.bob)
    assert run(T0 + minutes(29)) == 0
    assert run(T0 + minutes(30)) == 1
    assert run(T0 + minutes(31)) == 0
    assert run(T0 + minutes(45)) == 0
    assert len(reminders(incident)) == 1
    assert "Bob Responder (Communications Lead)" in reminders(incident)[0]
    sent = messages(f"major-update:{incident.pk}:")
    assert {m.user_id for m in sent} == {world.bob.pk}
    # still no update: the next period is reminded, once
    assert run(T0 + minutes(60)) == 1
    assert run(T0 + minutes(61)) == 0
    assert len(reminders(incident)) == 2
    # a note is an update: the rhythm starts again from it
    with clock.frozen(T0 + minutes(65)):
        incidents.add_note(incident=incident, actor=world.alice, source="test", text="Rolling back.")
    assert run(T0 + minutes(90)) == 0
    assert run(T0 + minutes(95)) == 1
    assert len(reminders(incident)) == 3


def test_incident_commander_when_no_communications_lead(world: World) -> None:
    webhook(world.alice)
    incident = promote(world, assignee=world.bob)
    give_role(incident, "incident-commander", world.alice)
    assert run(T0 + minutes(30)) == 1
    assert "Alice Admin (Incident Commander)" in reminders(incident)[0]
    assert {m.user_id for m in messages(f"major-update:{incident.pk}:")} == {world.alice.pk}


def test_assignee_when_no_roles(world: World) -> None:
    webhook(world.bob)
    incident = promote(world, assignee=world.bob)
    assert run(T0 + minutes(30)) == 1
    assert "Bob Responder (assignee)" in reminders(incident)[0]
    assert {m.user_id for m in messages(f"major-update:{incident.pk}:")} == {world.bob.pk}


def test_nobody_to_remind_is_written_down_once(world: World) -> None:
    incident = promote(world)
    assert run(T0 + minutes(30)) == 1
    assert run(T0 + minutes(40)) == 0
    assert "Nobody holds" in reminders(incident)[0]


def test_p2_every_hour_and_p3_has_no_rhythm(world: World) -> None:
    p2 = promote(world, impact=1, urgency=2, assignee=world.bob)
    p3 = promote(world, impact=2, urgency=2, assignee=world.bob, title="Minor")
    assert p2.priority == 2 and p3.priority == 3
    assert run(T0 + minutes(30)) == 0
    assert run(T0 + minutes(60)) == 1
    assert reminders(p2) and not reminders(p3)


def test_configured_rhythm_and_demote_stops_it(world: World) -> None:
    major.configure(actor=None, source="test", update_minutes={"1": 10})
    incident = promote(world, assignee=world.bob)
    assert run(T0 + minutes(10)) == 1
    major.demote(incident=incident, actor=world.alice, source="test")
    assert run(T0 + minutes(20)) == 0


def test_resolved_major_incident_is_not_reminded(world: World) -> None:
    incident = promote(world, assignee=world.bob)
    with clock.frozen(T0 + minutes(5)):
        incidents.transition_incident(
            incident=incident,
            actor=world.bob,
            source="test",
            to="resolved",
            resolution_code="permanent_fix",
            resolution_notes="Fixed.",
        )
    assert run(T0 + minutes(30)) == 0
    # and the console and API no longer show an update as due
    view = major.rhythm_view(Incident.objects.get(pk=incident.pk), T0 + minutes(30))
    assert view is not None and view.due_at is None and not view.overdue


def test_declared_major_is_adopted_by_the_engine(world: World) -> None:
    incident = declare(world, is_major=True, assignee=world.bob)
    assert run(T0 + minutes(1)) == 0
    assert run(T0 + minutes(31)) == 1
    assert reminders(incident)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_reminder_survives_a_restart_and_is_not_repeated() -> None:
    """State lives in rows: a second engine (a restart) at the same instant reminds nobody again."""
    world = make_world()
    webhook(world.bob)
    incident = promote(world, assignee=world.bob)
    assert run(T0 + minutes(30)) == 1
    assert run(T0 + minutes(30)) == 0
    assert len(messages(f"major-update:{incident.pk}:")) == 1


def test_a_posted_stakeholder_update_is_an_update_too(world: World) -> None:
    """Posting an update for stakeholders (internal or public) restarts the rhythm, as a note does."""
    webhook(world.bob)
    incident = promote(world, assignee=world.bob)
    with clock.frozen(T0 + minutes(20)):
        comms.post_update(
            incident=incident,
            status="identified",
            message="Rolled back the deploy; watching error rates.",
            audience="internal",
            actor=world.alice,
            source="test",
        )
    assert run(T0 + minutes(30)) == 0, "the update at 20 min moved the next one to 50 min"
    assert run(T0 + minutes(50)) == 1
    view = major.rhythm_view(Incident.objects.get(pk=incident.pk), T0 + minutes(51))
    assert view is not None and view.last_update_at == T0 + minutes(20)
