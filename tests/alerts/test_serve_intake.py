"""End to end on `warroom serve --demo`: a PagerDuty trigger over real HTTP opens an incident through the
engine thread, and the resolve resolves it."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx

from tests.smoke.test_serve import WARROOM, _free_port, _wait_healthy

MAKE_KEY = (
    "from warroom.alerts import services; from warroom.catalog.models import Service; "
    "i = services.create_integration(service=Service.objects.order_by('id').first(), kind='pagerduty', "
    "name='smoke', actor=None, source='cli'); "
    "print('KEY=' + services.create_integration_key(integration=i, actor=None, source='cli').secret)"
)


def _incident_state(db_path: Path) -> str | None:
    with sqlite3.connect(db_path) as db:
        row = db.execute(
            "SELECT i.state FROM incidents_incident i JOIN alerts_alert a ON a.incident_id = i.id "
            "WHERE a.dedup_key = 'smoke/1'"
        ).fetchone()
    return row[0] if row else None


def _wait_state(db_path: Path, state: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _incident_state(db_path) == state:
            return
        time.sleep(0.2)
    raise AssertionError(f"the incident did not become {state} (it is {_incident_state(db_path)})")


def test_pagerduty_trigger_and_resolve_through_a_running_server(demo_data_dir: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")}
    env.update(WARROOM_DATA_DIR=str(demo_data_dir), WARROOM_ENGINE_INTERVAL="0.2")
    proc = subprocess.Popen(
        [str(WARROOM), "serve", "--demo", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        _wait_healthy(f"http://127.0.0.1:{port}/healthz", proc)
        # Without WARROOM_BASE_URL the links follow the port `serve` listens on (the demo's status page feed).
        feed = httpx.get(f"http://127.0.0.1:{port}/status/example-cloud/feed.atom", timeout=10)
        assert feed.status_code == 200 and f"http://127.0.0.1:{port}/status/example-cloud/" in feed.text
        made = subprocess.run(
            [str(WARROOM), "manage", "shell", "-c", MAKE_KEY],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        key = next(line[4:] for line in made.stdout.splitlines() if line.startswith("KEY="))
        url = f"http://127.0.0.1:{port}/v2/enqueue"
        trigger = {
            "routing_key": key,
            "event_action": "trigger",
            "dedup_key": "smoke/1",
            "payload": {"summary": "Smoke alert", "source": "smoke-host", "severity": "critical"},
        }
        response = httpx.post(url, json=trigger, timeout=10)
        assert response.status_code == 202, response.text
        assert response.json()["dedup_key"] == "smoke/1"
        _wait_state(demo_data_dir / "warroom.sqlite3", "new")
        resolve = {"routing_key": key, "event_action": "resolve", "dedup_key": "smoke/1"}
        assert httpx.post(url, json=resolve, timeout=10).status_code == 202
        _wait_state(demo_data_dir / "warroom.sqlite3", "resolved")

        # The REST API reads a chunked body (no Content-Length) like any other, as granian hands it over.
        token = subprocess.run(
            [str(WARROOM), "token", "create", "--email", "admin@example.com", "--name", "chunked"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        secret = next(word for word in token.stdout.split() if word.startswith("wr_"))
        api = f"http://127.0.0.1:{port}/api/v1"
        headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
        ref = httpx.get(f"{api}/incidents", params={"limit": 1}, headers=headers, timeout=10).json()["items"][
            0
        ]
        note = httpx.post(
            f"{api}/incidents/{ref['ref']}/notes",
            content=iter([b'{"text": "sent in ', b'chunks"}']),  # an iterator: httpx sends it chunked
            headers=headers,
            timeout=10,
        )
        assert note.status_code == 201, note.text
        assert note.json()["message"] == "sent in chunks"
        huge = httpx.post(
            f"{api}/incidents/{ref['ref']}/notes",
            content=iter([b'{"text": "', b"a" * 1_100_000, b'"}']),
            headers=headers,
            timeout=10,
        )
        assert huge.status_code == 413 and huge.json()["code"] == "too_large"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
