"""Overdue action item reminders, through the notification outbox (engine module ``reviews.reminders``).

Each cycle, every action item that is still open or in progress, has an active owner and was due before today
(UTC) gets **one** reminder per day: an :class:`~warroom.reviews.models.ActionItemReminder` row for (item, day)
— unique in the database — and, in the same transaction, a low-urgency notification to its owner through
:func:`warroom.notify.services.enqueue` (whose dedup key is per item and day as well). Items are taken
``FOR UPDATE SKIP LOCKED`` in batches, so several engines share the work and a crash before commit is simply
redone.
"""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse

from warroom.audit import services as audit
from warroom.notify import services as notify
from warroom.reviews.models import ActionItem, ActionItemReminder
from warroom.reviews.states import OPEN_ITEM_STATES, ActionItemPriority

BATCH = 100
MAX_BATCHES = 20


def run(now: datetime) -> int:
    """Remind the owners of overdue action items once today; returns how many items were reminded."""
    total = 0
    for _ in range(MAX_BATCHES):
        done = remind_batch(now, limit=BATCH)
        total += done
        if done < BATCH:
            break
    return total


def due_for_reminder(day: date) -> list[int]:
    """Ids of the items that would be reminded on ``day`` (for the console and tests; no locks)."""
    return list(_due(day).values_list("pk", flat=True))


def _due(day: date) -> QuerySet[ActionItem]:
    return (
        ActionItem.objects.filter(
            status__in=list(OPEN_ITEM_STATES),
            due_date__lt=day,
            owner__isnull=False,
            owner__is_active=True,
        )
        .exclude(pk__in=ActionItemReminder.objects.filter(day=day).values("action_item_id"))
        .order_by("due_date", "id")
    )


def remind_batch(now: datetime, *, limit: int) -> int:
    day = now.date()
    with transaction.atomic():
        items = list(
            _due(day).select_for_update(skip_locked=True, of=("self",)).select_related("owner")[:limit]
        )
        for item in items:
            _remind(item, day, now)
    return len(items)


def _remind(item: ActionItem, day: date, now: datetime) -> None:
    owner = item.owner
    assert owner is not None  # the query asks for an owner
    late = (day - item.due_date).days if item.due_date else 0
    url = settings.WARROOM_BASE_URL.rstrip("/") + reverse("web:action-item-detail", args=[item.pk])
    result = notify.enqueue(
        user=owner,
        urgency="low",
        subject=f"Overdue action item: {item.title}"[:300],
        body=(
            f"{item.title}\n"
            f"Due {item.due_date:%Y-%m-%d} ({late} day{'s' if late != 1 else ''} ago) · "
            f"priority {ActionItemPriority(item.priority).label} · status {item.get_status_display()}\n"
            f"Mark it done, change its due date, or hand it to someone else: {url}"
        ),
        context={"url": url, "action_item": item.pk},
        dedup_key=f"action-item:{item.pk}:overdue:{day.isoformat()}",
        group=f"action-item:{item.pk}",
    )
    reminder = ActionItemReminder.objects.create(
        action_item=item,
        day=day,
        created_at=now,
        messages=len(result.messages),
        skipped="\n".join(result.skipped),
    )
    audit.record(
        actor=None,
        source="engine",
        action="action_item.remind",
        obj=item,
        after={"day": day.isoformat(), "messages": reminder.messages, "reachable": result.reachable},
    )
