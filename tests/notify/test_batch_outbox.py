"""``notify.Batch``, the batch form of ``enqueue`` the escalation step uses: for the same request it writes the same
outbox rows as ``enqueue`` (rungs, due times, notes, dedup keys) and gives the same reasons for the rules that
produce nothing, whoever is deactivated, unverified or disabled."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.conftest import World
from tests.notify.conftest import verified
from tests.notify.receivers import FakeTwilio, Inbox
from tests.notify.test_services import ladder
from warroom.lib import clock
from warroom.notify import services
from warroom.notify.models import Message

pytestmark = pytest.mark.django_db

SAME = [
    f.attname
    for f in Message._meta.concrete_fields
    if f.attname not in ("id", "dedup_key", "delivery_id", "created_at")
]


def _request(world: World, key: str, urgency: str = "high") -> dict[str, Any]:
    return {
        "user": world.bob,
        "urgency": urgency,
        "subject": "  INC0000042   Checkout returns 500 ",
        "body": "Checkout is down.",
        "context": {"url": "https://warroom.example.com/incidents/42/", "priority": 1},
        "dedup_key": key,
        "group": "incident:42",
        "start": clock.now() + timedelta(seconds=30),
    }


def _rows(key: str) -> list[dict[str, Any]]:
    return list(
        Message.objects.filter(dedup_key__startswith=f"{key}|").order_by("due_at", "id").values(*SAME)
    )


def test_a_batch_writes_the_rows_enqueue_writes(
    world: World, twilio: FakeTwilio, smtp: Inbox, frozen: datetime
) -> None:
    methods = ladder(world, twilio, smtp)
    unverified = services.create_contact_method(
        user=world.bob, kind="sms", name="Spare phone", address="+14155550199", actor=world.bob, source="api"
    ).method
    services.create_rule(
        user=world.bob,
        contact_method=unverified,
        urgency="high",
        delay_minutes=1,
        actor=world.bob,
        source="api",
    )
    for urgency in ("high", "low"):
        single = services.enqueue(**_request(world, f"single-{urgency}", urgency))
        batch = services.Batch()
        batch.prefetch([world.bob.pk, world.alice.pk])
        queued = services.enqueue(**_request(world, f"batch-{urgency}", urgency), into=batch)
        clock.advance(timedelta(seconds=1))
        assert batch.flush() == len(single.messages) == queued.rows
        assert queued.reachable and queued.skipped == single.skipped
        assert _rows(f"batch-{urgency}") == _rows(f"single-{urgency}")
    assert queued.skipped == [] and single.skipped == []
    high = _rows("batch-high")
    assert [(r["contact_method_id"], r["due_at"] - frozen) for r in high] == [
        (methods["email"].pk, timedelta(seconds=30)),
        (methods["sms"].pk, timedelta(minutes=2, seconds=30)),
        (methods["voice"].pk, timedelta(minutes=5, seconds=30)),
    ]
    dedup = set(
        Message.objects.filter(dedup_key__startswith="batch-high|").values_list("dedup_key", flat=True)
    )
    assert dedup == {
        f"batch-high|{m.pk}|{d}"
        for m, d in ((methods["email"], 0), (methods["sms"], 2), (methods["voice"], 5))
    }
    created = set(Message.objects.filter(dedup_key__startswith="batch-").values_list("created_at", flat=True))
    assert created == {frozen + timedelta(seconds=1), frozen + timedelta(seconds=2)}, "stamped when flushed"


def test_a_batch_gives_enqueues_reasons_for_nobody(world: World, smtp: Inbox, twilio: FakeTwilio) -> None:
    email = verified(world.bob, "email", "bob@example.com", name="Email")
    services.update_contact_method(method=email, disabled=True, actor=world.bob, source="api")
    batch = services.Batch()
    single = services.enqueue(**_request(world, "k1"))
    queued = services.enqueue(**_request(world, "k2"), into=batch)
    assert not queued.reachable and queued.skipped == single.skipped == [
        "Email: disabled (disabled by its owner)"
    ]
    world.bob.is_active = False
    world.bob.save(update_fields=["is_active"])
    gone = services.enqueue(**_request(world, "k3"), into=batch)
    assert (gone.rows, gone.skipped) == (0, ["Bob Responder is deactivated"])
    assert batch.flush() == 0 and not Message.objects.filter(dedup_key__startswith="k").exists()
