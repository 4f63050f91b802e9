"""An acknowledge from the monitoring source acknowledges the incident, as in PagerDuty.

Once an event from the source leaves an incident that an alert opened with no alert still triggered (and at least
one acknowledged), the engine acknowledges the incident the way a person's acknowledgement does (New → In
Progress), so its escalation stops and nobody is paged for it again. End to end: the real intake endpoints, the
real engine (``run_cycle``) under a frozen clock, pages delivered to a real webhook receiver (the paging smoke
harness, which fails the test on any page nobody expected)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import OperationalError
from django.http import HttpResponseBase
from django.test import Client

from tests.alerts.conftest import Hooked, make_integration, pd_follow_up, pd_trigger, post
from tests.api.conftest import client_with_token
from tests.conftest import World
from tests.smoke_paging.conftest import h, policy, wired  # noqa: F401 (the harness fixtures)
from tests.smoke_paging.harness import Harness
from warroom.alerts import engine
from warroom.alerts.models import Alert, AlertStatus, EventStatus, IntakeEvent, MaintenanceWindow
from warroom.engine.loop import run_cycle
from warroom.incidents import services as incidents
from warroom.incidents.models import EntryKind, Incident
from warroom.lib import clock
from warroom.oncall.services import StepSpec, TargetSpec
from warroom.paging.models import EscalationStatus

pytestmark = pytest.mark.django_db

PD = "pagerduty main (PagerDuty Events API v2)"


def paged(harness: Harness, world: World) -> None:
    """Bob and Alice reachable by webhook; the service's policy pages Bob at once and Alice 5 minutes later, once:
    any page after an acknowledgement is a page nobody expected."""
    for user in (world.alice, world.bob):
        harness.ladder(user, "high", ("webhook", 0))
    policy(
        world,
        [StepSpec(5, [TargetSpec("user", world.bob.pk)]), StepSpec(5, [TargetSpec("user", world.alice.pk)])],
    )


def sent(response: HttpResponseBase) -> None:
    assert response.status_code == 202, getattr(response, "content", b"")


def genie(path: str, body: Any, key: str) -> None:
    sent(
        Client().post(
            path,
            data=json.dumps(body),
            content_type="application/json",
            headers={"Authorization": f"GenieKey {key}"},
        )
    )


def escalation(incident: Incident, world: World) -> str:
    """What ``GET /api/v1/incidents/{ref}/escalation`` says the escalation's status is (as alice sees it)."""
    answer = client_with_token(world.alice).get(f"/incidents/{incident.ref}/escalation")
    assert answer.status_code == 200, answer.content
    status: str = json.loads(answer.content)["status"]
    return status


def timeline(incident: Incident) -> list[tuple[str, str, int | None, str]]:
    """(kind, source, actor id, message) of each timeline entry, in order."""
    return list(incident.timeline.order_by("at", "id").values_list("kind", "source", "actor_id", "message"))


def messages(incident: Incident, *, kind: str | None = None, containing: str = "") -> list[str]:
    return [m for k, _, _, m in timeline(incident) if (kind is None or k == kind) and containing in m]


def source_acks(incident: Incident) -> list[str]:
    """The incident's lines for alerts acknowledged at the source."""
    return messages(incident, kind=EntryKind.LINK, containing="acknowledged at the source")


def acknowledgements(incident: Incident) -> list[str]:
    """The notes of the incident's acknowledgement by the engine."""
    return messages(incident, kind=EntryKind.NOTE, containing="Acknowledged at the source")


def state(incident: Incident) -> str:
    incident.refresh_from_db()
    return incident.state


def test_a_pagerduty_acknowledge_acknowledges_the_incident_and_paging_stops(
    h: Harness,  # noqa: F811
    world: World,
    pd: Hooked,
) -> None:
    paged(h, world)
    sent(post("/v2/enqueue", pd_trigger(pd.key, "srv01/disk")))
    h.cycle()
    incident = Incident.objects.get()
    h.expect("webhook", world.bob, containing=incident.ref)
    h.expect_nothing()
    assert (state(incident), escalation(incident, world)) == ("new", EscalationStatus.ACTIVE)

    clock.advance(timedelta(minutes=2))
    sent(post("/v2/enqueue", pd_follow_up(pd.key, "acknowledge", "srv01/disk")))
    h.cycle()
    alert = Alert.objects.get()
    assert alert.status == AlertStatus.ACKNOWLEDGED
    assert state(incident) == "in_progress"
    assert incident.acknowledged_at == clock.now()
    assert escalation(incident, world) == EscalationStatus.ACKNOWLEDGED
    event = IntakeEvent.objects.get(action="acknowledge")
    assert (event.status, event.reason) == (
        EventStatus.PROCESSED,
        f"acknowledged alert {alert.pk}; no alert of {incident.ref} triggered any more: incident acknowledged",
    )

    # Alice's step was due 5 minutes after Bob's page; it never comes, nor does anything later.
    h.advance(minutes=3)
    h.advance(minutes=30)
    h.expect_nothing()

    # The timeline says it: by the engine, no person as the actor, naming the integration.
    assert source_acks(incident) == [f"Alert {alert.pk} acknowledged at the source by {PD}: {alert.summary}"]
    assert acknowledgements(incident) == [
        f"Acknowledged at the source: {PD} acknowledged alert {alert.pk}, and no alert of this incident is "
        "still triggered."
    ]
    assert messages(incident, kind=EntryKind.STATE) == ["State: New → In Progress"]
    assert messages(incident, containing="Escalation stopped") == ["Escalation stopped: acknowledged"]
    written = [
        (source, actor)
        for _, source, actor, message in timeline(incident)
        if message.startswith(
            ("State:", "Acknowledged at", "Escalation stopped", f"Alert {alert.pk} acknowledged")
        )
    ]
    assert written == [("engine", None)] * 4


