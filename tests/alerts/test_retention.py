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


@override_settings(WARROOM_INTAKE_RETENTION_DAYS=30)
def test_an_event_received_out_of_order_goes_once_the_events_numbered_before_it_are_old(pd: Hooked) -> None:
    with clock.frozen(T0):
        post("/v2/enqueue", pd_trigger(pd.key, "old"))
    with clock.frozen(T0 + timedelta(days=20)):
        post("/v2/enqueue", pd_trigger(pd.key, "recent"))
    with clock.frozen(T0):  # a sender's event committed late: numbered after "recent", received before it
        post("/v2/enqueue", pd_trigger(pd.key, "late"))
    with clock.frozen(T0 + timedelta(days=20)):
        cycle()
    assert prune(T0 + timedelta(days=31)) == 1
    assert set(IntakeEvent.objects.values_list("dedup_key", flat=True)) == {"recent", "late"}
    assert prune(T0 + timedelta(days=51)) == 2
    assert not IntakeEvent.objects.exists()
    assert Alert.objects.filter(dedup_key__in=["old", "recent", "late"]).count() == 3


@override_settings(WARROOM_INTAKE_RETENTION_DAYS=30)
def test_a_cycle_with_nothing_old_deletes_nothing(pd: Hooked) -> None:
    with clock.frozen(T0):
        for n in range(5):
            post("/v2/enqueue", pd_trigger(pd.key, f"k{n}"))
        cycle()
    assert prune(T0 + timedelta(days=29)) == 0
    assert IntakeEvent.objects.count() == 5
