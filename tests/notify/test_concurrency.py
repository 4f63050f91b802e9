"""PostgreSQL: two senders running at once never send one message twice.

Each sender runs the module's body (not the engine loop, whose advisory lock would make them take turns) in its
own thread and connection, against 120 due messages to 12 webhooks (no throttle) on one real receiver. Every
delivery id arrives exactly once, and every message ends ``sent`` with one attempt. On SQLite the database has
one writer, so the race cannot happen the same way: skipped there."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection, connections

from tests.conftest import make_world
from tests.notify.conftest import verified
from tests.notify.receivers import Receiver
from warroom.lib import clock
from warroom.notify import sender, services
from warroom.notify.models import Category, DeliveryAttempt, Message, Status

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SENDERS = 2
HOOKS = 12
PAGES = 10


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks (set WARROOM_DATABASE_URL to a PostgreSQL URL)")


def test_two_senders_never_send_the_same_message_twice(receiver: Receiver) -> None:
    world = make_world()
    for number in range(HOOKS):
        verified(world.bob, "webhook", receiver.url(f"/hook/{number}"), name=f"Hook {number}")
    sender.run(clock.now())  # the verification messages are cancelled (verified already)
    for page in range(PAGES):
        services.enqueue(
            user=world.bob,
            urgency="high",
            subject=f"Page {page}",
            dedup_key=f"page:{page}",
            group=f"incident:{page}",
        )
    assert (
        Message.objects.filter(category=Category.NOTIFICATION, status=Status.PENDING).count() == HOOKS * PAGES
    )
    barrier = threading.Barrier(SENDERS)
    failures: list[BaseException] = []

    def run_sender() -> None:
        try:
            barrier.wait(timeout=20)
            while sender.run(clock.now()):
                pass
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run_sender) for _ in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    received = Counter(r.headers["warroom-delivery-id"] for r in receiver.requests)
    assert len(received) == HOOKS * PAGES
    assert [d for d, n in received.items() if n > 1] == []
    messages = Message.objects.filter(category=Category.NOTIFICATION)
    assert set(messages.values_list("status", flat=True)) == {Status.SENT}
    assert set(messages.values_list("attempts", flat=True)) == {1}
    assert DeliveryAttempt.objects.filter(message__category=Category.NOTIFICATION).count() == HOOKS * PAGES