def test_one_acknowledged_alert_of_a_grouped_incident_does_not_silence_the_others(
    h: Harness,  # noqa: F811
    world: World,
) -> None:
    grouped = make_integration(world, "pagerduty", grouping="window", window_minutes=10)
    paged(h, world)
    sent(post("/v2/enqueue", pd_trigger(grouped.key, "db1/disk", summary="Disk full on db1")))
    sent(post("/v2/enqueue", pd_trigger(grouped.key, "db2/disk", summary="Disk full on db2")))
    h.cycle()
    incident = Incident.objects.get()
    first, second = Alert.objects.order_by("pk")
    assert first.incident == second.incident == incident
    h.expect("webhook", world.bob)

    sent(post("/v2/enqueue", pd_follow_up(grouped.key, "acknowledge", "db1/disk")))
    h.cycle()
    first.refresh_from_db()
    assert first.status == AlertStatus.ACKNOWLEDGED
    assert (state(incident), escalation(incident, world)) == ("new", EscalationStatus.ACTIVE)
    assert acknowledgements(incident) == []
    assert IntakeEvent.objects.get(action="acknowledge").reason == f"acknowledged alert {first.pk}"
    # db2 is still triggered: paging goes on (Alice, step 2, at 5 minutes).
    h.advance(minutes=5)
    h.expect("webhook", world.alice, containing=incident.ref)

    sent(post("/v2/enqueue", pd_follow_up(grouped.key, "acknowledge", "db2/disk")))
    h.cycle()
    assert (state(incident), escalation(incident, world)) == ("in_progress", EscalationStatus.ACKNOWLEDGED)
    assert [m.split(": ")[0] for m in source_acks(incident)] == [
        f"Alert {first.pk} acknowledged at the source by {PD}",
        f"Alert {second.pk} acknowledged at the source by {PD}",
    ]
    assert acknowledgements(incident) == [
        f"Acknowledged at the source: {PD} acknowledged alert {second.pk}, and no alert of this incident is "
        "still triggered."
    ]
    h.advance(minutes=30)
    h.expect_nothing()


def test_an_opsgenie_acknowledge_by_alias_does_the_same(
    h: Harness,  # noqa: F811
    world: World,
    opsgenie: Hooked,
) -> None:
    paged(h, world)
    genie("/v2/alerts", {"message": "web-1 is down", "alias": "web-1 down", "priority": "P1"}, opsgenie.key)
    h.cycle()
    incident = Incident.objects.get()
    h.expect("webhook", world.bob)
    body = {"user": "Monitoring Script", "source": "AWS Lambda", "note": "on it"}
    genie("/v2/alerts/web-1%20down/acknowledge?identifierType=alias", body, opsgenie.key)
    h.cycle()
    alert = Alert.objects.get()
    assert alert.status == AlertStatus.ACKNOWLEDGED
    assert (state(incident), escalation(incident, world)) == ("in_progress", EscalationStatus.ACKNOWLEDGED)
    assert acknowledgements(incident) == [
        "Acknowledged at the source: opsgenie main (Opsgenie Alert API) acknowledged alert "
        f"{alert.pk}, and no alert of this incident is still triggered."
    ]
    h.advance(minutes=5)
    h.advance(minutes=30)
    h.expect_nothing()

    # Closing it later resolves alert and incident as before.
    genie("/v2/alerts/web-1%20down/close?identifierType=alias", {}, opsgenie.key)
    h.cycle()
    assert state(incident) == "resolved"


