"""A real Prometheus Alertmanager (Debian's ``prometheus-alertmanager``) delivering to a live ``warroom serve``.

Alerts posted to Alertmanager's own API reach Warroom through its webhook receivers, configured the way
docs/integrations/alertmanager.md tells users to: one receiver with the key in ``http_config.authorization``,
one with the key in the path. Each Alertmanager group opens one incident holding both of its alerts
(``grouping="group_key"``); when the alerts end, Alertmanager sends the resolved group and the alerts and the
incident resolve in Warroom.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.alerts.live import Database, Process, wait_for, warroom
from tests.smoke.test_serve import WARROOM, _free_port, _wait_healthy

ALERTMANAGER = Path("/usr/bin/prometheus-alertmanager")

pytestmark = pytest.mark.skipif(
    not ALERTMANAGER.exists(),
    reason=f"{ALERTMANAGER} is not installed (Debian package prometheus-alertmanager; make test installs it)",
)

SETUP = (
    "from warroom.accounts import services as a; from warroom.catalog import services as c; "
    "t = a.create_team(name='Platform', actor=None, source='cli'); "
    "[print('SLUG=' + c.create_service(team=t, name=n, tier=1, actor=None, source='cli').slug) "
    "for n in ('Checkout', 'Billing')]"
)

CONFIG = """\
global:
  resolve_timeout: 5m
route:
  receiver: warroom-header
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - receiver: warroom-path
      matchers: ['service="billing"']
receivers:
  - name: warroom-header
    webhook_configs:
      - url: http://127.0.0.1:{port}/integrations/alertmanager
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: {header_key}
  - name: warroom-path
    webhook_configs:
      - url: http://127.0.0.1:{port}/integrations/alertmanager/{path_key}
        send_resolved: true
