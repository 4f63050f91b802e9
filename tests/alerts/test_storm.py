"""A storm of exactly 5,000 alert events over 20 services, through the real intake endpoints of five kinds,
makes exactly the alerts and incidents the dedup and grouping rules say.

The storm mixes what monitoring really sends: PagerDuty and Opsgenie events with repeats, Alertmanager and
Grafana groups re-sent whole and delivered twice by HA pairs, plain webhooks, acknowledges, resolves (whole
groups, part of a group, unknown keys) and alerts that fire again after they resolved. It runs in phases
(firing, resolving, firing again, and a late alert after the grouping window); within a phase the order of
requests does not change the outcome, so on PostgreSQL each phase is posted from several threads at once
while the engine runs beside the first phase, as in production. On SQLite the requests go one by one and the
engine runs between slices of the storm.

The expected outcome is computed by :class:`Rules`, a plain model of the documented rules (PagerDuty dedup;
grouping per alert, by upstream group key, or by service time window; an auto-created incident resolves when
all its alerts have), written from the documentation and not from the engine.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client

from tests.alerts.conftest import Hooked, cycle, make_integration, pd_follow_up, pd_trigger
from tests.conftest import World
from warroom.alerts.models import Alert, IntakeEvent
from warroom.catalog import services as catalog
from warroom.incidents.models import Incident
from warroom.incidents.states import OPEN_STATES
from warroom.lib import clock

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

STORM = 5000
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=10)
THREADS = 6  # PostgreSQL only; SQLite has one writer and the test database is not shared between threads

# The 20 services: (kind, grouping) of the one integration each has.
KINDS: list[tuple[str, str]] = (
    [("pagerduty", "alert")] * 6
    + [("opsgenie", "alert")] * 2
    + [("alertmanager", "group_key")] * 5
    + [("grafana", "group_key")] * 2
    + [("webhook", "window")] * 5
)
PD = range(0, 6)
OG = range(6, 8)
AM = range(8, 13)
GF = range(13, 15)
WH = range(15, 20)

PD_KEYS = 12  # dedup keys per PagerDuty service; the same keys on every service (dedup is per integration)
OG_ALIASES = 10
AM_GROUPS, AM_SIZE = 4, 25  # groups per Alertmanager service, alerts per group
GF_GROUPS, GF_SIZE = 3, 5
WH_KEYS = 15


# ---------------------------------------------------------------------------------------------------------------
# what the senders send


@dataclass(frozen=True)
class Event:
    """One alert event as its sender means it: ``service`` indexes :data:`KINDS`."""

    service: int
    action: str  # trigger | acknowledge | resolve
    dedup_key: str
    group_key: str = ""


@dataclass
class Request:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    events: list[Event]


class Sender:
    """Builds each request exactly as the sender's wire format has it, with the integration keys."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = keys

    def pagerduty(self, service: int, action: str, dedup_key: str) -> Request:
        key = self.keys[service]
        body = pd_trigger(key, dedup_key) if action == "trigger" else pd_follow_up(key, action, dedup_key)
        return Request("/v2/enqueue", body, {}, [Event(service, action, dedup_key)])

    def opsgenie(self, service: int, action: str, alias: str) -> Request:
        headers = {"Authorization": f"GenieKey {self.keys[service]}"}
        if action == "trigger":
            body = {
                "message": f"Queue {alias} backed up",
                "alias": alias,
                "priority": "P2",
                "source": "probe",
            }
            return Request("/v2/alerts", body, headers, [Event(service, action, alias)])
        path = f"/v2/alerts/{alias}/close?identifierType=alias"
        return Request(
            path, {"source": "probe", "note": "recovered"}, headers, [Event(service, action, alias)]
        )

    def _group(
        self, service: int, version: str, group: int, members: Iterable[tuple[int, str]], path: str
    ) -> Request:
        # The same groupKey strings on every integration: grouping by group key is per integration.
        group_key = f'{{}}:{{alertname="Storm{group}"}}'
        alerts, events = [], []
        for member, status in members:
            fingerprint = f"{group:08x}{member:08x}"
            alerts.append(
                {
                    "status": status,
                    "labels": {
                        "alertname": f"Storm{group}",
                        "instance": f"node-{member}",
                        "severity": "error",
                    },
                    "annotations": {"summary": f"Storm {group} on node-{member}"},
                    "startsAt": "2026-03-02T09:00:00Z",
                    "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-03-02T09:05:00Z",
                    "generatorURL": "http://prometheus:9090/graph",
                    "fingerprint": fingerprint,
                }
            )
            action = "trigger" if status == "firing" else "resolve"
            events.append(Event(service, action, fingerprint, group_key))
        body = {
            "receiver": "warroom",
            "status": "firing" if any(a["status"] == "firing" for a in alerts) else "resolved",
            "alerts": alerts,
            "groupLabels": {"alertname": f"Storm{group}"},
            "commonLabels": {"alertname": f"Storm{group}"},
            "commonAnnotations": {},
            "externalURL": "http://alertmanager:9093",
            "version": version,
            "groupKey": group_key,
            "truncatedAlerts": 0,
        }
        return Request(path, body, {"Authorization": f"Bearer {self.keys[service]}"}, events)

    def alertmanager(self, service: int, group: int, members: Iterable[tuple[int, str]]) -> Request:
        return self._group(service, "4", group, members, "/integrations/alertmanager")

    def grafana(self, service: int, group: int, members: Iterable[tuple[int, str]]) -> Request:
        return self._group(service, "1", group, members, "/integrations/grafana")

    def webhook(self, service: int, action: str, dedup_key: str) -> Request:
        body: dict[str, Any] = {"action": action, "dedup_key": dedup_key}
        if action == "trigger":
            body.update(summary=f"Job {dedup_key} failed", severity="warning", source="cron")
        headers = {"Authorization": f"Bearer {self.keys[service]}"}
        return Request("/integrations/webhook", body, headers, [Event(service, action, dedup_key)])