def test_a_generic_webhook_acknowledge_does_the_same(world: World, hook: Hooked) -> None:
    sent(post(f"/integrations/webhook/{hook.key}", {"summary": "queue stuck", "dedup_key": "queue/orders"}))
    run_cycle()
    incident = Incident.objects.get()
    sent(post(f"/integrations/webhook/{hook.key}", {"action": "acknowledge", "dedup_key": "queue/orders"}))
    run_cycle()
    assert state(incident) == "in_progress" and incident.acknowledged_at is not None
    assert acknowledgements(incident) == [
        "Acknowledged at the source: webhook main (Generic JSON webhook) acknowledged alert "
        f"{Alert.objects.get().pk}, and no alert of this incident is still triggered."
    ]


def _fail_once(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    """Make the batch path fail once after it has applied every event of its batch (writing the events' log
    is its last step)."""
    write_events = engine._Batch.write_events

    def failing(batch: engine._Batch) -> None:
        monkeypatch.setattr(engine._Batch, "write_events", write_events)
        raise error

    monkeypatch.setattr(engine._Batch, "write_events", failing)


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(RuntimeError("a bad event"), id="batch rolled back and applied one by one"),
        pytest.param(OperationalError("deadlock detected"), id="batch redone in the next cycle"),
    ],
)
def test_a_redone_batch_acknowledges_once(
    world: World, pd: Hooked, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    sent(post("/v2/enqueue", pd_trigger(pd.key, "k1")))
    assert not run_cycle().failed
    incident = Incident.objects.get()
    # One batch: a trigger before the acknowledge, the acknowledge, a repeat of it and a trigger after it.
    sent(post("/v2/enqueue", pd_trigger(pd.key, "k2", summary="another one")))
    sent(post("/v2/enqueue", pd_follow_up(pd.key, "acknowledge", "k1")))
    sent(post("/v2/enqueue", pd_follow_up(pd.key, "acknowledge", "k1")))
    sent(post("/v2/enqueue", pd_trigger(pd.key, "k1")))
    _fail_once(monkeypatch, error)
    report = run_cycle()
    if isinstance(error, OperationalError):
        assert engine.intake.PROCESS in report.failed  # rolled back whole: nothing was written
        assert IntakeEvent.objects.filter(status=EventStatus.PENDING).count() == 4
        assert state(incident) == "new"
        report = run_cycle()
    assert not report.failed, report.failed
    assert not IntakeEvent.objects.filter(status=EventStatus.PENDING).exists()

    alert = Alert.objects.get(dedup_key="k1")
    assert (alert.status, alert.count) == (AlertStatus.ACKNOWLEDGED, 2)  # the later trigger only counts
    assert state(incident) == "in_progress"
    assert len(source_acks(incident)) == 1
    assert len(acknowledgements(incident)) == 1
    assert messages(incident, kind=EntryKind.STATE) == ["State: New → In Progress"]
    reasons = list(
        IntakeEvent.objects.filter(action="acknowledge").order_by("pk").values_list("reason", flat=True)
    )
    assert reasons == [
        f"acknowledged alert {alert.pk}; no alert of {incident.ref} triggered any more: incident acknowledged",
        f"alert {alert.pk} was already acknowledged",
    ]
    # The other alert opened an incident of its own (one incident per alert), still unacknowledged.
    other = Alert.objects.get(dedup_key="k2").incident
    assert other is not None and other != incident and state(other) == "new"


def test_a_repeated_acknowledge_and_later_triggers_change_nothing(
    h: Harness,  # noqa: F811
    world: World,
    pd: Hooked,
) -> None:
    """PagerDuty: a trigger for an acknowledged alert is deduplicated into it; it stays acknowledged and pages
    nobody."""
    paged(h, world)
    sent(post("/v2/enqueue", pd_trigger(pd.key, "k1")))
    h.cycle()
    h.expect("webhook", world.bob)
    incident = Incident.objects.get()
    sent(post("/v2/enqueue", pd_follow_up(pd.key, "acknowledge", "k1")))
    h.cycle()
    before = timeline(incident)
    for _ in range(3):
        sent(post("/v2/enqueue", pd_follow_up(pd.key, "acknowledge", "k1")))
        sent(post("/v2/enqueue", pd_trigger(pd.key, "k1")))
        h.advance(minutes=5)
    alert = Alert.objects.get()
    assert (alert.status, alert.count) == (AlertStatus.ACKNOWLEDGED, 4)
    assert timeline(incident) == before
    assert (state(incident), escalation(incident, world)) == ("in_progress", EscalationStatus.ACKNOWLEDGED)
    h.expect_nothing()


def test_a_person_acknowledging_first_leaves_nothing_for_the_source(world: World, pd: Hooked) -> None:
    """The reverse rule (acknowledging the incident acknowledges its alerts) and this one do not feed each other:
    the source's acknowledge then finds the alert acknowledged, and the incident is left as the person left it."""
    sent(post("/v2/enqueue", pd_trigger(pd.key, "k1")))
    run_cycle()
    incident = Incident.objects.get()
    incidents.transition_incident(incident=incident, actor=world.bob, source="web", to="in_progress")
    alert = Alert.objects.get()
    assert alert.status == AlertStatus.ACKNOWLEDGED
    before = timeline(incident)
    sent(post("/v2/enqueue", pd_follow_up(pd.key, "acknowledge", "k1")))
    run_cycle()
    assert timeline(incident) == before
    assert (
        IntakeEvent.objects.get(action="acknowledge").reason == f"alert {alert.pk} was already acknowledged"
    )
    assert state(incident) == "in_progress" and incident.version == 2


def test_the_last_triggered_alert_resolving_leaves_the_acknowledged_ones(world: World) -> None:
    """An incident whose remaining alerts are all acknowledged at the source stops paging when the triggered
    one resolves (the same rule, reached from the other side)."""
    grouped = make_integration(world, "pagerduty", grouping="window", window_minutes=10)
    sent(post("/v2/enqueue", pd_trigger(grouped.key, "db1/disk")))
    sent(post("/v2/enqueue", pd_trigger(grouped.key, "db2/disk")))
    sent(post("/v2/enqueue", pd_follow_up(grouped.key, "acknowledge", "db1/disk")))
    run_cycle()
    incident = Incident.objects.get()
    assert state(incident) == "new"
    sent(post("/v2/enqueue", pd_follow_up(grouped.key, "resolve", "db2/disk")))
    run_cycle()
    second = Alert.objects.get(dedup_key="db2/disk")
    assert state(incident) == "in_progress"
    assert acknowledgements(incident) == [
        f"Acknowledged at the source: {PD} resolved alert {second.pk}, and every alert of this incident still "
        "open is acknowledged."
    ]
    assert IntakeEvent.objects.get(action="resolve").reason == (
        f"resolved alert {second.pk}; no alert of {incident.ref} triggered any more: incident acknowledged"
    )
    # The acknowledged one resolving too resolves the incident (auto_resolve_incident), as before.
    sent(post("/v2/enqueue", pd_follow_up(grouped.key, "resolve", "db1/disk")))
    run_cycle()
    assert state(incident) == "resolved"


def test_an_incident_without_an_acknowledged_alert_is_not_acknowledged(world: World) -> None:
    """With ``auto_resolve_incident`` off, an incident whose alerts all resolved stays for people to resolve, and
    keeps paging: nothing acknowledged it."""
    manual = make_integration(world, "pagerduty", auto_resolve_incident=False)
    sent(post("/v2/enqueue", pd_trigger(manual.key, "k1")))
    run_cycle()
    sent(post("/v2/enqueue", pd_follow_up(manual.key, "resolve", "k1")))
    run_cycle()
    assert state(Incident.objects.get()) == "new"


def test_a_suppressed_alert_has_no_incident_to_acknowledge(world: World, pd: Hooked) -> None:
    now = clock.now()
    MaintenanceWindow.objects.create(
        service=world.service_a,
        title="patching",
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(hours=1),
        created_at=now,
    )
    sent(post("/v2/enqueue", pd_trigger(pd.key, "k1")))
    sent(post("/v2/enqueue", pd_follow_up(pd.key, "acknowledge", "k1")))
    run_cycle()
    alert = Alert.objects.get()
    assert (alert.suppressed, alert.incident, alert.status) == (True, None, AlertStatus.ACKNOWLEDGED)
    assert not Incident.objects.exists()
    assert IntakeEvent.objects.get(action="acknowledge").reason == f"acknowledged alert {alert.pk}"


def test_an_incident_a_person_declared_is_left_to_people(world: World, pd: Hooked) -> None:
    """As with resolving: only an incident an alert opened follows its alerts. One a person declared, with an
    alert in it, keeps paging until a person acknowledges it."""
    declared = incidents.declare_incident(
        actor=world.alice,
        source="web",
        title="Checkout is slow",
        team=world.team_a,
        services=[world.service_a],
    )
    sent(post("/v2/enqueue", pd_trigger(pd.key, "k1")))
    run_cycle()
    # No service moves an alert into another incident today; the test puts it there.
    Alert.objects.update(incident=declared, opened_incident=False)
    sent(post("/v2/enqueue", pd_follow_up(pd.key, "acknowledge", "k1")))
    run_cycle()
    alert = Alert.objects.get()
    assert alert.status == AlertStatus.ACKNOWLEDGED
    assert state(declared) == "new" and declared.acknowledged_at is None
    assert acknowledgements(declared) == []
    assert len(source_acks(declared)) == 1
