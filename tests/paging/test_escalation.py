"""The escalation engine with the clock: steps with delays, repeats, steps that reach nobody, acknowledgement,
urgency, fresh starts, crashes and restarts (peer failures 1, 2, 5, 6, 15, 17, 20 of the reference)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.conftest import World
from tests.paging.conftest import (
    acknowledge,
    declare,
    escalation,
    make_policy,
    pages_to,
    run,
    timeline,
    user_steps,
)
from warroom.engine import registry
from warroom.engine.loop import run_cycle
from warroom.incidents import services as incidents
from warroom.lib import clock
from warroom.notify import services as notify
from warroom.notify.models import Message, Status
from warroom.oncall import services as oncall
from warroom.oncall.services import StepSpec, TargetSpec
from warroom.paging import services as paging
from warroom.paging.models import EscalationStatus, Page

pytestmark = pytest.mark.django_db


def test_three_steps_page_in_order_after_their_delays(world: World, now: datetime) -> None:
    make_policy(world, user_steps([world.bob], [world.alice], [world.bob, world.alice], delay=5))
    incident = declare(world)
    run()
    assert (pages_to(world.bob, incident), pages_to(world.alice, incident)) == (1, 0)
    clock.advance(timedelta(minutes=4, seconds=59))
    run()
    assert pages_to(world.alice, incident) == 0, "the wait step is honoured (peer failure 2)"
    clock.advance(timedelta(seconds=1))
    run()
    assert (pages_to(world.bob, incident), pages_to(world.alice, incident)) == (1, 1)
    clock.advance(timedelta(minutes=5))
    run()
    assert (pages_to(world.bob, incident), pages_to(world.alice, incident)) == (2, 2)
    lines = timeline(incident)
    assert lines[0] == "Escalation started: Primary"
    assert lines[1] == "Paged Bob Responder (step 1 of Primary)"
    assert lines[2] == "Paged Alice Admin (step 2 of Primary)"
    assert lines[3] == "Paged Bob Responder, Alice Admin (step 3 of Primary)"


def test_repeat_then_exhausted(world: World, now: datetime) -> None:
    make_policy(world, user_steps([world.bob], delay=10), repeat=2)
    incident = declare(world)
    for _ in range(6):
        run()
        clock.advance(timedelta(minutes=10))
    assert pages_to(world.bob, incident) == 3
    assert escalation(incident).status == EscalationStatus.EXHAUSTED
    lines = timeline(incident)
    assert "Nobody acknowledged: Primary starts round 2 of 3" in lines
    assert lines[-1] == "Escalation exhausted: Primary ran 3 round(s) and nobody acknowledged"


def test_step_with_nobody_on_call_moves_on_at_once_and_says_so(world: World, now: datetime) -> None:
    """target/goalert#4548: a step that resolves to nobody does not wait out its delay."""
    empty = oncall.create_schedule(
        team=world.team_a, name="Weekend", time_zone="Europe/London", actor=None, source="system"
    )
    make_policy(
        world,
        [
            StepSpec(30, [TargetSpec("schedule", empty.pk)]),
            StepSpec(30, [TargetSpec("user", world.alice.pk)]),
        ],
    )
    incident = declare(world)
    run()
    assert pages_to(world.alice, incident) == 1
    lines = timeline(incident)
    assert "Nobody to page at step 1 of Primary: nobody is on call there; moving on at once" in lines
    assert escalation(incident).next_at == clock.now() + timedelta(minutes=30)


def test_person_without_contact_method_is_named_not_skipped_silently(world: World, now: datetime) -> None:
    """grafana/oncall#1326: an unreachable responder shows on the timeline, and the next step goes at once."""
    make_policy(world, user_steps([world.charlie], [world.alice]))
    incident = declare(world)
    run()
    assert pages_to(world.alice, incident) == 1
    lines = timeline(incident)
    assert any(
        line.startswith(
            "Nobody reachable at step 1 of Primary: Charlie Other: Charlie Other has no high-urgency"
        )
        for line in lines
    ), lines
    assert Page.objects.get(incident=incident, user=world.charlie).reachable is False


def test_acknowledging_stops_escalation_and_cancels_pending_rungs(world: World, now: datetime) -> None:
    """grafana/oncall#934's opposite: later rungs stand while unacknowledged, and all go once acknowledged."""
    later = notify.create_rule(
        user=world.bob,
        contact_method=world.bob.contact_methods.get(),
        urgency="high",
        delay_minutes=3,
        actor=world.bob,
        source="api",
    )
    assert later.pk
    make_policy(world, user_steps([world.bob], [world.alice], delay=5))
    incident = declare(world)
    run()
    assert pages_to(world.bob, incident) == 2  # now and at 3 min
    clock.advance(timedelta(minutes=1))
    acknowledge(incident, world.bob)
    assert escalation(incident).status == EscalationStatus.ACKNOWLEDGED
    statuses = sorted(
        Message.objects.filter(group=paging.group_of(incident.pk)).values_list("status", flat=True)
    )
    assert statuses == [Status.CANCELLED, Status.CANCELLED]
    for _ in range(5):
        clock.advance(timedelta(minutes=5))
        run()
    assert pages_to(world.alice, incident) == 0
    assert any(line.startswith("Escalation stopped: acknowledged") for line in timeline(incident))


