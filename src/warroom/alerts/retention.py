"""Engine module ``alerts.retention``: the raw event log is kept ``WARROOM_INTAKE_RETENTION_DAYS`` days.

Only handled events go (processed, ignored, rejected); a pending event is never deleted, however old. Alerts and
change events are kept: they are the record. Deletes go in small batches so the module never holds long locks.

The module runs every cycle, so finding that nothing is due must cost next to nothing, however big the log. Events
are numbered in the order they arrive, so the old ones are the lowest ids: a pass first finds the lowest id
received since the cutoff (a walk of the primary key that stops at once when nothing is old) and looks for old
events only below it. Without that bound, "old, handled, lowest ids first" walked the whole primary key whenever
no event was old, which is nearly always (measured: 130-160 ms a cycle with 150,000 events in the log)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from warroom.alerts.models import EventStatus, IntakeEvent
from warroom.engine import registry

BATCH = 1000
MAX_BATCHES = 20


@registry.module("alerts.retention", order=950)
def prune(now: datetime) -> int:
    """Delete handled intake events received before the retention period; returns how many."""
    cutoff = now - timedelta(days=settings.WARROOM_INTAKE_RETENTION_DAYS)
    total = 0
    old = IntakeEvent.objects.filter(received_at__lt=cutoff).exclude(status=EventStatus.PENDING)
    first_recent = (
        IntakeEvent.objects.filter(received_at__gte=cutoff)
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )
    if first_recent is not None:
        # An event that arrived out of order (received before the cutoff, numbered after a recent one) goes
        # once the recent events numbered before it are old too.
        old = old.filter(id__lt=first_recent)
    for _ in range(MAX_BATCHES):
        with transaction.atomic():
            ids = list(old.order_by("id").values_list("id", flat=True)[:BATCH])
            if ids:
                IntakeEvent.objects.filter(pk__in=ids).delete()
        total += len(ids)
        if len(ids) < BATCH:
            break
    return total
