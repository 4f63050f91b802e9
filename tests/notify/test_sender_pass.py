"""A sending pass is bounded in time: past ``PASS_SECONDS`` it takes no new batch and returns ``registry.More``, so
the engine runs its next cycle at once (escalation first) and the pass carries on there; nothing is lost or sent
twice on the way."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pytest

from tests.conftest import World
from tests.notify.conftest import verified
from tests.notify.receivers import Receiver
from warroom.engine.registry import More
from warroom.lib import clock
from warroom.notify import sender, services
from warroom.notify.models import Category, Message, Status

pytestmark = pytest.mark.django_db


def test_a_pass_past_its_time_stops_after_the_batch_and_says_so(
    world: World, frozen: datetime, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    verified(world.bob, "webhook", receiver.url("/bob"), name="Hook")
    verified(world.alice, "webhook", receiver.url("/alice"), name="Hook")
    assert not isinstance(sender.run(clock.now()), More)  # the verification messages, cancelled
    for user in (world.bob, world.alice):
        services.enqueue(user=user, urgency="high", subject="Checkout down", dedup_key=f"k{user.pk}")
    monkeypatch.setattr(sender, "BATCH", 1)  # one destination per batch
    monkeypatch.setattr(sender, "PASS_SECONDS", 0.0)  # every batch is past the pass's time
    first = sender.run(clock.now())
    assert isinstance(first, More) and first == 1 and len(receiver.requests) == 1
    second = sender.run(clock.now())
    assert isinstance(second, More) and len(receiver.requests) == 2
    last = sender.run(clock.now())
    assert last == 0 and not isinstance(last, More)
    paths = Counter(r.path for r in receiver.requests)
    assert paths == {"/bob": 1, "/alice": 1}
    notifications = Message.objects.filter(category=Category.NOTIFICATION)
    assert set(notifications.values_list("status", flat=True)) == {Status.SENT}


def test_a_pass_within_its_time_sends_everything_due(
    world: World, frozen: datetime, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    verified(world.bob, "webhook", receiver.url("/bob"), name="Hook")
    verified(world.alice, "webhook", receiver.url("/alice"), name="Hook")
    sender.run(clock.now())
    for user in (world.bob, world.alice):
        services.enqueue(user=user, urgency="high", subject="Checkout down", dedup_key=f"k{user.pk}")
    monkeypatch.setattr(sender, "BATCH", 1)
    monkeypatch.setattr(sender, "PASS_SECONDS", 60.0)
    moved = sender.run(clock.now())
    assert moved == 2 and not isinstance(moved, More) and len(receiver.requests) == 2
