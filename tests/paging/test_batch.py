"""The batched escalation step (``paging.advance_due``): many escalations sharing a schedule in one batch page
each person once per step, resolve the schedule once, and write the same pages, outbox rows and timeline lines
as one at a time; a batch redone (a crash before commit, a second engine) pages nobody twice."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import World
from tests.paging.conftest import declare, escalation, make_policy, run, timeline
from warroom.lib import clock
from warroom.notify.models import Category, Message
from warroom.oncall import services as oncall
from warroom.oncall.services import StepSpec, TargetSpec
from warroom.paging import services as paging
from warroom.paging.models import IncidentEscalation, Page

pytestmark = pytest.mark.django_db


def test_a_batch_sharing_a_schedule_pages_each_person_once_per_step(world: World, now: datetime) -> None:
    schedule = oncall.create_schedule(
        team=world.team_a, name="Primary rota", time_zone="Europe/London", actor=None, source="system"
    )
    oncall.create_override(
        schedule=schedule,
        user=world.bob,
        start=now - timedelta(hours=1),
        end=now + timedelta(days=1),
        actor=None,
        source="system",
    )
    make_policy(
        world,
        [
            StepSpec(5, [TargetSpec("schedule", schedule.pk), TargetSpec("user", world.bob.pk)]),
            StepSpec(5, [TargetSpec("user", world.alice.pk), TargetSpec("schedule", schedule.pk)]),
        ],
    )
    created = [declare(world, title=f"Outage {n}") for n in range(12)]
    paging.start_escalations(clock.now())
    with CaptureQueriesContext(connection) as queries:
        moved = paging.advance_due(clock.now())
    assert moved == len(created)
    assert len(queries) < 40, f"{len(queries)} queries for a batch of {len(created)}"
    # bob is on call on the schedule *and* named: one page per incident for step 1, not two
    pages = Counter((p.incident_id, p.step_index, p.user_id) for p in Page.objects.all())
    assert set(pages.values()) == {1} and len(pages) == len(created)
    keys = Counter(Message.objects.filter(category=Category.NOTIFICATION).values_list("dedup_key", flat=True))
    assert len(keys) == len(created) and max(keys.values()) == 1
    for incident in created:
        assert timeline(incident)[-1] == "Paged Bob Responder (on call on Primary rota) (step 1 of Primary)"
        assert escalation(incident).step_index == 1
        assert escalation(incident).next_at == now + timedelta(minutes=5)
        assert escalation(incident).version == 2
    # a redo of the same step (as after a crash before commit) inserts nothing new
    IncidentEscalation.objects.update(step_index=0, next_at=now)
    paging.advance_due(clock.now())
    assert Page.objects.count() == len(created)
    assert Message.objects.filter(category=Category.NOTIFICATION).count() == len(created)
    clock.advance(timedelta(minutes=5))
    run()
    step2 = Counter((p.incident_id, p.user_id) for p in Page.objects.filter(step_index=1))
    assert len(step2) == 2 * len(created) and set(step2.values()) == {1}
    assert Message.objects.filter(user=world.bob, category=Category.NOTIFICATION).count() == 2 * len(created)
    assert Message.objects.filter(user=world.alice, category=Category.NOTIFICATION).count() == len(created)


def test_an_acknowledged_incident_in_the_batch_is_not_paged(world: World, now: datetime) -> None:
    make_policy(world, [StepSpec(5, [TargetSpec("user", world.bob.pk)])])
    first, second = declare(world, title="One"), declare(world, title="Two")
    paging.start_escalations(clock.now())
    from tests.paging.conftest import acknowledge  # noqa: PLC0415

    acknowledge(second, world.alice)
    paging.advance_due(clock.now())
    assert Page.objects.filter(incident=first).count() == 1
    assert not Page.objects.filter(incident=second).exists()
    assert escalation(second).status != "active"
