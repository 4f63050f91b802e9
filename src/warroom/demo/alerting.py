"""The demo's alerting side: integrations on every service, and alerts fed in exactly as the senders send them.

Each event is a JSON body in its sender's own format (Alertmanager webhook v4, Grafana alerting v1, PagerDuty
Events v2, the generic webhook) posted to the real intake view with the integration's key, or a heartbeat ping
through :func:`warroom.alerts.heartbeat.receive`; the ``alerts.process`` engine module then deduplicates and
groups it at the same (frozen) instant. So the incidents whose story starts in monitoring are *opened by their
first alert*, later alerts join them with the engine's own grouping reason, and the noise is real noise: alerts
that resolve on their own, and one that flaps.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from warroom.accounts.models import Role
from warroom.alerts import engine as alerts_engine
from warroom.alerts import heartbeat, intake
from warroom.alerts import services as alerts
from warroom.alerts.models import Alert
from warroom.demo.data import SERVICES
from warroom.demo.world import World
from warroom.incidents import services as incidents
from warroom.lib import clock

Action = Callable[[], None]

_REQUESTS = RequestFactory()
_VIEWS: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "alertmanager": intake.alertmanager,
    "grafana": intake.grafana,
    "pagerduty": intake.pagerduty_enqueue,
    "webhook": intake.webhook,
}


@dataclass(frozen=True)
class IntegrationSpec:
    service: str
    kind: str
    name: str
    options: dict[str, Any] = field(default_factory=dict)


#: one or two per service; names are unique across the demo (the world's keys are by name)
INTEGRATIONS = (
    IntegrationSpec(
        "Postgres cluster",
        "alertmanager",
        "Prometheus (postgres)",
        {"grouping": "group_key", "auto_resolve_incident": False},
    ),
    IntegrationSpec(
        "Postgres cluster",
        "heartbeat",
        "Nightly base backup",
        {
            "heartbeat_interval_seconds": 86400,
            "heartbeat_grace_seconds": 7200,
            "auto_resolve_incident": False,
        },
    ),
    IntegrationSpec(
        "Kubernetes platform",
        "alertmanager",
        "Prometheus (kubernetes)",
        {"grouping": "group_key", "auto_resolve_incident": False},
    ),
    IntegrationSpec("Edge & CDN", "pagerduty", "Synthetic checks (edge)", {"auto_resolve_incident": False}),
    IntegrationSpec(
        "CI/CD pipeline", "webhook", "Runner fleet monitor", {"severity_map": {"warning": [3, 2]}}
    ),
    IntegrationSpec(
        "Observability stack",
        "grafana",
        "Grafana alerting (observability)",
        {"grouping": "group_key", "auto_resolve_incident": False},
    ),
    IntegrationSpec("Identity API", "pagerduty", "Datadog (identity)", {"auto_resolve_incident": False}),
    IntegrationSpec(
        "SSO gateway",
        "webhook",
        "Certificate checker",
        {"grouping": "fields", "group_fields": ["source"], "auto_resolve_incident": False},
    ),
    IntegrationSpec("Payments API", "pagerduty", "Datadog (payments)", {"auto_resolve_incident": False}),
    IntegrationSpec(
        "Checkout",
        "grafana",
        "Grafana alerting (checkout)",
        {"grouping": "group_key", "auto_resolve_incident": False},
    ),
    IntegrationSpec("Checkout", "pagerduty", "Synthetic checks (checkout)", {"auto_resolve_incident": False}),
    IntegrationSpec("Billing & invoicing", "webhook", "Billing jobs", {"auto_resolve_incident": False}),
)

BACKUP = "Nightly base backup"
#: when the nightly backup pings, UTC
BACKUP_AT = time(2, 10)


def create_integrations(world: World) -> None:
    """Every integration with one key (the secret is kept in the world, as the sender's config would hold it)."""
    team_of = {spec.name: spec.team for spec in SERVICES}
    for spec in INTEGRATIONS:
        team = team_of[spec.service]
        owner = world.members(team, Role.ADMIN, Role.MANAGER)[0]
        integration = alerts.create_integration(
            service=world.services[spec.service],
            kind=spec.kind,
            name=spec.name,
            actor=owner,
            source="web",
            **spec.options,
        )
        key = alerts.create_integration_key(integration=integration, actor=owner, source="web")
        world.keys[spec.name] = key.secret


# ---------------------------------------------------------------------------------------------------------------
# the alerts: what each sender says about one condition


@dataclass(frozen=True)
class DemoAlert:
    integration: str
    summary: str
    severity: str  # critical, error, warning (Alertmanager and Grafana carry it as a label)
    source: str
    labels: dict[str, str] = field(default_factory=dict)
    group: str = ""  # Alertmanager/Grafana group key (their route's group_by labels)

    @property
    def fingerprint(self) -> str:
        text = json.dumps([self.integration, self.summary, self.source, sorted(self.labels.items())])
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _alertmanager(alert: DemoAlert, firing: bool, started: datetime, now: datetime) -> dict[str, Any]:
    labels = {"alertname": alert.labels.get("alertname", "Alert"), **alert.labels, "severity": alert.severity}
    group_labels = {name: labels[name] for name in ("alertname", "cluster") if name in labels}
    item = {
        "status": "firing" if firing else "resolved",
        "labels": labels,
        "annotations": {"summary": alert.summary, "runbook_url": "https://wiki.example.com/runbooks/alerts"},
        "startsAt": _iso(started),
        "endsAt": "0001-01-01T00:00:00Z" if firing else _iso(now),
        "generatorURL": f"https://prometheus.example.com/graph?g0.expr={labels['alertname']}",
        "fingerprint": alert.fingerprint,
    }
    return {
        "version": "4",
        "groupKey": alert.group or '{}:{alertname="' + labels["alertname"] + '"}',
        "truncatedAlerts": 0,
        "status": item["status"],
        "receiver": "warroom",
        "groupLabels": group_labels,
        "commonLabels": labels,
        "commonAnnotations": item["annotations"],
        "externalURL": "https://alertmanager.example.com",
        "alerts": [item],
    }


def _grafana(alert: DemoAlert, firing: bool, started: datetime, now: datetime) -> dict[str, Any]:
    body = _alertmanager(alert, firing, started, now)
    item = body["alerts"][0]
    item.update(
        {
            "generatorURL": "https://grafana.example.com/alerting/grafana/demo/view",
            "silenceURL": "https://grafana.example.com/alerting/silence/new",
            "dashboardURL": "https://grafana.example.com/d/overview",
            "panelURL": "https://grafana.example.com/d/overview?viewPanel=2",
            "values": {"A": 91.4 if firing else 71.2},
            "valueString": f"[ var='A' labels={{}} value={91.4 if firing else 71.2} ]",
        }
    )
    item["labels"]["grafana_folder"] = "Production"
    state = "FIRING" if firing else "RESOLVED"
    body.update(
        {
            "version": "1",
            "orgId": 1,
            "externalURL": "https://grafana.example.com/",
            "title": f"[{state}:1] {item['labels']['alertname']} (Production)",
            "state": "alerting" if firing else "ok",
            "message": f"**{state}**\n\n{alert.summary}",
        }
    )
    return body


def _pagerduty(alert: DemoAlert, firing: bool, started: datetime, routing_key: str) -> dict[str, Any]:
    if not firing:
        return {"routing_key": routing_key, "event_action": "resolve", "dedup_key": alert.fingerprint}
    return {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": alert.fingerprint,
        "payload": {
            "summary": alert.summary,
            "timestamp": _iso(started),
            "severity": alert.severity,
            "source": alert.source,
            "component": alert.labels.get("component", ""),
            "group": alert.labels.get("group", "production"),
            "class": alert.labels.get("class", "availability"),
            "custom_details": {
                k: v for k, v in alert.labels.items() if k not in ("component", "group", "class")
            },
        },
        "client": "Datadog" if "Datadog" in alert.integration else "Checkly",
        "client_url": "https://monitoring.example.com/monitors",
    }


def _webhook(alert: DemoAlert, firing: bool) -> dict[str, Any]:
    if not firing:
        return {"action": "resolve", "dedup_key": alert.fingerprint}
    return {
        "action": "trigger",
        "dedup_key": alert.fingerprint,
        "summary": alert.summary,
        "severity": alert.severity,
        "source": alert.source,
        "details": dict(alert.labels),
        "links": [{"href": "https://monitoring.example.com/", "text": "Monitor"}],
    }


def _kind(world: World, alert: DemoAlert) -> str:
    return next(spec.kind for spec in INTEGRATIONS if spec.name == alert.integration)


#: how long before its first event each sender saw the problem begin (its ``startsAt``/``timestamp``): a
#: Prometheus rule's ``for: 5m`` and Alertmanager's ``group_wait: 30s``; Grafana's pending period and group wait;
#: a PagerDuty-speaking monitor's two failed checks a minute apart. Time to detect counts from it.
SENDER_DELAY = {
    "alertmanager": timedelta(minutes=5, seconds=30),
    "grafana": timedelta(minutes=3, seconds=30),
    "pagerduty": timedelta(minutes=2),
}


def send(world: World, alert: DemoAlert, *, firing: bool, started: datetime) -> None:
    """Post one event for ``alert`` as its sender would, now (the caller froze the clock), then let the engine
    process it at once. ``started`` is when the sender first reported the alert; the payload says the problem
    began :data:`SENDER_DELAY` before that, as the real sender's would."""
    now = clock.now()
    kind, secret = _kind(world, alert), world.keys[alert.integration]
    started -= SENDER_DELAY.get(kind, timedelta(0))
    if kind == "alertmanager":
        body = _alertmanager(alert, firing, started, now)
    elif kind == "grafana":
        body = _grafana(alert, firing, started, now)
    elif kind == "pagerduty":
        body = _pagerduty(alert, firing, started, secret)
    else:
        body = _webhook(alert, firing)
    request = _REQUESTS.post(
        "/integrations/demo/",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}", "User-Agent": f"{kind}-demo/1.0"},
    )
    answer = _VIEWS[kind](request)
    if answer.status_code != 202:
        raise RuntimeError(f"demo alert refused by {alert.integration}: {answer.content!r}")
    alerts_engine.process(now)