def firing(size: int) -> list[tuple[int, str]]:
    return [(member, "firing") for member in range(size)]


def resolved(size: int) -> list[tuple[int, str]]:
    return [(member, "resolved") for member in range(size)]


def storm_phases(send: Sender) -> list[list[Request]]:
    """The storm, phase by phase. Phase 4 comes after the grouping window has passed."""
    firing_phase: list[Request] = []
    for service in PD:
        for k in range(PD_KEYS):
            firing_phase += [send.pagerduty(service, "trigger", f"disk/{k}")] * (1 + k % 3)
    for service in OG:
        for a in range(OG_ALIASES):
            firing_phase += [send.opsgenie(service, "trigger", f"queue-{a}")] * 2
    for service in AM:
        for g in range(AM_GROUPS):
            # Alertmanager's first notification, and the same from its HA peer.
            firing_phase += [send.alertmanager(service, g, firing(AM_SIZE))] * 2
    for service in GF:
        for g in range(GF_GROUPS):
            firing_phase += [send.grafana(service, g, firing(GF_SIZE))] * 2
    for service in WH:
        firing_phase += [send.webhook(service, "trigger", f"job-{k}") for k in range(WH_KEYS)]

    half = AM_SIZE // 2
    resolving: list[Request] = []
    for service in PD:
        resolving += [send.pagerduty(service, "resolve", f"disk/{k}") for k in range(4)]
        resolving += [send.pagerduty(service, "acknowledge", f"disk/{k}") for k in (10, 11)]
        resolving.append(send.pagerduty(service, "resolve", "never-fired"))
    for service in OG:
        resolving += [send.opsgenie(service, "resolve", f"queue-{a}") for a in range(3)]
        resolving.append(send.opsgenie(service, "resolve", "never-fired"))
    for service in AM:
        # Group 0 resolves whole (and the HA peer says so again); half of group 1 resolves.
        resolving += [send.alertmanager(service, 0, resolved(AM_SIZE))] * 2
        mixed = [(m, "resolved" if m < half else "firing") for m in range(AM_SIZE)]
        resolving.append(send.alertmanager(service, 1, mixed))
    for service in GF:
        resolving.append(send.grafana(service, 0, resolved(GF_SIZE)))
    resolving += [send.webhook(WH[0], "resolve", f"job-{k}") for k in range(WH_KEYS)]
    resolving += [send.webhook(WH[1], "resolve", f"job-{k}") for k in range(5)]

    again: list[Request] = []
    for service in PD:
        again += [send.pagerduty(service, "trigger", f"disk/{k}") for k in (0, 1, 5)]
    for service in OG:
        again.append(send.opsgenie(service, "trigger", "queue-0"))
    for service in AM:
        again += [send.alertmanager(service, g, firing(AM_SIZE)) for g in (0, 1)]
    for service in GF:
        again.append(send.grafana(service, 0, firing(GF_SIZE)))
    again.append(send.webhook(WH[0], "trigger", "job-0"))
    again += [send.webhook(WH[1], "trigger", f"job-{k}") for k in range(5)]
    again.append(send.webhook(WH[4], "trigger", "job-new-within-window"))

    late = [send.webhook(WH[2], "trigger", "job-late"), send.webhook(WH[3], "trigger", "job-0")]

    # Fill the storm up to exactly STORM events with what a storm mostly is: repeats. Alertmanager re-sends
    # its open groups 2 and 3 every group_interval, and PagerDuty senders repeat open triggers.
    phases = [firing_phase, resolving, again, late]
    missing = STORM - sum(len(r.events) for phase in phases for r in phase)
    resends = [send.alertmanager(service, g, firing(AM_SIZE)) for g in (2, 3) for service in AM]
    filler: list[Request] = []
    while missing >= AM_SIZE:
        filler.append(resends[len(filler) % len(resends)])
        missing -= AM_SIZE
    filler += [send.pagerduty(PD[i % len(PD)], "trigger", f"disk/{6 + i % 4}") for i in range(missing)]
    # Interleave the filler with the firing phase, so the kinds and services arrive mixed.
    firing_phase += filler
    firing_phase[:] = [firing_phase[i] for i in _interleaved(len(firing_phase))]
    return phases


