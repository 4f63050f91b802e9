"""``/metrics``: the Prometheus text built from known rows, and who may read it (loopback, or a bearer token)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from tests.alerts.conftest import make_integration
from tests.conftest import World
from tests.smoke_paging.conftest import T0, declare, policy
from tests.smoke_paging.harness import Harness
from warroom.alerts.models import IntakeEvent
from warroom.engine.models import ModuleState
from warroom.lib import clock
from warroom.notify.models import Message, Status
from warroom.oncall.services import StepSpec, TargetSpec
from warroom.paging.models import IncidentEscalation

pytestmark = pytest.mark.django_db

TOKEN = "scrape-token-0123456789abcdef"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def scrape(**extra: Any) -> Any:
    return Client().get("/metrics", **extra)


def test_metrics_report_the_paging_path_from_known_rows(h: Harness, world: World) -> None:
    h.ladder(world.bob, "high", ("webhook", 0), ("email", 10))
    h.ladder(world.alice, "high", ("sms", 0))
    made = policy(world, [StepSpec(5, [TargetSpec("user", world.bob.pk)])])
    incident = declare(world)
    ModuleState.objects.create(
        name="paging.escalate",
        last_started_at=T0,
        last_finished_at=T0 + timedelta(milliseconds=250),
        runs=7,
        items=3,
    )
    ModuleState.objects.create(
        name="notify.send", last_started_at=T0, last_finished_at=T0 + timedelta(seconds=1), runs=2, items=1
    )
    IncidentEscalation.objects.create(
        incident=incident, policy=made, next_at=T0, started_at=T0, updated_at=T0
    )
    IntakeEvent.objects.create(integration=make_integration(world, "webhook").integration, received_at=T0)
    Message.objects.create(
        user=world.alice,
        kind="sms",
        target="+1",
        subject="x",
        dedup_key="f1",
        delivery_id="d1",
        status=Status.FAILED,
        due_at=T0,
        next_attempt_at=T0,
        created_at=T0,
    )
    Message.objects.create(
        user=world.bob,
        kind="webhook",
        target="h",
        subject="y",
        dedup_key="p1",
        delivery_id="d2",
        status=Status.PENDING,
        due_at=T0 - timedelta(seconds=30),
        next_attempt_at=T0 - timedelta(seconds=30),
        created_at=T0,
    )
    Message.objects.create(
        user=world.bob,
        kind="email",
        target="e",
        subject="z",
        dedup_key="p2",
        delivery_id="d3",
        status=Status.PENDING,
        due_at=T0 + timedelta(minutes=10),
        next_attempt_at=T0 + timedelta(minutes=10),
        created_at=T0,
    )
    clock.advance(timedelta(seconds=90))
    response = scrape()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    got = samples(response.content.decode())
    assert got[("warroom_engine_module_duration_seconds", (("module", "paging.escalate"),))] == 0.25
    assert got[("warroom_engine_module_runs_total", (("module", "paging.escalate"),))] == 7
    assert got[("warroom_engine_cycle_seconds", ())] == 1.25
    assert got[("warroom_escalations_due", ())] == 1
    assert got[("warroom_escalation_lag_seconds", ())] == 90
    assert got[("warroom_outbox_messages", (("status", "pending"),))] == 2
    assert got[("warroom_outbox_messages", (("status", "sending"),))] == 0
    assert got[("warroom_outbox_due_messages", ())] == 1
    assert got[("warroom_outbox_oldest_due_age_seconds", ())] == 120
    assert got[("warroom_notify_delivery_failures_total", (("channel", "sms"),))] == 1
    assert got[("warroom_notify_delivery_failures_total", (("channel", "email"),))] == 0
    assert got[("warroom_intake_pending_events", ())] == 1
    assert got[("warroom_intake_oldest_pending_age_seconds", ())] == 90


def test_empty_database_gives_zeros(db: None) -> None:
    got = samples(scrape().content.decode())
    assert got[("warroom_escalation_lag_seconds", ())] == 0
    assert got[("warroom_outbox_oldest_due_age_seconds", ())] == 0
    assert got[("warroom_intake_pending_events", ())] == 0


def test_without_a_token_only_direct_loopback_callers_are_answered(db: None) -> None:
    assert scrape(REMOTE_ADDR="127.0.0.1").status_code == 200
    assert scrape(REMOTE_ADDR="::1").status_code == 200
    assert scrape(REMOTE_ADDR="10.1.2.3").status_code == 403
    assert scrape(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 403, (
        "via a proxy"
    )
    assert Client().post("/metrics").status_code == 405


def test_with_a_token_every_caller_needs_it(db: None, settings: Any) -> None:
    settings.WARROOM_METRICS_TOKEN = TOKEN
    refused = scrape(REMOTE_ADDR="127.0.0.1")
    assert refused.status_code == 401 and refused["WWW-Authenticate"].startswith("Bearer")
    assert (
        scrape(REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION="Bearer wrong-token-0123456789").status_code == 401
    )
    assert scrape(REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
