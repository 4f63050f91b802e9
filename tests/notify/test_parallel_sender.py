"""Parallel sending: a leased batch goes out through the thread pool and each result is recorded once; a crash
after some sends of a parallel batch resends webhooks with the same delivery id and never an SMS."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.conftest import World
from tests.notify import receivers
from tests.notify.conftest import verified
from tests.notify.receivers import FakeTwilio, Receiver
from warroom.lib import clock
from warroom.notify import sender, services
from warroom.notify.models import Category, DeliveryAttempt, Failure, Message, Outcome, Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(loopback_allowed: None, monkeypatch: Any) -> Iterator[Receiver]:
    """The test receiver with a listen backlog a parallel sender does not overflow (the default is 5)."""
    monkeypatch.setattr(receivers._Server, "request_queue_size", 128)
    with receivers.running(Receiver()) as server:
        yield server


def _page(user: Any, key: str) -> None:
    services.enqueue(
        user=user, urgency="high", subject=f"Incident {key}", dedup_key=key, group=f"incident:{key}"
    )


def test_a_parallel_batch_records_each_result_once(
    world: World, frozen: datetime, receiver: Receiver
) -> None:
    verified(world.bob, "webhook", receiver.url("/bob"), name="Hook")
    verified(world.alice, "webhook", receiver.url("/alice"), name="Hook")
    sender.run(clock.now())
    for n in range(15):
        _page(world.bob, f"b{n}")
        _page(world.alice, f"a{n}")
    leased, _ = sender.lease(clock.now())
    assert len(leased) == 30
    assert sender.deliver(leased) is True
    errors = list(Message.objects.exclude(last_error="").values_list("last_error", flat=True))
    assert not errors, errors
    ids = Counter(r.headers["warroom-delivery-id"] for r in receiver.requests)
    assert len(ids) == 30 and set(ids.values()) == {1}
    messages = Message.objects.filter(category=Category.NOTIFICATION)
    assert {(m.status, m.attempts) for m in messages} == {(Status.SENT, 1)}
    outcomes = Counter(DeliveryAttempt.objects.filter(message__in=messages).values_list("outcome", flat=True))
    assert outcomes == {Outcome.SENT: 30}
    assert sender.run(clock.now()) == 0 and len(receiver.requests) == 30


def test_crash_after_some_sends_of_a_parallel_batch(
    world: World, frozen: datetime, receiver: Receiver, twilio: FakeTwilio, monkeypatch: Any
) -> None:
    """The phones go one by one while the webhooks go in parallel; the process dies after the second SMS went
    out and every webhook arrived, before any of that was recorded."""
    verified(world.bob, "webhook", receiver.url("/bob"), name="Hook")
    verified(world.bob, "sms", "+14155550100", name="Phone")
    verified(world.alice, "sms", "+14155550111", name="Phone")
    sender.run(clock.now())
    for n in range(6):
        _page(world.bob, f"b{n}")  # 6 webhooks and (the SMS throttle) 1 SMS for bob
    _page(world.alice, "a0")
    leased, _ = sender.lease(clock.now())
    assert Counter(i.channel.kind for i in leased) == {"webhook": 6, "sms": 2}
    real_record = sender.record
    calls = []

    def dies_on_second(item: Any, result: Any) -> None:
        calls.append(item)
        if len(calls) == 2:
            deadline = time.monotonic() + 10
            while len(receiver.requests) < 6 and time.monotonic() < deadline:
                time.sleep(0.01)
            raise SystemError("killed")
        real_record(item, result)

    monkeypatch.setattr(sender, "record", dies_on_second)
    monkeypatch.setattr(sender, "record_many", lambda results: (_ for _ in ()).throw(SystemError("killed")))
    with pytest.raises(SystemError):
        sender.deliver(leased)
    monkeypatch.setattr(sender, "record", real_record)
    monkeypatch.undo()
    assert len(twilio.sent) == 2 and len(receiver.requests) == 6
    clock.advance(sender.LEASE + timedelta(seconds=1))
    sender.run(clock.now())
    assert len(twilio.sent) == 2, "no SMS twice"
    ids = Counter(r.headers["warroom-delivery-id"] for r in receiver.requests)
    assert len(ids) == 6 and set(ids.values()) == {2}, "every webhook again, with its own delivery id"
    sms = Message.objects.filter(kind="sms", category=Category.NOTIFICATION).exclude(status=Status.BUNDLED)
    assert sorted((m.status, m.failure) for m in sms) == sorted(
        [(Status.SENT, Failure.NONE), (Status.FAILED, Failure.UNKNOWN)]
    )
    hooks = Message.objects.filter(kind="webhook", category=Category.NOTIFICATION)
    assert {(m.status, m.attempts) for m in hooks} == {(Status.SENT, 2)}