def _interleaved(n: int, stride: int = 7) -> list[int]:
    """A fixed permutation of range(n) that spreads neighbours apart (stride is prime to most lengths)."""
    return sorted(range(n), key=lambda i: ((i * stride) % n, i))


# ---------------------------------------------------------------------------------------------------------------
# what the rules say


@dataclass
class ModelIncident:
    number: int
    service: int
    open: bool = True
    alerts: list[ModelAlert] = field(default_factory=list)


@dataclass
class ModelAlert:
    service: int
    dedup_key: str
    group_key: str
    first_seen: datetime
    incident: ModelIncident
    opened: bool
    status: str = "triggered"
    count: int = 1


class Rules:
    """The documented rules, event by event:

    * dedup (PagerDuty's): a trigger for an open (triggered or acknowledged) alert of the same integration and
      dedup key adds to its count; otherwise it opens a new alert. Acknowledge/resolve of a key with no open
      alert is ignored.
    * grouping of a new alert: ``alert`` — a new incident; ``group_key`` — the open incident of an alert of the
      same integration and group key, else a new one; ``window`` — the open incident of the service opened by
      an alert at most the window before this one, else a new one.
    * when every alert of an auto-created incident has resolved, the incident resolves.
    """

    def __init__(self) -> None:
        self.alerts: list[ModelAlert] = []
        self.open: dict[tuple[int, str], ModelAlert] = {}
        self.incidents: list[ModelIncident] = []
        self.ignored: Counter[int] = Counter()
        self.events: Counter[int] = Counter()

    def _target(self, event: Event, at: datetime) -> ModelIncident | None:
        grouping = KINDS[event.service][1]
        candidates = [a for a in self.alerts if a.service == event.service and a.incident.open]
        if grouping == "group_key":
            same = [a for a in candidates if event.group_key and a.group_key == event.group_key]
            return same[-1].incident if same else None
        if grouping == "window":
            openers = [a for a in candidates if a.opened and a.first_seen >= at - WINDOW]
            return openers[-1].incident if openers else None
        return None

    def apply(self, event: Event, at: datetime) -> None:
        self.events[event.service] += 1
        alert = self.open.get((event.service, event.dedup_key))
        if event.action == "trigger":
            if alert is not None:
                alert.count += 1
                return
            incident = self._target(event, at)
            opened = incident is None
            if incident is None:
                incident = ModelIncident(len(self.incidents), event.service)
                self.incidents.append(incident)
            alert = ModelAlert(event.service, event.dedup_key, event.group_key, at, incident, opened)
            incident.alerts.append(alert)
            self.alerts.append(alert)
            self.open[event.service, event.dedup_key] = alert
            return
        if alert is None:
            self.ignored[event.service] += 1
            return
        if event.action == "acknowledge":
            alert.status = "acknowledged"
            return
        alert.status = "resolved"
        del self.open[event.service, event.dedup_key]
        incident = alert.incident
        if all(a.status == "resolved" for a in incident.alerts):
            incident.open = False


