"""Engine module ``alerts.retention``: the raw event log is kept ``WARROOM_INTAKE_RETENTION_DAYS`` days.

Only handled events go (processed, ignored, rejected); a pending event is never deleted, however old. Alerts and
change events are kept: they are the record. Deletes go in small batches so the module never holds long locks."""

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
    for _ in range(MAX_BATCHES):
        with transaction.atomic():
            ids = list(
                IntakeEvent.objects.filter(received_at__lt=cutoff)
                .exclude(status=EventStatus.PENDING)
                .order_by("id")
                .values_list("id", flat=True)[:BATCH]
            )
            if ids:
                IntakeEvent.objects.filter(pk__in=ids).delete()
        total += len(ids)
        if len(ids) < BATCH:
            break
    return total