def ping(world: World, name: str, *, failed: bool = False, output: str = "") -> None:
    heartbeat.receive(
        world.keys[name],
        heartbeat.Ping(failed=failed, method="POST", user_agent="curl/8.5.0", output=output),
    )
    alerts_engine.process(clock.now())


# ---------------------------------------------------------------------------------------------------------------
# incidents that monitoring opened: their first alert opens them, the rest join


@dataclass(frozen=True)
class Beat:
    minutes: float  # after the first alert
    alert: DemoAlert
    firing: bool = True


@dataclass(frozen=True)
class AlertStory:
    beats: tuple[Beat, ...]
    #: resolve every alert still firing a few minutes before the incident is resolved (when it is)
    clear_on_resolve: bool = True


PG = '{}/{}:{cluster="pg-main"}'
PG_DOWN = DemoAlert(
    "Prometheus (postgres)",
    "PostgreSQL primary pg-1 is down",
    "critical",
    "pg-1:9187",
    {"alertname": "PostgresPrimaryDown", "cluster": "pg-main", "instance": "pg-1:9187"},
    PG,
)
PG_FAILOVER = DemoAlert(
    "Prometheus (postgres)",
    "Patroni promoted pg-2 to primary",
    "critical",
    "pg-2:8008",
    {"alertname": "PatroniFailover", "cluster": "pg-main", "instance": "pg-2:8008"},
    PG,
)
PGBOUNCER = DemoAlert(
    "Prometheus (postgres)",
    "PgBouncer: writes failing on the read-only backend",
    "critical",
    "pgbouncer-0:9127",
    {"alertname": "PgBouncerServerErrors", "cluster": "pg-main", "instance": "pgbouncer-0:9127"},
    PG,
)
SYNTH_EU = DemoAlert(
    "Synthetic checks (checkout)",
    "Checkout journey failing from eu-west (3 of 3 locations)",
    "critical",
    "checkly-eu-west-1",
    {"component": "checkout", "class": "synthetic"},
)
CHECKOUT_ERRORS = DemoAlert(
    "Grafana alerting (checkout)",
    "Checkout error rate above 5 %",
    "critical",
    "checkout",
    {"alertname": "CheckoutErrorRate", "service": "checkout"},
    '{}:{alertname="CheckoutErrorRate"}',
)
PROM_DISK = DemoAlert(
    "Grafana alerting (observability)",
    "Disk usage above 85 % on prometheus-0",
    "warning",
    "prometheus-0",
    {"alertname": "DiskUsageHigh", "instance": "prometheus-0"},
    '{}:{alertname="DiskUsageHigh"}',
)
SSO_CERT = DemoAlert(
    "Certificate checker",
    "Okta SAML signing certificate expires in 14 days",
    "warning",
    "sso.example.com",
    {"certificate": "okta-saml-signing", "expires_in_days": "14"},
)
K8S = '{}:{alertname="KubePodEvicted"}'
EVICTIONS = tuple(
    DemoAlert(
        "Prometheus (kubernetes)",
        f"Pod {pod} evicted: node memory pressure",
        "error",
        node,
        {
            "alertname": "KubePodEvicted",
            "namespace": "batch",
            "pod": pod,
            "instance": node,
            "job": "kube-state-metrics",
        },
        K8S,
    )
    for pod, node in (
        ("report-export-7f9c4", "kube-batch-3"),
        ("invoice-render-5d2b8", "kube-batch-3"),
        ("search-reindex-6c1a2", "kube-batch-5"),
    )
)
LOGIN_P95 = DemoAlert(
    "Datadog (identity)",
    "Sign-in p95 latency above 2 s",
    "error",
    "identity-api",
    {"component": "identity-api", "class": "latency", "p95_ms": "2310"},
)
EDGE_TLS = DemoAlert(
    "Synthetic checks (edge)",
    "TLS handshake failing on api.example.com",
    "critical",
    "checkly-us-east-1",
    {"component": "edge", "class": "tls"},
)

