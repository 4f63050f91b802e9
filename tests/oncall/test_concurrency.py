"""Two people changing one schedule at once (PostgreSQL: real row locks).

Changes to a schedule's layers and overrides lock the schedule row first, so checks that read other rows
(the next free priority, an override already replacing the same person) cannot both pass. On SQLite every
writer is serialised anyway: these tests are skipped there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections
from django.http import HttpResponse

from tests.api.conftest import Clients
from tests.conftest import World
from warroom.accounts.models import User
from warroom.oncall.models import Layer, Override, Schedule

# serialized_rollback: the flush after a transactional test would drop the rows the migrations seed.
pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks; SQLite serialises all writers")


def race(calls: list[Callable[[], HttpResponse]]) -> list[tuple[int, dict[str, Any]]]:
    """Run ``calls`` in threads released together; (status, json) of each, in call order."""
    barrier = threading.Barrier(len(calls))
    results: list[tuple[int, dict[str, Any]] | None] = [None] * len(calls)
    failures: list[BaseException] = []

    def run(index: int, call: Callable[[], HttpResponse]) -> None:
        try:
            barrier.wait(timeout=10)
            response = call()
            results[index] = (response.status_code, response.json())
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not failures, failures
    return [r for r in results if r is not None]


def test_two_overrides_replacing_one_person_at_once_give_one_winner(
    api: Clients, world: World, layer: Layer, erin: User
) -> None:
    url = f"/schedules/{layer.schedule_id}/overrides"
    body = {"replaces": world.alice.pk, "start": "2026-03-04T00:00Z", "end": "2026-03-05T00:00Z"}
    results = race(
        [
            lambda: api.alice.post(url, {**body, "user": world.bob.pk}),
            lambda: api.olivia.post(url, {**body, "user": erin.pk}),
        ]
    )
    assert sorted(status for status, _ in results) == [201, 409]
    assert Override.objects.count() == 1


def test_two_layers_added_at_once_get_distinct_priorities(
    api: Clients, world: World, schedule: Schedule
) -> None:
    url = f"/schedules/{schedule.pk}/layers"
    body = {"start": "2026-03-01T09:00", "participants": [world.alice.pk]}
    results = race(
        [
            lambda: api.alice.post(url, {**body, "name": "One"}),
            lambda: api.olivia.post(url, {**body, "name": "Two"}),
        ]
    )
    assert [status for status, _ in results] == [201, 201]
    assert sorted(Layer.objects.values_list("priority", flat=True)) == [1, 2]
