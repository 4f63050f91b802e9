"""The engine loop runs registered modules in order, survives a failing module, and closes resolved
incidents after the configured number of days."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import World
from warroom.engine import registry
from warroom.engine.loop import run_cycle
from warroom.engine.models import ModuleState
from warroom.incidents import services
from warroom.incidents.models import Incident, TimelineEntry
from warroom.lib import clock

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def probe_modules() -> Iterator[list[str]]:
    calls: list[str] = []

    @registry.module("test.second", order=20)
    def second(now: datetime) -> int:
        calls.append(f"second@{now.isoformat()}")
        return 2

    @registry.module("test.first", order=10)
    def first(now: datetime) -> int:
        calls.append("first")
        return 1

    @registry.module("test.broken", order=15)
    def broken(now: datetime) -> int:
        raise RuntimeError("disk on fire")

    yield calls
    for name in ("test.first", "test.second", "test.broken"):
        registry.unregister(name)


@pytest.mark.django_db
def test_cycle_runs_modules_in_order_and_records_them(probe_modules: list[str]) -> None:
    with clock.frozen(T0):
        report = run_cycle()
    assert probe_modules == ["first", f"second@{T0.isoformat()}"]
    assert "test.first" in report.ran and "test.second" in report.ran
    assert report.failed["test.broken"] == "RuntimeError: disk on fire"
    first = ModuleState.objects.get(name="test.first")
    assert first.runs == 1 and first.items == 1 and first.last_finished_at == T0
    broken = ModuleState.objects.get(name="test.broken")
    assert broken.runs == 0 and "disk on fire" in broken.last_error
    with clock.frozen(T0 + timedelta(seconds=2)):
        run_cycle()
    assert ModuleState.objects.get(name="test.second").items == 4


@pytest.mark.django_db
def test_once_a_module_has_run_its_state_costs_one_query_a_cycle(probe_modules: list[str]) -> None:
    """An idle engine's own bookkeeping: one write per module and cycle, not a look-up and a write."""
    run_cycle()
    with CaptureQueriesContext(connection) as queries:
        run_cycle()
    state = [query["sql"] for query in queries if ModuleState._meta.db_table in query["sql"]]
    assert len(state) == len(registry.modules()), state
    assert all(sql.startswith("UPDATE") for sql in state)


@pytest.mark.django_db
def test_autoclose_closes_only_incidents_resolved_long_enough(world: World, settings: object) -> None:
    settings.WARROOM_AUTOCLOSE_DAYS = 7  # type: ignore[attr-defined]
    with clock.frozen(T0):
        old = services.declare_incident(actor=world.bob, source="web", title="Old one", team=world.team_a)
        services.transition_incident(
            incident=old,
            actor=world.bob,
            source="web",
            to="resolved",
            resolution_code="permanent_fix",
            resolution_notes="Rolled back.",
        )
    with clock.frozen(T0 + timedelta(days=5)):
        recent = services.declare_incident(actor=world.bob, source="web", title="Recent", team=world.team_a)
        services.transition_incident(
            incident=recent,
            actor=world.bob,
            source="web",
            to="resolved",
            resolution_code="workaround",
            resolution_notes="Restarted.",
        )
    registry.discover()
    with clock.frozen(T0 + timedelta(days=7, minutes=1)):
        report = run_cycle()
    assert report.items["incidents.autoclose"] == 1
    assert Incident.objects.get(pk=old.pk).state == "closed"
    assert Incident.objects.get(pk=recent.pk).state == "resolved"
    entry = TimelineEntry.objects.filter(incident=old).last()
    assert entry is not None and entry.source == "engine" and entry.actor is None
    assert "closed automatically" in entry.message
    # Idempotent: the next cycle has nothing left to do.
    with clock.frozen(T0 + timedelta(days=7, minutes=2)):
        assert run_cycle().items["incidents.autoclose"] == 0


@pytest.mark.django_db
def test_autoclose_zero_days_turns_it_off(world: World, settings: object) -> None:
    settings.WARROOM_AUTOCLOSE_DAYS = 0  # type: ignore[attr-defined]
    with clock.frozen(T0):
        incident = services.declare_incident(actor=world.bob, source="web", title="Keep", team=world.team_a)
        services.transition_incident(
            incident=incident,
            actor=world.bob,
            source="web",
            to="resolved",
            resolution_code="permanent_fix",
            resolution_notes="Done.",
        )
    registry.discover()
    with clock.frozen(T0 + timedelta(days=400)):
        run_cycle()
    assert Incident.objects.get(pk=incident.pk).state == "resolved"


@pytest.mark.django_db
def test_engine_once_command(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("warroom_engine", "--once")
    out = capsys.readouterr().out
    assert "incidents.autoclose" in out
    assert ModuleState.objects.filter(name="incidents.autoclose", runs=1).exists()
