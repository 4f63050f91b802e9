"""Writers wake the engine (PostgreSQL ``NOTIFY``): an intake event is deduplicated and grouped, and a new
incident's escalation starts, right after the commit instead of at the engine's next cycle. A wake-up runs the
modules registered with ``wake=True``; every module still runs at the interval."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Iterator
from types import SimpleNamespace
from typing import Any

import psycopg
import pytest
from django.db import connection, connections

from tests.alerts.conftest import Hooked, make_integration, pd_trigger, post
from tests.alerts.test_fastpath import DjangoStandIn, wsgi
from tests.conftest import World, make_world
from tests.paging.conftest import declare, make_policy, user_steps
from warroom.alerts.fastpath import GroupCommitter, IntakeDispatcher
from warroom.alerts.intake import PROCESS
from warroom.alerts.models import Alert, IntakeEvent
from warroom.engine import loop, registry, wake
from warroom.engine.loop import CycleReport, Engine
from warroom.engine.models import ModuleState
from warroom.paging.models import IncidentEscalation


def test_the_modules_that_wake_are_the_intake_and_paging_chain() -> None:
    registry.discover()
    assert [m.name for m in registry.modules() if m.wake] == [
        "alerts.process",
        "paging.escalate",
        "notify.send",
    ]


def test_a_wake_up_runs_the_waking_modules_at_once_and_every_module_at_the_interval(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(loop, "close_old_connections", lambda: None)
    monkeypatch.setattr(loop, "connection", SimpleNamespace(close=lambda: None))
    engine = Engine(interval=30.0)
    cycles: list[tuple[str, ...]] = []
    waits: list[float] = []

    def cycle(*, woken: Collection[str] = ()) -> CycleReport:
        cycles.append(tuple(sorted(woken)))
        return CycleReport()

    def listen(seconds: float, stop: threading.Event, *, then: float = 0.0) -> set[str]:
        waits.append(seconds)
        if len(waits) == 3:
            engine.stop()
        return {"alerts.process"} if len(waits) < 3 else set()  # woken twice, then the interval passes

    monkeypatch.setattr(loop, "run_cycle", cycle)
    monkeypatch.setattr(engine.listener, "wait", listen)
    began = time.monotonic()
    engine.run_forever()
    assert cycles == [(), ("alerts.process",), ("alerts.process",)]  # a full cycle, then two wake-ups
    assert all(25 < seconds <= 30 for seconds in waits)  # each wait ends at the next full cycle
    assert time.monotonic() - began < 10


@pytest.fixture
def chain() -> Iterator[list[str]]:
    ran: list[str] = []
    moves = {"test.a": 1, "test.b": 0, "test.c": 5}
    for order, name in enumerate(moves, start=1):

        def run(now: Any, name: str = name) -> int:
            ran.append(name)
            return moves[name]

        registry.module(name, order=order, wake=True)(run)
    yield ran
    for name in moves:
        registry.unregister(name)


@pytest.mark.django_db
def test_a_wake_up_runs_the_named_module_and_the_next_ones_while_they_find_work(chain: list[str]) -> None:
    report = loop.run_cycle(woken={"test.a"})
    assert chain == ["test.a", "test.b"]  # test.b moved nothing: the chain stops before test.c
    assert "alerts.process" not in report.ran  # a waking module, but neither named nor reached
    assert not ModuleState.objects.filter(name="test.b").exists()  # a wake-up's idle run is not written
    chain.clear()
    loop.run_cycle(woken={"test.c"})
    assert chain == ["test.c"]
    chain.clear()
    loop.run_cycle()
    assert chain == ["test.a", "test.b", "test.c"]  # a full cycle runs every module
    assert ModuleState.objects.get(name="test.b").runs == 1


# ---------------------------------------------------------------------------------------------------------------
# PostgreSQL: real notifications between a writer and an engine thread


@pytest.fixture
def postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("wake-ups are PostgreSQL notifications (set WARROOM_DATABASE_URL to a PostgreSQL URL)")


@pytest.fixture
def committed_world(
    postgres: None, django_db_serialized_rollback: None, transactional_db: None
) -> Iterator[tuple[World, Hooked]]:
    world = make_world()
    yield world, make_integration(world, "pagerduty", rate_limit_per_minute=0)


@pytest.fixture
def engine() -> Iterator[Engine]:
    """An engine thread whose interval (60 s) is far longer than any wait below: only a wake-up runs it again."""
    running = Engine(interval=60.0)

    def run() -> None:
        try:
            running.run_forever()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, name="test-engine", daemon=True)
    thread.start()
    _until(lambda: running.cycles >= 1, "the engine's first cycle")
    time.sleep(0.3)  # it is waiting now
    yield running
    running.stop()
    thread.join(timeout=30)


def _until(check: Callable[[], Any], what: str, timeout: float = 15.0) -> float:
    began = time.monotonic()
    while not check():
        assert time.monotonic() - began < timeout, f"waited {timeout} s for {what}"
        time.sleep(0.05)
    return time.monotonic() - began


def _runs(name: str) -> int:
    return ModuleState.objects.get(name=name).runs


def test_an_intake_event_is_grouped_right_after_its_commit(
    committed_world: tuple[World, Hooked], engine: Engine
) -> None:
    _, pd = committed_world
    sla_runs = _runs("incidents.sla")
    assert post("/v2/enqueue", pd_trigger(pd.key, "woken/1")).status_code == 202
    took = _until(
        lambda: Alert.objects.filter(dedup_key="woken/1", incident__isnull=False).exists(), "the alert"
    )
    assert took < 10  # the next full cycle is a minute away
    assert _runs("incidents.sla") == sla_runs  # only the waking modules ran


def test_a_declared_incident_starts_its_escalation_at_once(
    committed_world: tuple[World, Hooked], engine: Engine
) -> None:
    world, _ = committed_world
    make_policy(world, user_steps([world.alice]))
    incident = declare(world)
    took = _until(lambda: IncidentEscalation.objects.filter(incident=incident).exists(), "the escalation")
    assert took < 10  # the next full cycle is a minute away


def test_the_group_commits_wake_ups_are_throttled_and_the_last_is_never_lost(
    postgres: None, django_db_serialized_rollback: None, transactional_db: None
) -> None:
    """Many commits in a burst send one notification at once and one when the burst is over."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    with psycopg.connect(**params, autocommit=True) as listener:
        listener.execute(f"LISTEN {wake.CHANNEL}")
        throttle = wake.Throttle("alerts.process", every=0.2)
        for _ in range(20):
            throttle.committed()  # within 0.2 s of each other: the first notifies, the rest are owed
        owed = throttle.due()
        assert owed is not None and 0 < owed <= 0.2
        first = list(listener.notifies(timeout=1, stop_after=5))
        time.sleep(owed)
        assert throttle.due() == 0
        throttle.send()
        assert throttle.due() is None
        second = list(listener.notifies(timeout=1, stop_after=5))
    assert [(n.channel, n.payload) for n in first] == [(wake.CHANNEL, "alerts.process")]
    assert [(n.channel, n.payload) for n in second] == [(wake.CHANNEL, "alerts.process")]