# ---------------------------------------------------------------------------------------------------------------
# the storm


def _post(client: Client, request: Request) -> int:
    response = client.post(
        request.path, data=json.dumps(request.body), content_type="application/json", headers=request.headers
    )
    return response.status_code


def _post_in_threads(requests: list[Request], refused: list[str], *, with_engine: bool) -> None:
    """Post ``requests`` from :data:`THREADS` threads at once (and run the engine beside them)."""
    failures: list[BaseException] = []
    posting = threading.Event()
    posting.set()

    def poster(share: list[Request]) -> None:
        try:
            client = Client()
            for request in share:
                status = _post(client, request)
                if status != 202:
                    refused.append(f"{request.path}: {status}")
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            connections.close_all()

    def engine() -> None:
        try:
            while posting.is_set():
                cycle()
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=poster, args=(requests[i::THREADS],)) for i in range(THREADS)]
    helper = threading.Thread(target=engine)
    for thread in threads:
        thread.start()
    if with_engine:
        helper.start()
    for thread in threads:
        thread.join(timeout=300)
    posting.clear()
    if with_engine:
        helper.join(timeout=300)
    assert not failures, failures


def _post_one_by_one(requests: list[Request], refused: list[str], *, with_engine: bool) -> None:
    client = Client()
    for index, request in enumerate(requests, start=1):
        status = _post(client, request)
        if status != 202:
            refused.append(f"{request.path}: {status}")
        if with_engine and index % 500 == 0:
            cycle()