ALERT_STORIES: dict[str, AlertStory] = {
    "pg-failover": AlertStory(
        (Beat(0, PG_DOWN), Beat(0.5, PG_FAILOVER), Beat(1.5, PGBOUNCER), Beat(4, PGBOUNCER))
    ),
    "synthetic-eu": AlertStory((Beat(0, SYNTH_EU), Beat(5, SYNTH_EU), Beat(10, SYNTH_EU))),
    "checkout-alert-dup": AlertStory(
        (Beat(0, CHECKOUT_ERRORS), Beat(30, CHECKOUT_ERRORS, firing=False)), False
    ),
    # flapping: fires three times within a quarter of an hour, resolving itself in between
    "prometheus-disk": AlertStory(
        (
            Beat(0, PROM_DISK),
            Beat(3, PROM_DISK, firing=False),
            Beat(6, PROM_DISK),
            Beat(8, PROM_DISK, firing=False),
            Beat(11, PROM_DISK),
            Beat(13, PROM_DISK, firing=False),
        ),
        False,
    ),
    "sso-cert-expiry": AlertStory((Beat(0, SSO_CERT),)),
    "k8s-evictions": AlertStory(tuple(Beat(n * 1.5, a) for n, a in enumerate(EVICTIONS))),
    "login-latency": AlertStory((Beat(0, LOGIN_P95), Beat(6, LOGIN_P95), Beat(15, LOGIN_P95))),
    "edge-tls": AlertStory((Beat(0, EDGE_TLS), Beat(2, EDGE_TLS))),
}
#: incidents the nightly backup heartbeat opened (a failure ping), with the ping that reported it
HEARTBEAT_STORIES = {
    "backup-failed": "pg_basebackup: error: could not connect to server: connection to pg-2 timed out",
}