def _listening() -> psycopg.Connection[Any]:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    listener = psycopg.connect(**params, autocommit=True)
    listener.execute(f"LISTEN {wake.CHANNEL}")
    return listener


def test_refused_events_do_not_wake_the_engine_and_accepted_ones_do(
    committed_world: tuple[World, Hooked],
) -> None:
    """A sender whose every event is refused (logged as rejected, nothing to process) costs the engine no cycle,
    through Django's views as through the intake fast path; an accepted event wakes it."""
    _, pd = committed_world
    invalid = {"routing_key": pd.key, "event_action": "trigger", "payload": {"summary": "no source"}}
    committer = GroupCommitter(gather=0)
    app = IntakeDispatcher(DjangoStandIn(), committer)
    with _listening() as listener:
        try:
            assert post("/v2/enqueue", invalid).status_code == 400
            assert wsgi(app, "POST", "/v2/enqueue", invalid)[0] == 400
            assert list(listener.notifies(timeout=1, stop_after=1)) == []
            assert wsgi(app, "POST", "/v2/enqueue", pd_trigger(pd.key, "fast/1"))[0] == 202
            fast = list(listener.notifies(timeout=2, stop_after=1))
            assert post("/v2/enqueue", pd_trigger(pd.key, "django/1")).status_code == 202
            django = list(listener.notifies(timeout=2, stop_after=1))
        finally:
            committer.close()
    assert [n.payload for n in fast] == [PROCESS] and [n.payload for n in django] == [PROCESS]
    assert set(IntakeEvent.objects.values_list("status", flat=True)) == {"rejected", "pending"}
