"""Two engines on PostgreSQL, each a thread running the real loop's cycle on its own connection, against the same
receivers: every person gets exactly one message per step, whichever engine sent it. On SQLite exactly one engine
runs (inside ``warroom serve``), so this is skipped there."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection, connections

from tests.conftest import make_world
from tests.smoke_paging.conftest import T0, declare, policy
from tests.smoke_paging.harness import Harness
from warroom.engine.loop import run_cycle
from warroom.lib import clock
from warroom.notify.models import Category, Message, Status
from warroom.oncall.services import StepSpec, TargetSpec

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

INCIDENTS = 20


def _two_engines(cycles: int = 3) -> None:
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []

    def engine() -> None:
        try:
            barrier.wait(timeout=20)
            for _ in range(cycles):
                report = run_cycle()
                assert not report.failed, report.failed
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=engine) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures


def test_two_engines_send_one_message_per_step_per_person(wired: Harness) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("two engines need PostgreSQL (row locks, advisory locks); SQLite runs exactly one engine")
    h = wired
    with clock.frozen(T0):
        world = make_world()
        for user in (world.alice, world.bob):
            h.ladder(user, "high", ("webhook", 0))
        policy(
            world,
            [
                StepSpec(5, [TargetSpec("user", world.bob.pk)]),
                StepSpec(5, [TargetSpec("user", world.bob.pk), TargetSpec("user", world.alice.pk)]),
            ],
        )
        made = [declare(world, title=f"Outage {n}") for n in range(INCIDENTS)]
        _two_engines()
        h.poll()
        h.expect("webhook", world.bob, count=INCIDENTS)
        h.expect_nothing()
        clock.advance(timedelta(minutes=5))
        _two_engines()
        h.poll()
        h.expect("webhook", world.bob, count=INCIDENTS)
        h.expect("webhook", world.alice, count=INCIDENTS)
        h.expect_nothing()
        clock.advance(timedelta(minutes=30))
        _two_engines(1)
        h.expect_nothing()
    ids = Counter(g.delivery_id for g in h.received)
    assert len(ids) == 3 * len(made) and set(ids.values()) == {1}
    sent = Message.objects.filter(category=Category.NOTIFICATION)
    assert sent.count() == sent.filter(status=Status.SENT).count() == 3 * len(made)
