"""The raw event log is pruned after the retention period; pending events and alerts stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings

from tests.alerts.conftest import Hooked, cycle, pd_trigger, post
from warroom.alerts.models import Alert, IntakeEvent
from warroom.alerts.retention import prune
from warroom.lib import clock

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@override_settings(WARROOM_INTAKE_RETENTION_DAYS=30)
def test_old_handled_events_go_pending_ones_and_alerts_stay(pd: Hooked) -> None:
    with clock.frozen(T0):
        post("/v2/enqueue", pd_trigger(pd.key, "old"))
        cycle()
        post("/v2/enqueue", pd_trigger(pd.key, "still-pending"))
    with clock.frozen(T0 + timedelta(days=20)):
        post("/v2/enqueue", pd_trigger(pd.key, "recent"))
    assert IntakeEvent.objects.count() == 3
    removed = prune(T0 + timedelta(days=31))
    assert removed == 1
    left = set(IntakeEvent.objects.values_list("dedup_key", "status"))
    assert left == {("still-pending", "pending"), ("recent", "pending")}
    assert Alert.objects.filter(dedup_key="old").exists()