def opened_by_monitoring(key: str) -> bool:
    return key in ALERT_STORIES or key in HEARTBEAT_STORIES


def open_incident(world: World, key: str) -> Action:
    """The story's first step: its first alert arrives and the engine opens the incident."""

    def run() -> None:
        started = clock.now()
        if key in HEARTBEAT_STORIES:
            ping(world, BACKUP, failed=True, output=HEARTBEAT_STORIES[key])
            alert = Alert.objects.filter(integration__name=BACKUP).latest("first_seen")
        else:
            first = ALERT_STORIES[key].beats[0].alert
            send(world, first, firing=True, started=started)
            alert = Alert.objects.filter(
                integration__name=first.integration, dedup_key=first.fingerprint
            ).latest("first_seen")
        assert alert.incident_id is not None, f"demo alert of {key} opened no incident"
        world.incident_pks[key] = alert.incident_id

    return run


def beat(world: World, key: str, item: Beat) -> Action:
    def run() -> None:
        send(world, item.alert, firing=item.firing, started=world.incident(key).opened_at)

    return run


def clear(world: World, key: str) -> Action:
    """Everything of the story still firing resolves at the source (the fix took)."""

    def run() -> None:
        started = world.incident(key).opened_at
        if key in HEARTBEAT_STORIES:
            ping(world, BACKUP, output="base backup completed (manual run)")
            return
        seen: set[str] = set()
        for item in (b.alert for b in ALERT_STORIES[key].beats):
            if item.fingerprint not in seen:
                seen.add(item.fingerprint)
                send(world, item, firing=False, started=started)

    return run