def test_resolving_stops_and_a_new_trigger_starts_fresh(world: World, now: datetime) -> None:
    make_policy(world, user_steps([world.bob], delay=5))
    first = declare(world)
    run()
    incidents.transition_incident(
        incident=first,
        actor=world.bob,
        source="web",
        to="resolved",
        resolution_code="permanent_fix",
        resolution_notes="fixed",
    )
    assert escalation(first).status == EscalationStatus.STOPPED
    second = declare(world)
    run()
    assert pages_to(world.bob, second) == 1
    clock.advance(timedelta(minutes=1))
    incidents.transition_incident(incident=first, actor=world.bob, source="web", to="in_progress")
    run()
    assert pages_to(world.bob, first) == 2, "a reopened incident pages again, from step 1"
    assert escalation(first).epoch == 1


def test_urgency_follows_priority(world: World, now: datetime) -> None:
    """Priority 1-2 page with the high-urgency ladder, the rest with the low one."""
    notify.delete_rule(rule=world.bob.notification_rules.get(urgency="low"), actor=world.bob, source="api")
    make_policy(world, user_steps([world.bob], [world.alice]))
    low = declare(world, impact=3, urgency=3, title="Slow report")
    run()
    assert pages_to(world.bob, low) == 0
    assert pages_to(world.alice, low) == 1
    assert Message.objects.get(user=world.alice).urgency == "low"
    assert "Bob Responder has no low-urgency notification rules" in timeline(low)[1]
    high = declare(world)
    run()
    assert Message.objects.get(user=world.bob, group=paging.group_of(high.pk)).urgency == "high"


def test_incident_without_policy_pages_nobody(world: World, now: datetime) -> None:
    incident = declare(world)
    assert run() == 0
    assert not hasattr(incident, "escalation") or not paging.IncidentEscalation.objects.exists()


def test_crash_mid_batch_rolls_back_and_the_redo_pages_each_person_once(
    world: World, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An exception halfway through a batch (the second of three incidents) leaves nothing behind; the next
    cycle does the work once (peer failures 15, 20: no escalation state outside the database, no partial state)."""
    make_policy(world, user_steps([world.bob], [world.bob, world.alice], delay=5))
    three = [declare(world, title=f"Outage {n}") for n in range(3)]
    run()  # step 1 of each
    clock.advance(timedelta(minutes=5))
    real = notify.enqueue
    calls = {"n": 0}

    def crashing(**kwargs: object) -> notify.Enqueued:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("engine killed")
        return real(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(notify, "enqueue", crashing)
    before = Message.objects.count(), Page.objects.count()
    with pytest.raises(RuntimeError):
        run()
    assert (Message.objects.count(), Page.objects.count()) == before
    monkeypatch.setattr(notify, "enqueue", real)
    run()
    run()
    for incident in three:
        assert pages_to(world.bob, incident) == 2 and pages_to(world.alice, incident) == 1
        assert escalation(incident).step_index == 2


def test_escalation_survives_an_engine_restart(world: World, now: datetime) -> None:
    """grafana/oncall#1206: a restart between steps loses nothing; the due step fires in the next engine."""
    registry.discover()
    make_policy(world, user_steps([world.bob], [world.alice], delay=15))
    incident = declare(world)
    report = run_cycle()
    assert "paging.escalate" in report.ran and not report.failed
    clock.advance(timedelta(hours=2))  # the engine was down for two hours
    registry.discover()  # a new process: nothing in memory
    run_cycle()
    assert (pages_to(world.bob, incident), pages_to(world.alice, incident)) == (1, 1)


def test_running_twice_at_one_instant_pages_nobody_twice(world: World, now: datetime) -> None:
    make_policy(world, user_steps([world.bob], delay=5))
    incident = declare(world)
    run()
    run()
    esc = escalation(incident)
    assert pages_to(world.bob, incident) == 1
    # a redo of the same step (the dedup key) inserts nothing
    result = notify.enqueue(
        user=world.bob,
        urgency="high",
        subject="x",
        dedup_key=f"page:{incident.pk}:0:0:0:{world.bob.pk}",
        group=paging.group_of(incident.pk),
    )
    assert len(result.messages) == 1 and pages_to(world.bob, incident) == 1
    assert esc.step_index == 1
