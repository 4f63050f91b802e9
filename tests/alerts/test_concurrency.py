"""PostgreSQL: a storm of parallel triggers with one dedup key makes exactly one alert.

Each thread waits at a barrier, posts through the real intake view and closes its own connection. On SQLite the
database has one writer, so the race cannot happen the same way: skipped there."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import OperationalError, connection, connections
from django.test import Client

from tests.alerts.conftest import Hooked, cycle, pd_trigger, post
from warroom.alerts.engine import process_batch
from warroom.alerts.models import Alert, IntakeEvent
from warroom.incidents.models import Incident
from warroom.lib import clock

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PARALLEL = 50
SKIP_REASON = (
    "needs PostgreSQL row locks; SQLite serialises all writers (set WARROOM_DATABASE_URL to a PostgreSQL URL)"
)


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip(SKIP_REASON)


def test_fifty_parallel_triggers_with_one_dedup_key_make_one_alert(pd: Hooked) -> None:
    barrier = threading.Barrier(PARALLEL)
    statuses: list[int] = []
    failures: list[BaseException] = []
    body = pd_trigger(pd.key, "storm/one-key")

    def send() -> None:
        try:
            barrier.wait(timeout=20)
            response = Client().post("/v2/enqueue", data=json.dumps(body), content_type="application/json")
            statuses.append(response.status_code)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    assert statuses == [202] * PARALLEL
    assert IntakeEvent.objects.filter(status="pending").count() == PARALLEL

    cycle()
    cycle()
    alert = Alert.objects.get()
    assert alert.count == PARALLEL
    assert Incident.objects.count() == 1
    assert IntakeEvent.objects.filter(status="processed", alert=alert).count() == PARALLEL


def test_two_engines_at_once_process_each_event_once(pd: Hooked) -> None:
    for index in range(300):
        post("/v2/enqueue", pd_trigger(pd.key, f"k{index % 30}"))
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []

    def engine() -> None:
        try:
            barrier.wait(timeout=20)
            cycle()
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=engine) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    cycle()
    assert Alert.objects.count() == 30
    assert sorted(set(Alert.objects.values_list("count", flat=True))) == [10]
    assert Incident.objects.count() == 30
    assert not IntakeEvent.objects.exclude(status="processed").exists()


def test_two_engines_racing_on_the_same_dedup_keys_lose_no_repeat(pd: Hooked) -> None:
    """Below the module lock: two workers run batches side by side, so both meet the same dedup keys, race to
    open the same alert and may deadlock. No trigger may be lost: the loser of the unique index applies its
    event to the winner's alert, and a deadlocked batch is redone, as the engine redoes a failed module."""
    for index in range(200):
        post("/v2/enqueue", pd_trigger(pd.key, f"race{index % 5}"))
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []
    redone: list[str] = []

    def worker() -> None:
        try:
            barrier.wait(timeout=20)
            while IntakeEvent.objects.filter(status="pending").exists():
                try:
                    process_batch(clock.now(), limit=7)
                except OperationalError as exc:
                    redone.append(str(exc).splitlines()[0])
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    assert all("deadlock" in message for message in redone), redone
    assert sorted(Alert.objects.values_list("count", flat=True)) == [40] * 5
    assert IntakeEvent.objects.filter(status="processed").count() == 200