# ---------------------------------------------------------------------------------------------------------------
# background: the nightly backup's pings and the runner fleet's noise


RUNNER_DISK = "Runner pool disk above 90 % on {host}"


def plan_background(
    world: World, setup: datetime, now: datetime, rng: random.Random, skip: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, Action]]:
    """The backup pings every night (except in the ``skip`` spans, when the backup story speaks for it), and a
    few runner-disk alerts that resolve on their own minutes later (and with them the incidents they opened, which
    the engine closes after the resolution period), one of which flaps."""
    planned: list[tuple[datetime, Action]] = []
    autoclose_days: int = settings.WARROOM_AUTOCLOSE_DAYS
    day = setup.date() + timedelta(days=1)
    while True:
        at = datetime.combine(day, BACKUP_AT, tzinfo=UTC) + timedelta(seconds=rng.randint(0, 90))
        if at >= now - timedelta(minutes=5):
            break
        if not any(a <= at <= b for a, b in skip):
            planned.append((at, _ping(world)))
        day += timedelta(days=1)
    for days_ago, host, flaps in (
        (52.4, "ci-runner-3", 1),
        (44.1, "ci-runner-7", 1),
        (29.6, "ci-runner-7", 3),
        (19.3, "ci-runner-2", 1),
        (9.8, "ci-runner-7", 1),
        (2.7, "ci-runner-5", 1),
    ):
        alert = DemoAlert(
            "Runner fleet monitor",
            RUNNER_DISK.format(host=host),
            "warning",
            host,
            {"host": host, "mount": "/var/lib/docker", "used_percent": "91"},
        )
        start = now - timedelta(days=days_ago, minutes=rng.uniform(0, 90))
        for flap in range(flaps):
            fired = start + timedelta(minutes=flap * rng.uniform(12, 18))
            resolved = fired + timedelta(minutes=rng.uniform(3, 8))
            planned.append((fired, _fire(world, alert, fired, True)))
            planned.append((resolved, _fire(world, alert, fired, False)))  # its incident resolves with it
            closed = resolved + timedelta(days=autoclose_days, minutes=rng.uniform(5, 180))
            if autoclose_days > 0 and closed < now - timedelta(minutes=5):
                planned.append((closed, _autoclose(autoclose_days)))
    return planned


def _autoclose(days: int) -> Action:
    """The engine's auto-close module, as it ran then."""

    def run() -> None:
        incidents.close_resolved_incidents(older_than=clock.now() - timedelta(days=days))

    return run


def _ping(world: World) -> Action:
    def run() -> None:
        ping(world, BACKUP)

    return run


def _fire(world: World, alert: DemoAlert, started: datetime, firing: bool) -> Action:
    def run() -> None:
        send(world, alert, firing=firing, started=started)

    return run
