"""The engine never waits for an incident a person is changing while it holds alerts locked (PostgreSQL).

A person acknowledging or resolving an incident locks the incident, then its alerts; the engine, applying an
acknowledge or resolve from the source, holds the alert and would then lock the incident. Were it to wait, the two
would deadlock until PostgreSQL failed one of them, perhaps the person's request. The engine steps back instead:
the batch is rolled back and taken again next cycle."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from django.db import connection

from tests.alerts.conftest import Hooked, make_integration, pd_follow_up, pd_trigger, post
from tests.conftest import World, make_world
from warroom.alerts.models import Alert, AlertStatus, EventStatus, IntakeEvent
from warroom.engine import registry
from warroom.engine.loop import run_cycle
from warroom.incidents.models import Incident
from warroom.incidents.states import State


@pytest.fixture
def committed(django_db_serialized_rollback: None, transactional_db: None) -> Iterator[tuple[World, Hooked]]:
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's (set WARROOM_DATABASE_URL to a PostgreSQL URL)")
    world = make_world()
    yield world, make_integration(world, "pagerduty", rate_limit_per_minute=0)


def _dsn() -> str:
    params = connection.get_connection_params()
    return psycopg.conninfo.make_conninfo(
        **{k: v for k, v in params.items() if k in {"dbname", "user", "host", "port", "password"}}
    )


def _held(incident_id: int, release: threading.Event, held: threading.Event) -> None:
    """Another session that locks the incident as a person's change does, until ``release``."""
    with psycopg.connect(_dsn()) as other:
        other.execute("SELECT 1 FROM incidents_incident WHERE id = %s FOR NO KEY UPDATE", [incident_id])
        held.set()
        release.wait(30)
        other.rollback()


def _cycle() -> None:
    registry.discover()
    run_cycle()


def test_a_source_acknowledge_steps_back_from_an_incident_a_person_holds(
    committed: tuple[World, Hooked],
) -> None:
    _world, pd = committed
    assert post("/v2/enqueue", pd_trigger(pd.key, "disk-1")).status_code == 202
    _cycle()
    incident = Incident.objects.get()
    release, held = threading.Event(), threading.Event()
    person = threading.Thread(target=_held, args=(incident.pk, release, held))
    person.start()
    try:
        assert held.wait(10)
        assert post("/v2/enqueue", pd_follow_up(pd.key, "acknowledge", "disk-1")).status_code == 202
        began = time.monotonic()
        _cycle()
        assert time.monotonic() - began < 5, "the engine waited for the person's lock"
        ack = IntakeEvent.objects.order_by("-id").first()
        assert ack is not None and ack.status == EventStatus.PENDING  # rolled back, to be taken again
        assert Alert.objects.get().status == AlertStatus.TRIGGERED
    finally:
        release.set()
        person.join(10)
    _cycle()
    incident.refresh_from_db()
    assert incident.state == State.IN_PROGRESS
    assert Alert.objects.get().status == AlertStatus.ACKNOWLEDGED


def _acknowledging(
    incident_id: int, release: threading.Event, held: threading.Event, failed: list[str]
) -> None:
    """A person acknowledging the incident: locks it, then (after ``release``) acknowledges its alerts, as
    ``alerts.signals`` does, and commits."""
    try:
        with psycopg.connect(_dsn()) as other:
            other.execute("SELECT 1 FROM incidents_incident WHERE id = %s FOR NO KEY UPDATE", [incident_id])
            held.set()
            release.wait(30)
            other.execute(
                "UPDATE alerts_alert SET status = 'acknowledged' WHERE incident_id = %s AND status = 'triggered'",
                [incident_id],
            )
            other.commit()
    except psycopg.Error as exc:  # a deadlock victim: what a person would see as an error page
        failed.append(str(exc))


def test_alerts_joining_an_incident_a_person_holds_never_deadlock_with_them(
    committed: tuple[World, Hooked],
) -> None:
    """A storm repeats an open alert (the batch locks it) and opens another in the same incident (the batch
    would update the incident) while a person acknowledges that incident: the person's change goes through."""
    world, _pd = committed
    pd = make_integration(world, "pagerduty", rate_limit_per_minute=0, grouping="window")
    assert post("/v2/enqueue", pd_trigger(pd.key, "disk-1")).status_code == 202
    _cycle()
    incident = Incident.objects.get()
    release, held, failed = threading.Event(), threading.Event(), []
    person = threading.Thread(target=_acknowledging, args=(incident.pk, release, held, failed))
    person.start()
    try:
        assert held.wait(10)
        assert (
            post("/v2/enqueue", pd_trigger(pd.key, "disk-1")).status_code == 202
        )  # a repeat: its alert locked
        assert post("/v2/enqueue", pd_trigger(pd.key, "disk-2")).status_code == 202  # joins the same incident
        began = time.monotonic()
        _cycle()
        assert time.monotonic() - began < 5, "the engine waited for the person's lock"
        assert IntakeEvent.objects.filter(status=EventStatus.PENDING).count() == 2  # rolled back, taken again
    finally:
        release.set()
        person.join(10)
    assert failed == []
    assert Alert.objects.get(dedup_key="disk-1").status == AlertStatus.ACKNOWLEDGED
    _cycle()
    assert not IntakeEvent.objects.filter(status=EventStatus.PENDING).exists()
    assert Alert.objects.get(dedup_key="disk-1").count == 2
    assert Alert.objects.get(dedup_key="disk-2").incident_id == incident.pk
