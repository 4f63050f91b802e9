"""Two people acting at once get one winner and one clear refusal (PostgreSQL: real row locks).

Each test starts two threads that wait at a barrier and then call the API together; each thread closes its own
database connection at the end. On SQLite the whole database has one writer, so these races cannot happen in
the same way: the tests are skipped there (run the suite with WARROOM_DATABASE_URL=postgres://...).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections
from django.http import HttpResponse

from tests.api.conftest import ApiClient, Clients, declare
from tests.conftest import World
from warroom.incidents.models import TimelineEntry

# serialized_rollback: the flush after a transactional test would drop the roles and categories the migrations
# seed; this restores them.
pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SKIP_REASON = (
    "needs PostgreSQL row locks; SQLite serialises all writers (set WARROOM_DATABASE_URL to a PostgreSQL URL)"
)


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip(SKIP_REASON)


def race(calls: list[Callable[[], HttpResponse]]) -> list[tuple[int, dict[str, Any]]]:
    """Run ``calls`` in parallel threads released together; return (status, json) of each, in call order."""
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
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]


def test_two_resolves_at_once_leave_one_winner(api: Clients, world: World) -> None:
    incident = declare(world)
    body = {"to": "resolved", "resolution_code": "workaround", "resolution_notes": "restarted"}
    path = f"/incidents/{incident.ref}/transition"
    clients: list[ApiClient] = [api.alice, api.bob]
    results = race([lambda c=c: c.post(path, body) for c in clients])  # type: ignore[misc]
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 409], results
    loser = next(data for status, data in results if status == 409)
    assert loser["detail"] == f"{incident.ref}: the incident is already Resolved"
    resolves = TimelineEntry.objects.filter(incident=incident, kind="state", new_value="Resolved")
    assert resolves.count() == 1


def test_two_claims_of_incident_commander_leave_one_winner(api: Clients, world: World) -> None:
    incident = declare(world)
    path = f"/incidents/{incident.ref}/roles/incident-commander"
    results = race([lambda: api.alice.put(path, {}), lambda: api.bob.put(path, {})])
    statuses = [status for status, _ in results]
    assert sorted(statuses) == [200, 409], results
    winner = next(data for status, data in results if status == 200)["user"]["name"]
    loser = next(data for status, data in results if status == 409)
    assert loser["detail"] == f"Incident Commander on {incident.ref} is already held by {winner}"
    assert TimelineEntry.objects.filter(incident=incident, kind="role").count() == 1
