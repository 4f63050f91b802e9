"""PostgreSQL: two ``comms.deliver`` senders running at once never send one delivery twice.

Each sender runs the module's body in its own thread and connection (not the engine loop, whose advisory lock
would make an exclusive module take turns: ``comms.deliver`` is non-exclusive), against 60 due deliveries to 12
webhooks on one real receiver. Every delivery id arrives exactly once and every row ends ``sent`` after one
attempt. On SQLite the database has one writer, so the race cannot happen the same way: skipped there."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection, connections

from tests.comms.conftest import deliver
from tests.conftest import make_world
from tests.notify.receivers import Receiver
from warroom.comms import outbox, services
from warroom.comms.models import Delivery, DeliveryStatus, Subscription
from warroom.engine import registry
from warroom.incidents import services as incidents
from warroom.lib import clock

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SENDERS = 2
HOOKS = 12
UPDATES = 5


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks (set WARROOM_DATABASE_URL to a PostgreSQL URL)")


def test_the_sender_module_is_not_exclusive() -> None:
    registry.discover()
    assert next(m for m in registry.modules() if m.name == "comms.deliver").exclusive is False


def test_two_senders_never_send_the_same_delivery_twice(receiver: Receiver) -> None:
    world = make_world()
    incident = incidents.declare_incident(
        actor=world.alice,
        source="system",
        title="Checkout down",
        team=world.team_a,
        services=[world.service_a],
    )
    # Subscriptions take https URLs only; these rows stand for subscribers whose webhooks the receiver plays
    # (plain http on 127.0.0.1, which the outbox itself accepts).
    for number in range(HOOKS):
        Subscription.objects.create(
            kind="webhook",
            address=receiver.url(f"/hook/{number}"),
            secret={"signing_secret": f"whsec_test_{number:02d}_0123456789"},
            team=world.team_a,
            created_by=world.bob,
            created_at=clock.now(),
        )
    for number in range(UPDATES):
        services.post_update(
            incident=incident,
            status="investigating",
            message=f"Update {number}",
            audience="internal",
            actor=world.alice,
            source="api",
        )
    assert Delivery.objects.filter(status=DeliveryStatus.PENDING).count() == HOOKS * UPDATES
    barrier = threading.Barrier(SENDERS)
    failures: list[BaseException] = []
    original_batch = outbox.BATCH

    def run_sender() -> None:
        try:
            barrier.wait(timeout=20)
            while deliver():
                pass
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            connections.close_all()

    outbox.BATCH = 7  # small batches, so the senders interleave
    try:
        threads = [threading.Thread(target=run_sender) for _ in range(SENDERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        outbox.BATCH = original_batch
    assert not failures, failures
    received = Counter(r.headers["warroom-delivery-id"] for r in receiver.requests)
    assert len(received) == HOOKS * UPDATES
    assert [d for d, n in received.items() if n > 1] == []
    rows = Delivery.objects.all()
    assert set(rows.values_list("status", flat=True)) == {DeliveryStatus.SENT}
    assert set(rows.values_list("attempts", flat=True)) == {1}
