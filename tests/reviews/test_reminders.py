"""Overdue action items remind their owner through the notification outbox, exactly once per item per day,
however often the engine runs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.conftest import World
from tests.notify.conftest import verified
from tests.reviews.conftest import postmortem_of
from warroom.engine import registry
from warroom.engine.loop import run_cycle
from warroom.lib import clock
from warroom.notify.models import Category, Message
from warroom.reviews import reminders, services
from warroom.reviews.models import ActionItem, ActionItemReminder

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)


def _reminders_to(user_id: int) -> list[Message]:
    return list(
        Message.objects.filter(
            user_id=user_id, category=Category.NOTIFICATION, dedup_key__startswith="action-item:"
        ).order_by("id")
    )


@pytest.fixture
def items(world: World) -> dict[str, ActionItem]:
    verified(world.bob, "webhook", "https://hooks.example.com/bob")
    verified(world.alice, "webhook", "https://hooks.example.com/alice")
    pm = postmortem_of(world)

    def item(title: str, **fields: object) -> ActionItem:
        return services.create_action_item(
            actor=world.alice, source="test", title=title, postmortem=pm, **fields
        )

    return {
        "overdue": item("Alert on crash loops", owner=world.bob, due_date=date(2026, 3, 6)),
        "due_today": item("Rename the setting back", owner=world.bob, due_date=date(2026, 3, 9)),
        "done": item("Roll back", owner=world.bob, due_date=date(2026, 3, 2)),
        "no_owner": item("Write the runbook", due_date=date(2026, 3, 1)),
        "alice": item("Review pool sizes", owner=world.alice, due_date=date(2026, 3, 8), priority=1),
    }


def test_once_per_item_per_day(world: World, items: dict[str, ActionItem]) -> None:
    services.update_action_item(item=items["done"], actor=world.bob, source="test", status="done")
    registry.discover()
    with clock.frozen(MONDAY):
        assert sorted(reminders.due_for_reminder(MONDAY.date())) == sorted(
            [items["overdue"].pk, items["alice"].pk]
        )
        report = run_cycle()
        assert not report.failed, report.failed
        assert report.items["reviews.reminders"] == 2
        # Engine cycles later the same day remind nobody again.
        for _ in range(3):
            clock.advance(timedelta(hours=4))
            again = run_cycle()
            assert again.items["reviews.reminders"] == 0
    bob_messages = _reminders_to(world.bob.pk)
    assert len(bob_messages) == 1
    message = bob_messages[0]
    assert message.subject == "Overdue action item: Alert on crash loops"
    assert message.urgency == "low"
    assert "Due 2026-03-06 (3 days ago)" in message.body
    assert message.context["url"].endswith(f"/action-items/{items['overdue'].pk}/")
    assert len(_reminders_to(world.alice.pk)) == 1
    assert ActionItemReminder.objects.count() == 2

    # The next day: one more each, including the item that was due on Monday.
    with clock.frozen(MONDAY + timedelta(days=1)):
        assert run_cycle().items["reviews.reminders"] == 3
        assert run_cycle().items["reviews.reminders"] == 0
    assert len(_reminders_to(world.bob.pk)) == 3
    assert ActionItemReminder.objects.filter(action_item=items["overdue"]).count() == 2

    # Done items stop reminding.
    services.update_action_item(item=items["overdue"], actor=world.bob, source="test", status="done")
    with clock.frozen(MONDAY + timedelta(days=2)):
        assert run_cycle().items["reviews.reminders"] == 2
    assert ActionItemReminder.objects.filter(action_item=items["overdue"]).count() == 2


def test_a_redone_batch_inserts_nothing_twice(world: World, items: dict[str, ActionItem]) -> None:
    """The outbox's dedup key is per item and day too: calling the module body again (as after a crash between
    the outbox insert and the reminder row, which share one transaction anyway) pages nobody twice."""
    with clock.frozen(MONDAY):
        assert reminders.run(MONDAY) == 3  # bob's two overdue items and alice's
        ActionItemReminder.objects.all().delete()  # as if the reminder rows were lost
        assert reminders.run(MONDAY) == 3
    assert len(_reminders_to(world.bob.pk)) == 2 and len(_reminders_to(world.alice.pk)) == 1


def test_an_owner_nobody_can_reach_is_recorded(world: World) -> None:
    pm = postmortem_of(world)
    item = services.create_action_item(
        actor=world.alice,
        source="test",
        title="Unreachable",
        owner=world.dave,
        postmortem=pm,
        due_date=date(2026, 3, 1),
    )
    with clock.frozen(MONDAY):
        assert reminders.run(MONDAY) == 1
        assert reminders.run(MONDAY) == 0
    reminder = ActionItemReminder.objects.get(action_item=item)
    assert reminder.messages == 0
    assert "has no low-urgency notification rules" in reminder.skipped
