"""An intake process killed with SIGKILL in the middle of a storm loses no event it answered 2xx.

``warroom web`` (granian, 2 workers, no engine) takes PagerDuty events with unique dedup keys from several
threads; once a few hundred are accepted, its whole process group is killed with SIGKILL while requests are in
flight. Every dedup key that was answered 202 must then be in the event log, and after ``warroom engine --once``
runs over the same database, an alert. Requests that failed or got no answer may or may not have landed.

On SQLite always (the file in a fresh data dir); on PostgreSQL too when the suite runs against it
(``WARROOM_DATABASE_URL``), in a fresh database created for the test and dropped after it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.alerts.live import Database, Process, fresh_postgres_database, postgres_url, wait_for, warroom
from tests.smoke.test_serve import WARROOM, _free_port, _wait_healthy

SENDERS = 4
KILL_AFTER = 300  # accepted events before the kill

SETUP = (
    "from warroom.accounts import services as a; from warroom.catalog import services as c; "
    "from warroom.alerts import services as s; "
    "t = a.create_team(name='Ops', actor=None, source='cli'); "
    "v = c.create_service(team=t, name='Payments', tier=1, actor=None, source='cli'); "
    "i = s.create_integration(service=v, kind='pagerduty', name='storm', actor=None, source='cli'); "
    "print('KEY=' + s.create_integration_key(integration=i, actor=None, source='cli').secret)"
)


@pytest.fixture(params=[pytest.param("sqlite", marks=pytest.mark.own_sqlite), "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        yield Database(request.getfixturevalue("migrated_data_dir"))
        return
    server = postgres_url()
    if not server:
        pytest.skip("the suite runs on SQLite (set WARROOM_DATABASE_URL to a PostgreSQL URL for this one)")
    with fresh_postgres_database(server) as url:
        yield Database(tmp_path, url)


class Storm:
    """Senders posting PagerDuty triggers with unique dedup keys until the server stops answering."""

    def __init__(self, url: str, key: str) -> None:
        self.url, self.key = url, key
        self.accepted: list[str] = []
        self.answered_otherwise: list[str] = []
        self.killed = threading.Event()
        self.threads = [threading.Thread(target=self._send, args=(n,)) for n in range(SENDERS)]

    def _send(self, sender: int) -> None:
        with httpx.Client(timeout=10) as client:
            number = 0
            while not self.killed.is_set():
                dedup_key = f"crash/{sender}/{number}"
                number += 1
                body = {
                    "routing_key": self.key,
                    "event_action": "trigger",
                    "dedup_key": dedup_key,
                    "payload": {"summary": f"Storm {dedup_key}", "source": "loadgen", "severity": "error"},
                }
                try:
                    response = client.post(self.url, json=body)
                except httpx.TransportError:
                    continue  # no answer: it may or may not have landed; keep going until the kill is done
                if response.status_code == 202 and response.json().get("dedup_key") == dedup_key:
                    self.accepted.append(dedup_key)
                elif response.status_code != 429:  # over the key's rate: the sender retries later
                    self.answered_otherwise.append(
                        f"{dedup_key}: {response.status_code} {response.text[:200]}"
                    )

    def __enter__(self) -> Storm:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.killed.set()
        for thread in self.threads:
            thread.join(timeout=60)


def test_sigkill_mid_storm_loses_no_event_that_was_answered_202(db: Database, tmp_path: Path) -> None:
    warroom(db, "migrate")
    key = re.findall(r"^KEY=(\S+)$", warroom(db, "manage", "shell", "-c", SETUP), re.MULTILINE)[0]
    port = _free_port()
    web = Process(
        [str(WARROOM), "web", "--port", str(port), "--workers", "2"], env=db.env, log=tmp_path / "web.log"
    )
    try:
        _wait_healthy(f"http://127.0.0.1:{port}/healthz", web.popen)
        with Storm(f"http://127.0.0.1:{port}/v2/enqueue", key) as storm:
            wait_for(
                lambda: len(storm.accepted) >= KILL_AFTER or None,
                f"{KILL_AFTER} events accepted",
                explain=lambda: f"{storm.answered_otherwise[:5]}\n{web.output()}",
            )
            web.kill()
    finally:
        web.stop()
    accepted = set(storm.accepted)  # every 202 came before the kill: nothing answers after it
    assert storm.answered_otherwise == [], storm.answered_otherwise[:5]
    assert len(accepted) >= KILL_AFTER

    logged = {row[0] for row in db.query("SELECT dedup_key FROM alerts_intakeevent")}
    assert accepted - logged == set(), f"{len(accepted - logged)} accepted events were lost"

    # A fresh engine over the same database turns every accepted event into an alert.
    warroom(db, "engine", "--once")
    alerts = {row[0] for row in db.query("SELECT dedup_key FROM alerts_alert")}
    assert accepted - alerts == set(), f"{len(accepted - alerts)} accepted events made no alert"
    assert db.query("SELECT count(*) FROM alerts_intakeevent WHERE status <> %s", ["processed"]) == [(0,)]