"""

ALERTS_OF = """
SELECT a.dedup_key, a.status, a.incident_id, i.state, i.impact, i.urgency, i.title
FROM alerts_alert a
JOIN alerts_integration g ON g.id = a.integration_id
LEFT JOIN incidents_incident i ON i.id = a.incident_id
WHERE g.name = %s
ORDER BY a.dedup_key
"""

EVENT_LOG = "SELECT g.name, e.action, e.status, e.reason FROM alerts_intakeevent e JOIN alerts_integration g ON g.id = e.integration_id ORDER BY e.id"


def _integration(db: Database, service: str, name: str) -> str:
    """``warroom integration create`` as the docs show it; returns the key it prints once."""
    printed = warroom(
        db,
        "integration",
        "create",
        "--service",
        service,
        "--kind",
        "alertmanager",
        "--name",
        name,
        "--grouping",
        "group_key",
    )
    found = re.search(r"^key: (wr_ik_\S+)$", printed, re.MULTILINE)
    assert found, printed
    return found.group(1)


def _alerts(service: str, starts: datetime, *, ends: datetime | None = None) -> list[dict[str, Any]]:
    """Two alerts of one alertname (one Alertmanager group), as Prometheus posts them to /api/v2/alerts."""
    alerts = []
    for instance in ("web-1:9100", "web-2:9100"):
        alert: dict[str, Any] = {
            "labels": {
                "alertname": f"HighErrorRate{service.title()}",
                "instance": instance,
                "service": service,
                "severity": "critical",
            },
            "annotations": {"summary": f"High 5xx rate on {service}"},
            "startsAt": starts.isoformat(),
            "generatorURL": "http://prometheus:9090/graph?g0.expr=up",
        }
        if ends is not None:
            alert["endsAt"] = ends.isoformat()
        alerts.append(alert)
    return alerts


def test_alerts_from_a_real_alertmanager_open_one_incident_per_group_and_resolve_it(
    tmp_path: Path, migrated_data_dir: Path
) -> None:
    db = Database(migrated_data_dir)
    db.env["WARROOM_ENGINE_INTERVAL"] = "0.2"
    port, am_port = _free_port(), _free_port()
    server = Process([str(WARROOM), "serve", "--port", str(port)], env=db.env, log=tmp_path / "warroom.log")
    manager: Process | None = None

    def explain() -> str:
        log = "\n".join(map(str, db.query(EVENT_LOG)))
        am_log = manager.output() if manager else ""
        return f"\nwarroom event log:\n{log}\nwarroom output:\n{server.output()}\nalertmanager:\n{am_log}"

    try:
        _wait_healthy(f"http://127.0.0.1:{port}/healthz", server.popen)
        slugs = re.findall(r"^SLUG=(\S+)$", warroom(db, "manage", "shell", "-c", SETUP), re.MULTILINE)
        header_key = _integration(db, slugs[0], "prometheus-header")
        path_key = _integration(db, slugs[1], "prometheus-path")

        config = tmp_path / "alertmanager.yml"
        config.write_text(CONFIG.format(port=port, header_key=header_key, path_key=path_key))
        manager = Process(
            [
                str(ALERTMANAGER),
                f"--config.file={config}",
                f"--storage.path={tmp_path / 'alertmanager'}",
                f"--web.listen-address=127.0.0.1:{am_port}",
                "--cluster.listen-address=",
                "--log.level=warn",
            ],
            env=db.env,
            log=tmp_path / "alertmanager.log",
        )
        am = f"http://127.0.0.1:{am_port}"

        def ready() -> bool:
            assert manager is not None and manager.alive(), f"alertmanager exited:{explain()}"
            try:
                return httpx.get(f"{am}/-/ready", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(ready, "Alertmanager ready", explain=explain)

        starts = datetime.now(UTC) - timedelta(seconds=5)
        firing = _alerts("checkout", starts) + _alerts("billing", starts)
        assert httpx.post(f"{am}/api/v2/alerts", json=firing, timeout=10).status_code == 200
        fingerprints: dict[str, set[str]] = {"checkout": set(), "billing": set()}
        for alert in httpx.get(f"{am}/api/v2/alerts", timeout=10).json():
            fingerprints[alert["labels"]["service"]].add(alert["fingerprint"])

        def group_state(name: str, status: str, state: str) -> list[tuple[Any, ...]] | None:
            rows = db.query(ALERTS_OF, [name])
            done = len(rows) == 2 and all(r[1] == status and r[3] == state for r in rows)
            return rows if done else None

        for service, name in (("checkout", "prometheus-header"), ("billing", "prometheus-path")):
            rows = wait_for(
                functools.partial(group_state, name, "triggered", "new"),
                f"{name}: two triggered alerts in a new incident",
                explain=explain,
            )
            # Warroom's alerts are Alertmanager's alerts (same fingerprints), both in one incident opened
            # with the priority of a critical alert and the alert's summary as its title.
            assert {r[0] for r in rows} == fingerprints[service]
            assert len({r[2] for r in rows}) == 1
            assert rows[0][4:] == (1, 1, f"High 5xx rate on {service}")
        checkout_incident = db.query(ALERTS_OF, ["prometheus-header"])[0][2]
        billing_incident = db.query(ALERTS_OF, ["prometheus-path"])[0][2]
        assert checkout_incident != billing_incident

        ended = _alerts("checkout", starts, ends=datetime.now(UTC) - timedelta(seconds=1))
        ended += _alerts("billing", starts, ends=datetime.now(UTC) - timedelta(seconds=1))
        assert httpx.post(f"{am}/api/v2/alerts", json=ended, timeout=10).status_code == 200
        for name, incident in (
            ("prometheus-header", checkout_incident),
            ("prometheus-path", billing_incident),
        ):
            rows = wait_for(
                functools.partial(group_state, name, "resolved", "resolved"),
                f"{name}: both alerts and their incident resolved",
                explain=explain,
            )
            assert {r[2] for r in rows} == {incident}
        # Nothing Alertmanager sent was refused, and the key in the path stayed out of Warroom's output.
        assert not [row for row in db.query(EVENT_LOG) if row[2] == "rejected"], explain()
        assert path_key not in server.log.read_text(errors="replace")
    finally:
        if manager is not None:
            manager.stop()
        server.stop()
