"""A module that stops with due work left returns ``registry.More``: the cycle reports it and the engine starts its
next cycle at once instead of waiting out the interval (so the modules before it, escalation before sending, get
their turn between two of its passes)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from warroom.engine import loop, registry
from warroom.engine.loop import CycleReport, Engine, run_cycle
from warroom.engine.models import ModuleState
from warroom.lib import clock

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def no_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """The loop around stubbed cycles: nothing to open or close."""
    monkeypatch.setattr(loop, "close_old_connections", lambda: None)
    monkeypatch.setattr(loop, "connection", SimpleNamespace(close=lambda: None))


@pytest.fixture
def busy_module() -> Iterator[list[int]]:
    left = [3]

    @registry.module("test.busy", order=10, exclusive=False)
    def busy(now: datetime) -> int:
        left[0] -= 1
        return registry.More(5) if left[0] > 0 else 2

    yield left
    registry.unregister("test.busy")


@pytest.mark.django_db
def test_a_module_with_work_left_is_reported_and_counted(busy_module: list[int]) -> None:
    with clock.frozen(T0):
        first = run_cycle()
        assert first.more == ["test.busy"] and first.items["test.busy"] == 5
        assert type(first.items["test.busy"]) is int
        run_cycle()
        last = run_cycle()
    assert last.more == [] and last.items["test.busy"] == 2
    state = ModuleState.objects.get(name="test.busy")
    assert state.runs == 3 and state.items == 12


def test_the_engine_starts_the_next_cycle_at_once_after_work_left(
    monkeypatch: pytest.MonkeyPatch, no_database: None
) -> None:
    engine = Engine(interval=30.0)
    reports = [CycleReport(more=["test.busy"]), CycleReport(more=["test.busy"]), CycleReport()]
    started: list[float] = []

    def cycle(*, woken: bool = False) -> CycleReport:
        started.append(time.monotonic())
        report = reports[len(started) - 1]
        if len(started) == len(reports):
            engine.stop()
        return report

    monkeypatch.setattr(loop, "run_cycle", cycle)
    began = time.monotonic()
    engine.run_forever()
    assert engine.cycles == 3
    assert time.monotonic() - began < 10, "no 30 s wait after a cycle that left work"


def test_the_engine_waits_out_the_interval_after_a_cycle_without_work_left(
    monkeypatch: pytest.MonkeyPatch, no_database: None
) -> None:
    engine = Engine(interval=0.5)
    started: list[float] = []

    def cycle(*, woken: bool = False) -> CycleReport:
        started.append(time.monotonic())
        if len(started) == 2:
            engine.stop()
        return CycleReport()

    monkeypatch.setattr(loop, "run_cycle", cycle)
    engine.run_forever()
    assert len(started) == 2 and started[1] - started[0] >= 0.45
