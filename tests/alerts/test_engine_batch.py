"""The engine's batch path gives exactly what applying the events one by one gives.

Random streams of triggers, acknowledges and resolves (repeats, out-of-order arrival times, gaps longer than a
window, a maintenance window) over integrations with every grouping mode are processed twice from the same
starting point: by the batch path (in small and in large batches) and by the sequential path. Alerts, incidents,
timelines and the event log must come out the same, up to the numbering of rows."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import transaction

from tests.alerts.conftest import make_integration
from tests.conftest import World
from warroom.alerts import engine
from warroom.alerts.models import Alert, IntakeEvent, Integration, MaintenanceWindow
from warroom.engine.registry import More
from warroom.incidents.models import Incident, TimelineEntry
from warroom.lib import bulk, clock

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Rollback(Exception):
    pass


def _integrations(world: World) -> list[Integration]:
    specs: list[tuple[str, dict[str, Any]]] = [
        ("pagerduty", {"name": "one per alert"}),
        ("alertmanager", {"grouping": "group_key", "name": "by group key"}),
        (
            "webhook",
            {"grouping": "window", "window_minutes": 10, "service": world.service_b, "name": "window"},
        ),
        ("webhook", {"grouping": "window", "window_minutes": 5, "name": "short window"}),
        (
            "webhook",
            {"grouping": "fields", "group_fields": ["alertname", "cluster"], "service": world.service_b},
        ),
    ]
    return [make_integration(world, kind, **options).integration for kind, options in specs]


def _stream(seed: int, integrations: list[Integration], count: int) -> list[dict[str, Any]]:
    """Seeds 0-5: 70 % triggers over 6 dedup keys; from 6 on: a storm of 97 % triggers over 40 keys."""
    rng = random.Random(seed)
    storm = seed >= 6
    at = T0
    events = []
    for _ in range(count):
        at += timedelta(seconds=rng.choice([5, 20, 40, 60]))
        if rng.random() < 0.05:
            at += timedelta(minutes=rng.choice([6, 11, 30]))  # past a window
        received = at - timedelta(seconds=rng.choice([0, 0, 0, 30, 90]))  # now and then out of order
        integration = rng.choice(integrations)
        action = rng.choices(
            ["trigger", "acknowledge", "resolve"], weights=[97, 1, 2] if storm else [70, 10, 20]
        )[0]
        alertname, cluster = rng.choice(["Disk", "CPU"]), rng.choice(["eu", "us"])
        events.append(
            {
                "integration": integration,
                "received_at": received,
                "action": action,
                "dedup_key": f"k{rng.randrange(40 if storm else 6)}",
                "group_key": rng.choice(["", "g1", "g2", "g3"]),
                "fields": {
                    "summary": f"{alertname} on {cluster}",
                    "severity": rng.choice(["critical", "error", "warning", "info"]),
                    "source": f"host-{rng.randrange(3)}",
                    "details": {"labels": {"alertname": alertname, "cluster": cluster}},
                    "links": [],
                }
                if action == "trigger"
                else {},
            }
        )
    return events


def _normal(text: str, alerts: dict[int, int], incidents: dict[str, int]) -> str:
    text = re.sub(r"alert (\d+)", lambda m: f"alert #{alerts.get(int(m.group(1)), -1)}", text)
    text = re.sub(r"Alert (\d+)", lambda m: f"Alert #{alerts.get(int(m.group(1)), -1)}", text)
    return re.sub(r"INC\d+", lambda m: f"#inc{incidents.get(m.group(0), -1)}", text)


def _snapshot() -> dict[str, Any]:
    alert_rows = list(Alert.objects.order_by("pk"))
    incident_rows = list(Incident.objects.order_by("pk"))
    alerts = {a.pk: n for n, a in enumerate(alert_rows)}
    refs = {i.ref: n for n, i in enumerate(incident_rows)}
    by_pk = {i.pk: n for n, i in enumerate(incident_rows)}
    return {
        "alerts": [
            (
                a.integration_id,
                a.dedup_key,
                a.status,
                a.severity,
                a.summary,
                a.source,
                a.count,
                a.first_seen,
                a.last_seen,
                a.group_key,
                by_pk.get(a.incident_id),
                a.opened_incident,
                _normal(a.group_reason, alerts, refs),
                a.suppressed,
                a.suppressed_by_id,
                a.acknowledged_at,
                a.resolved_at,
                a.details,
                a.links,
            )
            for a in alert_rows
        ],
        "incidents": [
            (
                i.title,
                i.state,
                i.impact,
                i.urgency,
                i.priority,
                i.team_id,
                i.opened_at,
                i.updated_at,
                i.resolved_at,
            )
            for i in incident_rows
        ],
        "timeline": sorted(
            (by_pk[e.incident_id], e.at, e.kind, e.field, e.source, _normal(e.message, alerts, refs))
            for e in TimelineEntry.objects.all()
        ),
        "timeline_order": [
            [(e.kind, _normal(e.message, alerts, refs)) for e in TimelineEntry.objects.filter(incident=i)]
            for i in incident_rows
        ],
        "events": [
            (
                e.status,
                _normal(e.reason, alerts, refs),
                alerts.get(e.alert_id) if e.alert_id else None,
                e.processed_at,
            )
            for e in IntakeEvent.objects.order_by("pk")
        ],
    }


def _run(stream: list[dict[str, Any]], *, limit: int, batch: bool, monkeypatch: pytest.MonkeyPatch) -> dict:
    with monkeypatch.context() as patch:
        if not batch:
            patch.setattr(bulk, "RESERVE_IDS", {})  # no batch path on any database: one by one
        try:
            with transaction.atomic():
                IntakeEvent.objects.bulk_create(
                    [IntakeEvent(status="pending", payload={}, **event) for event in stream]
                )
                now = T0 + timedelta(days=1)
                with clock.frozen(now):
                    while engine.process_batch(now, limit=limit):
                        pass
                assert not IntakeEvent.objects.filter(status="pending").exists()
                snapshot = _snapshot()
                raise Rollback
        except Rollback:
            pass
    return snapshot


@pytest.mark.parametrize("seed", range(9))
def test_the_batch_path_equals_the_sequential_path(
    world: World, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    integrations = _integrations(world)
    if seed % 2:
        MaintenanceWindow.objects.create(
            service=world.service_b,
            title="patching",
            starts_at=T0 + timedelta(minutes=20),
            ends_at=T0 + timedelta(minutes=50),
            created_at=T0,
        )
    stream = _stream(seed, integrations, 150)
    expected = _run(stream, limit=10_000, batch=False, monkeypatch=monkeypatch)
    assert expected["alerts"] and expected["incidents"]
    for limit in (7, 200):
        assert _run(stream, limit=limit, batch=True, monkeypatch=monkeypatch) == expected, (
            f"batches of {limit}"
        )


def _triggers(integration: Integration, numbers: range, *, keys: int = 0, status: str = "pending") -> None:
    """Store a trigger event per number, received a second apart, with the dedup key and summary of the number
    (``keys``: of the number modulo ``keys``, so that many keys repeat)."""
    key = (lambda n: n % keys) if keys else (lambda n: n)
    IntakeEvent.objects.bulk_create(
        [
            IntakeEvent(
                integration=integration,
                received_at=T0 + timedelta(seconds=n),
                action="trigger",
                dedup_key=f"k{key(n)}",
                fields={"summary": f"alert {key(n)}", "severity": "error"},
                payload={},
                status=status,
            )
            for n in numbers
        ]
    )


def test_a_storm_of_repeats_is_counted_with_a_few_statements(
    world: World, django_assert_max_num_queries: Any
) -> None:
    """200 triggers over 20 dedup keys of one window-grouped integration: one batch, a bounded number of
    statements (not a few per event), and the counts add up."""
    integration = make_integration(world, "webhook", grouping="window").integration
    _triggers(integration, range(200), keys=20)
    with clock.frozen(T0 + timedelta(minutes=5)), django_assert_max_num_queries(40):
        assert engine.process_batch(T0 + timedelta(minutes=5), limit=200) == 200
    assert sorted(Alert.objects.values_list("count", flat=True)) == [10] * 20
    assert Incident.objects.count() == 1
    assert not IntakeEvent.objects.exclude(status="processed").exists()


def test_a_cycle_takes_the_backlog_oldest_first_across_gaps_in_the_ids(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch looks at most ``WINDOW × limit`` ids past the oldest pending event, so its plan cannot turn into a
    sort of the whole backlog; events beyond a gap wider than that (ids of events already processed, or
    rolled back) are still taken in the same cycle, in arrival order."""
    monkeypatch.setattr(engine, "BATCH", 5)
    integration = make_integration(world, "webhook", grouping="window").integration
    # 3 pending, 40 already processed (a gap of 40 ids: wider than WINDOW × 5), then 8 pending
    _triggers(integration, range(3))
    _triggers(integration, range(3, 43), status="processed")
    _triggers(integration, range(43, 51))
    now = T0 + timedelta(minutes=5)
    with clock.frozen(now):
        assert engine.process(now) == 11
    assert not IntakeEvent.objects.filter(status="pending").exists()
    opened = Alert.objects.order_by("id").values_list("summary", flat=True)
    assert list(opened) == [f"alert {n}" for n in [*range(3), *range(43, 51)]]
    # the first alert opened the incident; the others joined it in arrival order
    assert Alert.objects.get(summary="alert 0").opened_incident
    assert Incident.objects.count() == 1


def test_a_cycle_that_stops_with_a_backlog_asks_for_the_next_cycle_at_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``alerts.process`` stops after ``MAX_BATCHES`` batches; with events left it says so (``More``), and the
    engine loop starts the next cycle without waiting out its interval."""
    monkeypatch.setattr(engine, "BATCH", 5)
    monkeypatch.setattr(engine, "MAX_BATCHES", 2)
    integration = make_integration(world, "webhook", grouping="window").integration
    _triggers(integration, range(13))
    now = T0 + timedelta(minutes=5)
    with clock.frozen(now):
        first = engine.process(now)
        assert (first, isinstance(first, More)) == (10, True)
        assert IntakeEvent.objects.filter(status="pending").count() == 3
        second = engine.process(now)
    assert (second, isinstance(second, More)) == (3, False)
    assert not IntakeEvent.objects.filter(status="pending").exists()
