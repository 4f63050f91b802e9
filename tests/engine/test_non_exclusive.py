"""PostgreSQL: a module registered ``exclusive=False`` runs in two engines at the same time (no advisory lock),
while an exclusive one runs in one of them and is skipped by the other."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime

import pytest
from django.db import connection, connections

from warroom.engine import registry
from warroom.engine.loop import CycleReport, _run_module

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL advisory locks (set WARROOM_DATABASE_URL to a PostgreSQL URL)")


@pytest.fixture
def modules() -> Iterator[dict[str, list[str]]]:
    inside: dict[str, list[str]] = {"shared": [], "exclusive": []}
    both = threading.Barrier(2)

    @registry.module("test.shared", order=1, exclusive=False)
    def shared(now: datetime) -> int:
        inside["shared"].append(threading.current_thread().name)
        both.wait(timeout=10)  # breaks (and fails the module) unless both engines are inside at once
        return 1

    @registry.module("test.exclusive", order=2)
    def exclusive(now: datetime) -> int:
        inside["exclusive"].append(threading.current_thread().name)
        time.sleep(1.0)
        return 1

    yield inside
    registry.unregister("test.shared")
    registry.unregister("test.exclusive")


def test_a_non_exclusive_module_runs_in_two_engines_at_once(modules: dict[str, list[str]]) -> None:
    mods = {m.name: m for m in registry.modules()}
    assert mods["test.shared"].exclusive is False and mods["test.exclusive"].exclusive is True
    reports = {"a": CycleReport(), "b": CycleReport()}
    start = threading.Barrier(2)

    def engine(name: str, module: str) -> None:
        try:
            start.wait(timeout=10)
            _run_module(mods[module], reports[name])
        finally:
            connections.close_all()

    for module in ("test.shared", "test.exclusive"):
        threads = [threading.Thread(target=engine, args=(n, module), name=n) for n in ("a", "b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert sorted(modules["shared"]) == ["a", "b"]
    assert all("test.shared" in r.ran and "test.shared" not in r.failed for r in reports.values())
    assert len(modules["exclusive"]) == 1, "the advisory lock lets one engine run it"
    skipped = [n for n, r in reports.items() if "test.exclusive" in r.skipped]
    assert len(skipped) == 1 and skipped[0] not in modules["exclusive"]
