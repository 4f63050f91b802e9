"""``lib.bulk.insert_values`` and ``lib.bulk.update_values``, the tuple forms of the bulk helpers the escalation step
writes its outbox rows, pages and timeline lines with: the rows they write are the rows ``bulk_create`` writes
from instances (defaults included), conflicts are skipped only when asked, and names are checked."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from tests.conftest import World
from tests.notify.conftest import verified
from warroom.accounts.models import User
from warroom.lib import bulk
from warroom.notify.models import ContactMethod, Message

pytestmark = pytest.mark.django_db

FIELDS = (
    "user_id",
    "contact_method_id",
    "kind",
    "target",
    "category",
    "urgency",
    "subject",
    "body",
    "context",
    "dedup_key",
    "group",
    "delivery_id",
    "due_at",
    "next_attempt_at",
    "note",
    "created_at",
)
COMPARED = [
    f.attname for f in Message._meta.concrete_fields if f.attname not in ("id", "dedup_key", "delivery_id")
]


def _values(method: ContactMethod, key: str, now: datetime) -> tuple[Any, ...]:
    later = now + timedelta(minutes=5)
    context = {"url": "https://warroom.example.com/incidents/7/", "priority": 1, "nested": {"a": [1, "b"]}}
    return (
        method.user_id,
        method.pk,
        method.kind,
        method.display,
        "notification",
        "high",
        "INC0000007 Checkout down",
        "INC0000007 P1: Checkout down\nYou are paged as Bob.",
        context,
        key,
        "incident:7",
        f"wrd_{key}",
        later,
        later,
        "",
        now,
    )


def _row(key: str) -> dict[str, Any]:
    return Message.objects.filter(dedup_key=key).values(*COMPARED).get()


@pytest.fixture
def method(world: World, frozen: datetime, loopback_allowed: None) -> ContactMethod:
    return verified(world.bob, "webhook", "http://127.0.0.1:9/hook", name="Hook")


def test_insert_values_writes_the_rows_bulk_create_writes(method: ContactMethod, frozen: datetime) -> None:
    values = _values(method, "tuple", frozen)
    bulk.insert_values(Message, FIELDS, [values])
    instance = Message(**dict(zip(FIELDS, _values(method, "instance", frozen), strict=True)))
    Message.objects.bulk_create([instance])
    tupled, made = _row("tuple"), _row("instance")
    assert tupled == made
    # the fields not named took their defaults, as an instance gets them
    assert (tupled["status"], tupled["attempts"], tupled["bundle_count"], tupled["lease_until"]) == (
        "pending",
        0,
        1,
        None,
    )
    assert tupled["context"] == values[8] and tupled["due_at"] == frozen + timedelta(minutes=5)


def test_insert_values_with_and_without_skipping_conflicts(method: ContactMethod, frozen: datetime) -> None:
    bulk.insert_values(Message, FIELDS, [_values(method, "k1", frozen), _values(method, "k2", frozen)])
    again = [_values(method, "k2", frozen), _values(method, "k3", frozen)]
    again[0] = (*again[0][:11], "wrd_other", *again[0][12:])  # the same dedup key, another delivery id
    bulk.insert_values(Message, FIELDS, again, skip_conflicts=True)
    assert sorted(Message.objects.filter(group="incident:7").values_list("dedup_key", flat=True)) == [
        "k1",
        "k2",
        "k3",
    ]
    assert Message.objects.get(dedup_key="k2").delivery_id == "wrd_k2", "the row there first is kept"
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.insert_values(Message, FIELDS, [_values(method, "k1", frozen)])
    bulk.insert_values(Message, FIELDS, [])  # nothing to do


def test_insert_values_checks_the_names(method: ContactMethod, frozen: datetime) -> None:
    row = _values(method, "x", frozen)
    with pytest.raises(ValueError, match="no field user"):
        bulk.insert_values(Message, ("user", *FIELDS[1:]), [row])  # a foreign key by its attribute name only
    with pytest.raises(ValueError, match="no field colour"):
        bulk.insert_values(Message, (*FIELDS, "colour"), [(*row, "red")])
    with pytest.raises(TypeError, match="computes its value when saved"):
        bulk.insert_values(User, ("email",), [("x@example.com",)])  # date_joined is auto_now_add
    assert not Message.objects.filter(dedup_key="x").exists()


def test_update_values_sets_the_named_fields_of_each_row(method: ContactMethod, frozen: datetime) -> None:
    bulk.insert_values(Message, FIELDS, [_values(method, f"u{n}", frozen) for n in range(3)])
    ids = dict(Message.objects.filter(group="incident:7").values_list("dedup_key", "pk"))
    later = frozen + timedelta(hours=1)
    updated = bulk.update_values(
        Message,
        ["status", "note", "lease_until", "next_attempt_at"],
        [
            (ids["u0"], "sending", "leased", later, later),
            (ids["u1"], "cancelled", "", None, frozen),
            (0, "x", "", None, frozen),
        ],
    )
    assert updated == 2
    rows = {m.dedup_key: m for m in Message.objects.filter(group="incident:7")}
    assert (rows["u0"].status, rows["u0"].note, rows["u0"].lease_until) == ("sending", "leased", later)
    assert (rows["u1"].status, rows["u1"].lease_until, rows["u1"].next_attempt_at) == (
        "cancelled",
        None,
        frozen,
    )
    assert (rows["u2"].status, rows["u2"].next_attempt_at) == ("pending", frozen + timedelta(minutes=5))
    assert bulk.update_values(Message, ["note"], []) == 0
