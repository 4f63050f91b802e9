"""PostgreSQL: two engines never announce the same warning or breach twice, and an engine racing people who
acknowledge and resolve neither deadlocks nor double-announces.

Each engine runs the module's body (not the loop, whose advisory lock would make them take turns) in its own
thread and connection. On SQLite one engine runs and the database has one writer: skipped there."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, connections

from tests.conftest import make_world
from tests.incidents_sla.conftest import declare, define, move, webhook
from warroom.audit.models import AuditEvent
from warroom.incidents import sla_services
from warroom.incidents.models import SlaClock, TimelineEntry
from warroom.lib import clock
from warroom.notify.models import Message

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
INCIDENTS = 60


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks (set WARROOM_DATABASE_URL to a PostgreSQL URL)")


def together(*jobs: Callable[[], object]) -> None:
    barrier = threading.Barrier(len(jobs))
    failures: list[BaseException] = []

    def run(job: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=20)
            job()
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures


def test_two_engines_announce_each_event_once() -> None:
    world = make_world()
    define(priority=3, response_minutes=10, resolution_minutes=100)
    webhook(world.alice)
    webhook(world.bob)
    incidents = [declare(world, T0, title=f"Incident {n}", assignee=world.bob) for n in range(INCIDENTS)]
    with clock.frozen(T0 + 95 * MIN):
        together(lambda: sla_services.run_engine(clock.now()), lambda: sla_services.run_engine(clock.now()))
        assert sla_services.run_engine(clock.now()) == 0  # nothing left
    lines = Counter(
        TimelineEntry.objects.filter(field__in=["sla_response", "sla_resolution"]).values_list(
            "incident_id", "field", "new_value"
        )
    )
    assert len(lines) == 2 * INCIDENTS
    assert set(lines.values()) == {1}
    assert {v for (_i, _f, v) in lines} == {"breached", "90%"}
    assert AuditEvent.objects.filter(action__startswith="incident.sla.").count() == 2 * INCIDENTS
    assert Message.objects.filter(dedup_key__startswith="sla:").count() == 2 * 2 * INCIDENTS
    assert all(c.warnings_sent == [50, 75, 90] for c in SlaClock.objects.all())
    assert len(incidents) == INCIDENTS


def test_an_engine_racing_acknowledgements_and_resolutions() -> None:
    world = make_world()
    define(priority=3, response_minutes=10, resolution_minutes=100)
    incidents = [declare(world, T0, title=f"Incident {n}") for n in range(INCIDENTS)]

    def people() -> None:
        for incident in incidents:
            moved = move(incident, T0 + 60 * MIN, "in_progress")
            move(moved, T0 + 60 * MIN, "resolved")

    def engines() -> None:
        for _ in range(5):
            sla_services.run_engine(clock.now())

    with clock.frozen(T0 + 60 * MIN):
        together(people, engines, engines)
        sla_services.run_engine(clock.now())
    # Each response clock breached: announced at most once by an engine, and always closed by one stop line.
    for row in SlaClock.objects.filter(kind="response"):
        announced = AuditEvent.objects.filter(action="incident.sla.breach", after__clock=row.pk).count()
        lines = TimelineEntry.objects.filter(
            incident_id=row.incident_id, field="sla_response", new_value="breached"
        )
        assert announced <= 1
        assert lines.count() == announced + 1
    states = Counter(SlaClock.objects.values_list("kind", "state"))
    assert states == {("response", "breached"): INCIDENTS, ("resolution", "met"): INCIDENTS}
    resolution_lines = Counter(
        TimelineEntry.objects.filter(field="sla_resolution").values_list("incident_id", "new_value")
    )
    assert all(n == 1 for n in resolution_lines.values())
