"""Workflows run by the engine (docs/automation.md): a team's playbook happens on its incidents when they are
declared, change priority, become major or are resolved; once per event, whatever the engine does twice; what
cannot be done is said on the timeline, and the rest is still done."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.conftest import World
from tests.paging.conftest import T0, declare, reachable
from warroom.accounts import deactivation
from warroom.accounts import services as accounts
from warroom.accounts.models import User
from warroom.automation import runner
from warroom.automation import services as automation
from warroom.automation.models import Workflow, WorkflowRun
from warroom.automation.services import WorkflowSpec
from warroom.engine import registry
from warroom.engine.loop import run_cycle
from warroom.incidents import major
from warroom.incidents import services as incidents
from warroom.incidents.models import Incident, IncidentRole, RoleType, Task, TimelineEntry
from warroom.lib import clock
from warroom.lib.errors import ValidationFailed
from warroom.notify.models import Message


@pytest.fixture
def now(world: World, settings: Any) -> Iterator[datetime]:
    settings.WARROOM_HTTP_ALLOW_PRIVATE = ("127.0.0.0/8",)
    registry.discover()
    with clock.frozen(T0):
        reachable(world.alice)
        reachable(world.bob)
        runner.run(clock.now())  # the first pass starts the runner's clock: nothing before it runs anything
        yield T0


def playbook(world: World, **changes: Any) -> Workflow:
    spec = WorkflowSpec(
        name="P1 playbook",
        trigger="declared",
        priorities=[1],
        tasks=["Open a bridge call", "Tell customer support"],
        roles={"incident-commander": world.alice.pk},
        notify_users=[world.bob.pk],
        message="A P1 is open on Checkout: join the bridge.",
    )
    for name, value in changes.items():
        setattr(spec, name, value)
    return automation.create_workflow(team=world.team_a, spec=spec, actor=world.alice, source="web")


def cycle() -> None:
    clock.advance(timedelta(seconds=2))
    report = run_cycle()
    assert not report.failed, report.failed


def workflow_lines(incident: Incident) -> list[str]:
    return list(
        TimelineEntry.objects.filter(incident=incident, field="workflow")
        .order_by("id")
        .values_list("message", flat=True)
    )


def commander(incident: Incident) -> User | None:
    role = IncidentRole.objects.filter(incident=incident, role_type__slug="incident-commander").first()
    return role.user if role else None


def test_a_p1_gets_its_playbook_once(world: World, now: datetime) -> None:
    workflow = playbook(world)
    p1 = declare(world, impact=1, urgency=1)
    p3 = declare(world, impact=2, urgency=2, title="Slow search")
    cycle()
    assert sorted(Task.objects.filter(incident=p1).values_list("title", flat=True)) == [
        "Open a bridge call",
        "Tell customer support",
    ]
    assert commander(p1) == world.alice
    told = Message.objects.filter(user=world.bob, group=f"workflow:{p1.pk}")
    assert told.count() == 1
    assert told.get().subject == f"{p1.ref} P1 playbook: Checkout returns 500"
    assert told.get().body.startswith("A P1 is open on Checkout: join the bridge.")
    [line] = workflow_lines(p1)
    assert line.startswith("Workflow “P1 playbook” (an incident is declared): task “Open a bridge call”;")
    assert "Incident Commander → Alice Admin; notified Bob Responder." in line
    assert line.endswith("\nA P1 is open on Checkout: join the bridge.")
    # the P3 meets no condition: nothing happens to it
    assert not Task.objects.filter(incident=p3).exists() and workflow_lines(p3) == []
    # more cycles, a redone pass: nothing twice
    cycle()
    runner.run(clock.now())
    assert WorkflowRun.objects.filter(workflow=workflow).count() == 1
    assert Task.objects.filter(incident=p1).count() == 2 and told.count() == 1


def test_a_priority_raised_to_p1_runs_the_priority_workflow(world: World, now: datetime) -> None:
    playbook(world, trigger="priority")
    incident = declare(world, impact=2, urgency=2)
    cycle()
    assert workflow_lines(incident) == []
    incidents.update_incident(incident=incident, actor=world.alice, source="web", impact=1, urgency=1)
    cycle()
    assert commander(incident) == world.alice
    assert len(workflow_lines(incident)) == 1


def test_becoming_major_and_being_resolved_are_triggers(world: World, now: datetime) -> None:
    playbook(
        world,
        name="Major",
        trigger="major",
        priorities=[],
        roles={},
        notify_users=[],
        tasks=["Page the exec"],
    )
    playbook(
        world,
        name="Resolved",
        trigger="resolved",
        priorities=[],
        roles={},
        notify_users=[],
        tasks=[],
        message="Write it up.",
    )
    incident = declare(world, impact=1, urgency=1)
    cycle()
    assert workflow_lines(incident) == []
    major.promote_to_major(incident=incident, actor=world.alice, source="web")
    cycle()
    assert list(Task.objects.filter(incident=incident).values_list("title", flat=True)) == ["Page the exec"]
    incidents.transition_incident(
        incident=incident,
        actor=world.alice,
        source="web",
        to="resolved",
        resolution_code="workaround",
        resolution_notes="Restarted",
    )
    cycle()
    lines = workflow_lines(incident)
    assert (
        len(lines) == 2
        and lines[1] == "Workflow “Resolved” (an incident is resolved): nothing to do.\nWrite it up."
    )


def test_what_cannot_be_done_is_said_and_the_rest_is_done(world: World, now: datetime) -> None:
    playbook(world)
    incident = declare(world, impact=1, urgency=1)
    incidents.assign_role(
        incident=incident,
        role_type=RoleType.objects.get(slug="incident-commander"),
        user=world.bob,
        actor=world.bob,
        source="web",
    )
    cycle()
    assert commander(incident) == world.bob  # a role someone holds stays theirs
    [run] = WorkflowRun.objects.all()
    assert run.failed == ["Incident Commander → Alice Admin: already held by Bob Responder"]
    assert (
        "Not done: Incident Commander → Alice Admin: already held by Bob Responder."
        in workflow_lines(incident)[0]
    )
    assert Task.objects.filter(incident=incident).count() == 2


def test_only_the_teams_enabled_workflows_whose_conditions_hold_run(world: World, now: datetime) -> None:
    disabled = playbook(world, name="Off")
    automation.update_workflow(
        workflow=disabled,
        spec=WorkflowSpec(name="Off", trigger="declared", enabled=False, tasks=["Never"]),
        actor=world.alice,
        source="web",
    )
    playbook(
        world,
        name="Billing only",
        services=[],
        priorities=[],
        roles={},
        notify_users=[],
        tasks=["Billing task"],
    )
    Workflow.objects.filter(name="Billing only").get().services.set([world.service_a])
    other_team = incidents.declare_incident(
        actor=None,
        source="system",
        title="Invoices late",
        team=world.team_b,
        services=[world.service_b],
        impact=1,
        urgency=1,
        reporter=None,
    )
    mine = declare(world, impact=1, urgency=1)
    cycle()
    assert list(Task.objects.filter(incident=mine).values_list("title", flat=True)) == ["Billing task"]
    assert not Task.objects.filter(incident=other_team).exists()
    assert not WorkflowRun.objects.filter(workflow=disabled).exists()


def test_a_workflow_acts_only_on_what_happens_after_it_was_made(world: World, settings: Any) -> None:
    registry.discover()
    with clock.frozen(T0):
        incident = declare(world, impact=1, urgency=1)  # declared before the runner ever ran
        clock.advance(timedelta(seconds=5))
        runner.run(clock.now())
        playbook(world)
        cycle()
        assert workflow_lines(incident) == []
        later = declare(world, impact=1, urgency=1)
        cycle()
        assert len(workflow_lines(later)) == 1


def test_a_line_committed_late_is_still_seen(world: World, now: datetime) -> None:
    playbook(world)
    clock.advance(timedelta(minutes=2))
    cycle()  # the runner has looked up to now
    # an incident whose transaction began a minute ago and commits only now: its line is older than the last pass
    with clock.frozen(clock.now() - timedelta(minutes=1)):
        incident = declare(world, impact=1, urgency=1)
    cycle()
    assert commander(incident) == world.alice


def test_a_test_incident_says_test_in_what_the_workflow_sends(world: World, now: datetime) -> None:
    playbook(world)
    incident = declare(world, impact=1, urgency=1)
    Incident.objects.filter(pk=incident.pk).update(is_test=True)
    cycle()
    told = Message.objects.get(user=world.bob, group=f"workflow:{incident.pk}")
    assert told.subject.startswith("[TEST] ") and told.body.startswith("[TEST] ")


def test_deactivating_someone_a_workflow_names_warns_and_the_run_says_so(world: World, now: datetime) -> None:
    playbook(world)
    accounts.set_active(user=world.bob, active=False, actor=world.olivia, source="web")
    assert [(item.kind, item.name) for item in deactivation.left_behind(world.bob)] == [
        ("workflow", "P1 playbook (Team A)")
    ]
    incident = declare(world, impact=1, urgency=1)
    cycle()
    assert "Not done: notify Bob Responder: deactivated." in workflow_lines(incident)[0]
    assert not Message.objects.filter(user=world.bob, group=f"workflow:{incident.pk}").exists()


@pytest.mark.parametrize("bad", [-1, 10**19, 10**40])
def test_ids_no_row_can_have_are_refused_naming_the_field(world: World, bad: int) -> None:
    for field_name, spec in [
        ("services", WorkflowSpec(name="W", trigger="declared", tasks=["t"], services=[bad])),
        ("notify_users", WorkflowSpec(name="W", trigger="declared", message="m", notify_users=[bad])),
        ("roles", WorkflowSpec(name="W", trigger="declared", roles={"incident-commander": bad})),
    ]:
        with pytest.raises(ValidationFailed) as refused:
            automation.create_workflow(team=world.team_a, spec=spec, actor=world.alice, source="web")
        assert refused.value.field == field_name and f"{bad} is not an id" in str(refused.value)
    assert not Workflow.objects.exists()


def test_acknowledged_is_the_first_response_only_and_closed_is_a_trigger(world: World, now: datetime) -> None:
    lean = {"priorities": [], "roles": {}, "notify_users": [], "message": ""}
    playbook(world, name="Acked", trigger="acknowledged", tasks=["Post the first update"], **lean)
    # a closed incident takes no more tasks: a closed workflow notifies, calls a webhook or leaves a note
    playbook(
        world, name="Closed", trigger="closed", tasks=[], **{**lean, "message": "Archive the bridge notes."}
    )
    held = declare(world, impact=1, urgency=1)
    worked = declare(world, impact=1, urgency=1, title="Search is slow")

    def move(incident: Incident, to: str, **fields: str) -> None:
        incidents.transition_incident(incident=incident, actor=world.alice, source="web", to=to, **fields)

    def tasks(incident: Incident) -> list[str]:
        return list(Task.objects.filter(incident=incident).order_by("id").values_list("title", flat=True))

    move(held, "on_hold", hold_reason="awaiting_caller")  # out of New: a first response
    move(worked, "in_progress")
    cycle()
    assert tasks(held) == tasks(worked) == ["Post the first update"]
    # back from On Hold, resolved and reopened: never acknowledged again
    move(held, "in_progress")
    move(worked, "resolved", resolution_code="workaround", resolution_notes="Restarted")
    cycle()
    move(worked, "in_progress")
    cycle()
    assert tasks(held) == tasks(worked) == ["Post the first update"]
    # closed, by the engine after the resolution period: the closed workflow runs
    move(worked, "resolved", resolution_code="workaround", resolution_notes="Restarted again")
    clock.advance(timedelta(days=30))
    assert incidents.close_resolved_incidents(older_than=clock.now()) == 1
    cycle()
    assert workflow_lines(worked)[-1] == (
        "Workflow “Closed” (an incident is closed): nothing to do.\nArchive the bridge notes."
    )
    assert [line.split(" (")[0] for line in workflow_lines(worked)] == [
        "Workflow “Acked”",
        "Workflow “Closed”",
    ]
    assert [line.split(" (")[0] for line in workflow_lines(held)] == ["Workflow “Acked”"]