def _service_world(world: World) -> list[Hooked]:
    hooked = []
    for index, (kind, grouping) in enumerate(KINDS):
        team = world.team_a if index % 2 == 0 else world.team_b
        service = catalog.create_service(
            team=team, name=f"Storm service {index:02d}", tier=2, actor=None, source="test"
        )
        hooked.append(
            make_integration(
                world,
                kind,
                service=service,
                name=f"{kind} {index:02d}",
                grouping=grouping,
                window_minutes=int(WINDOW.total_seconds() // 60),
            )
        )
    return hooked


Shape = tuple[bool, tuple[tuple[int, str, str, int], ...]]


def _incident_shapes(hooked: list[Hooked]) -> Counter[Shape]:
    """Every incident in the database as (open?, its alerts' (service index, dedup key, status, count))."""
    index = {h.integration.pk: i for i, h in enumerate(hooked)}
    members: dict[int, list[tuple[int, str, str, int]]] = {}
    rows = Alert.objects.values_list("integration_id", "dedup_key", "status", "count", "incident_id")
    for integration_id, dedup_key, status, count, incident_id in rows:
        assert incident_id is not None, f"alert {dedup_key} of {integration_id} joined no incident"
        members.setdefault(incident_id, []).append((index[integration_id], dedup_key, status, count))
    states = dict(Incident.objects.values_list("id", "state"))
    assert set(states) == set(members), "every incident was opened by an alert of the storm"
    return Counter((states[pk] in OPEN_STATES, tuple(sorted(alerts))) for pk, alerts in members.items())


def _expected_shapes(rules: Rules) -> Counter[Shape]:
    return Counter(
        (incident.open, tuple(sorted((a.service, a.dedup_key, a.status, a.count) for a in incident.alerts)))
        for incident in rules.incidents
    )


def test_a_storm_of_5000_events_over_20_services_makes_exactly_the_incidents_the_rules_say(
    world: World,
) -> None:
    hooked = _service_world(world)
    send = Sender([h.key for h in hooked])
    phases = storm_phases(send)
    assert sum(len(r.events) for phase in phases for r in phase) == STORM

    parallel = connection.vendor == "postgresql"
    post = _post_in_threads if parallel else _post_one_by_one
    rules = Rules()
    refused: list[str] = []
    at = T0
    for number, phase in enumerate(phases):
        with clock.frozen(at):
            post(phase, refused, with_engine=number == 0)
            for request in phase:
                for event in request.events:
                    rules.apply(event, at)
            cycle()
        at += WINDOW + timedelta(minutes=1) if number == 2 else timedelta(minutes=1)
    with clock.frozen(at):
        assert cycle().items.get("alerts.process") == 0, "every event was taken by the cycles above"

    assert refused == [], refused[:10]
    # Every accepted event is in the log and was processed; the ignored ones are the follow-ups with no alert.
    by_service = {h.integration.pk: i for i, h in enumerate(hooked)}
    logged = Counter(by_service[pk] for pk in IntakeEvent.objects.values_list("integration_id", flat=True))
    assert logged == rules.events
    assert sum(logged.values()) == STORM
    assert not IntakeEvent.objects.exclude(status__in=["processed", "ignored"]).exists()
    ignored = Counter(
        by_service[pk]
        for pk in IntakeEvent.objects.filter(status="ignored").values_list("integration_id", flat=True)
    )
    assert ignored == rules.ignored
    # Per service: alerts by status, incidents open and resolved; then every incident with its exact alerts.
    summary = Counter(
        (by_service[pk], status) for pk, status in Alert.objects.values_list("integration_id", "status")
    )
    assert summary == Counter((a.service, a.status) for a in rules.alerts)
    actual = _incident_shapes(hooked)
    expected = _expected_shapes(rules)
    assert all(len({alert[0] for alert in alerts}) == 1 for _, alerts in actual), "one service per incident"
    per_service = Counter(
        (alerts[0][0], is_open) for (is_open, alerts), n in actual.items() for _ in range(n)
    )
    assert per_service == Counter((i.service, i.open) for i in rules.incidents)
    assert actual == expected
    # The same totals, worked out by hand from storm_phases:
    # alerts 6×14 + 2×11 + 5×137 + 2×20 + (16+20+16+15+16) = 914; incidents 6×14 + 2×11 + 5×5 + 2×4 + 7 = 146,
    # of which resolved 6×4 + 2×3 + 5×1 + 2×1 + 1 = 38; ignored follow-ups 6 + 2 + 5×25 = 133.
    assert (len(rules.alerts), Alert.objects.count()) == (914, 914)
    assert (len(rules.incidents), Incident.objects.count()) == (146, 146)
    assert Incident.objects.exclude(state__in=OPEN_STATES).count() == 38
    assert sum(rules.ignored.values()) == 133
