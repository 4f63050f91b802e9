"""PostgreSQL: several engines and racing acknowledgements (peer failures 25 and the ack/escalation race).

Each engine runs the module's body in its own thread and connection (not the loop, whose advisory lock would
make them take turns), so the row locks alone must keep every person paged once per step. On SQLite the
database has one writer and one engine: skipped there."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection, connections

from tests.conftest import make_world
from tests.paging.conftest import T0, declare, make_policy, reachable, user_steps
from warroom.incidents import services as incidents
from warroom.incidents.models import Incident, TimelineEntry
from warroom.lib import clock
from warroom.notify.models import Category, Message, Status
from warroom.paging import services as paging
from warroom.paging.models import EscalationStatus, IncidentEscalation, Page

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(autouse=True)
def _postgres_only(settings: object) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks (set WARROOM_DATABASE_URL to a PostgreSQL URL)")
    settings.WARROOM_HTTP_ALLOW_PRIVATE = ("127.0.0.0/8",)  # type: ignore[attr-defined]


def _together(*funcs: Callable[[], object]) -> None:
    barrier = threading.Barrier(len(funcs))
    failures: list[BaseException] = []

    def go(func: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=20)
            func()
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=go, args=(f,)) for f in funcs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures


def test_two_engines_page_each_person_once_per_step() -> None:
    with clock.frozen(T0):
        world = make_world()
        reachable(world.alice)
        reachable(world.bob)
        make_policy(world, user_steps([world.bob], [world.bob, world.alice], delay=5))
        created = [declare(world, title=f"Outage {n}") for n in range(40)]

        def engine() -> None:
            for _ in range(3):
                paging.run(clock.now())

        _together(engine, engine)
        clock.advance(timedelta(minutes=5))
        _together(engine, engine)
    keys = Counter(Message.objects.filter(category=Category.NOTIFICATION).values_list("dedup_key", flat=True))
    assert len(keys) == len(created) * 3 and max(keys.values()) == 1
    assert Page.objects.count() == len(created) * 3
    per_incident = Counter(Message.objects.filter(user=world.bob).values_list("group", flat=True))
    assert set(per_incident.values()) == {2}
    assert set(IncidentEscalation.objects.values_list("step_index", flat=True)) == {2}
    started = Counter(
        e.incident_id for e in TimelineEntry.objects.filter(message__startswith="Escalation started")
    )
    assert set(started.values()) == {1}


def test_ack_at_the_same_instant_as_a_step_never_leaves_a_page_after_the_ack() -> None:
    """Twenty rounds of: step 2 falls due, and Bob acknowledges at the same instant as an engine fires it.
    Whichever commits first, once both are done nothing of the incident is pending, and escalation is over."""
    with clock.frozen(T0):
        world = make_world()
        reachable(world.alice)
        reachable(world.bob)
        make_policy(world, user_steps([world.bob], [world.alice], delay=5))
        rounds = [declare(world, title=f"Race {n}") for n in range(20)]
        paging.run(clock.now())
        clock.advance(timedelta(minutes=5))
        for incident in rounds:

            def ack(incident: Incident = incident) -> None:
                incidents.transition_incident(
                    incident=incident, actor=world.bob, source="web", to="in_progress"
                )

            def engine() -> None:
                paging.advance_due(clock.now())

            _together(ack, engine)
    for incident in rounds:
        group = paging.group_of(incident.pk)
        assert not Message.objects.filter(group=group, status=Status.PENDING).exists(), incident.ref
        esc = IncidentEscalation.objects.get(incident=incident)
        assert esc.status == EscalationStatus.ACKNOWLEDGED and esc.next_at is None
    with clock.frozen(T0 + timedelta(hours=1)):
        paging.run(clock.now())
    assert not Message.objects.filter(status=Status.PENDING, category=Category.NOTIFICATION).exists()
