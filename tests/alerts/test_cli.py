"""``warroom alert send|list|show|ack|resolve`` against a live server: the real console script in a subprocess,
the server and token from WARROOM_URL/WARROOM_TOKEN (``send`` needs only the URL and an integration key)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.alerts.conftest import Hooked, cycle, make_integration
from tests.conftest import World
from warroom.accounts.services import create_api_token
from warroom.alerts.models import Alert, IntakeEvent
from warroom.incidents.models import Incident, TimelineEntry

# serialized_rollback: the flush after a transactional test would drop the rows the migrations seed.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

WARROOM = Path(sys.executable).parent / "warroom"

Run = Callable[..., subprocess.CompletedProcess[str]]


def _runner(live_server: Any, tmp_path: Path, token: str | None) -> Run:
    def call(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")}
        clean.update(HOME=str(tmp_path / "home"), XDG_CONFIG_HOME="", COLUMNS="200", NO_COLOR="1")
        clean["WARROOM_URL"] = live_server.url
        if token:
            clean["WARROOM_TOKEN"] = token
        clean.update(env or {})
        return subprocess.run(
            [str(WARROOM), "alert", *args], capture_output=True, text=True, env=clean, timeout=60, check=False
        )

    return call


@pytest.fixture
def run(live_server: Any, tmp_path: Path, world: World) -> Run:
    """``run(*args)`` → the finished ``warroom alert *args`` as bob (a responder in team A)."""
    _token, secret = create_api_token(user=world.bob, name="cli tests", actor=None, source="system")
    return _runner(live_server, tmp_path, secret)


@pytest.fixture
def run_as_dave(live_server: Any, tmp_path: Path, world: World) -> Run:
    _token, secret = create_api_token(user=world.dave, name="cli tests", actor=None, source="system")
    return _runner(live_server, tmp_path, secret)


@pytest.fixture
def hook(world: World) -> Hooked:
    return make_integration(world, "webhook")


def test_send_webhook_trigger_then_resolve(run: Run, hook: Hooked) -> None:
    sent = run(
        "send", "--key", hook.key, "--summary", "Queue depth above 10k", "--severity", "error",
        "--dedup-key", "queue/orders", "--source", "rabbitmq-1",
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.strip() == "Accepted (trigger); dedup key queue/orders."
    event = IntakeEvent.objects.get()
    assert event.payload["summary"] == "Queue depth above 10k" and event.fields["severity"] == "error"
    cycle()
    alert = Alert.objects.get()
    assert (alert.summary, alert.source, alert.severity) == ("Queue depth above 10k", "rabbitmq-1", "error")

    resolved = run("send", "--key", hook.key, "--action", "resolve", "--dedup-key", "queue/orders", "--json")
    assert resolved.returncode == 0, resolved.stderr
    assert json.loads(resolved.stdout)["dedup_key"] == "queue/orders"
    cycle()
    assert Alert.objects.get().status == "resolved"


def test_send_pagerduty_with_key_from_the_environment(run: Run, world: World) -> None:
    pd = make_integration(world, "pagerduty")
    sent = run("send", "--kind", "pagerduty", "--summary", "Disk full", "--severity", "critical",
               env={"WARROOM_INTEGRATION_KEY": pd.key})  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.startswith("Accepted (trigger); dedup key ")
    event = IntakeEvent.objects.get()
    assert event.payload["routing_key"] == pd.key and event.payload["event_action"] == "trigger"
    assert event.payload["payload"]["source"]  # the host name by default


def test_send_refusals(run: Run, hook: Hooked, world: World) -> None:
    wrong_kind = run("send", "--kind", "pagerduty", "--key", hook.key, "--summary", "x")
    assert wrong_kind.returncode == 1
    assert "belongs to a Generic JSON webhook integration" in wrong_kind.stderr
    unknown = run("send", "--key", "wr_ik_unknown", "--summary", "x")
    assert unknown.returncode == 1 and "not an active integration key" in unknown.stderr
    no_summary = run("send", "--key", hook.key)
    assert no_summary.returncode == 2 and "--summary is required" in no_summary.stderr
    no_dedup = run("send", "--key", hook.key, "--action", "resolve")
    assert no_dedup.returncode == 2 and "--dedup-key is required" in no_dedup.stderr
    bad_severity = run("send", "--key", hook.key, "--summary", "x", "--severity", "loud")
    assert bad_severity.returncode == 2 and "--severity must be one of" in bad_severity.stderr
    no_url = run("send", "--key", hook.key, "--summary", "x", env={"WARROOM_URL": ""})
    assert no_url.returncode == 2 and "no server URL" in no_url.stderr
    # the rejected request (known key, wrong kind) is in the event log with its reason
    assert IntakeEvent.objects.get().status == "rejected"


def test_list_show_ack_resolve(run: Run, hook: Hooked, world: World) -> None:
    for summary, key in (("Queue depth above 10k", "queue/orders"), ("Disk full on db-1", "disk/db-1")):
        assert run("send", "--key", hook.key, "--summary", summary, "--dedup-key", key).returncode == 0
    other = make_integration(world, "webhook", service=world.service_b)
    assert run("send", "--key", other.key, "--summary", "Billing export failed").returncode == 0
    cycle()
    queue = Alert.objects.get(dedup_key="queue/orders")
    disk = Alert.objects.get(dedup_key="disk/db-1")
    assert queue.incident is not None

    table = run("list")
    assert table.returncode == 0, table.stderr
    assert "Summary" in table.stdout and "Queue depth above 10k" in table.stdout
    assert "Billing export failed" not in table.stdout  # team B's
    assert table.stdout.index("Disk full") < table.stdout.index("Queue depth")  # newest first
    assert queue.incident.ref in table.stdout
    filtered = json.loads(run("list", "--json", "-q", "queue", "--status", "triggered").stdout)
    assert [a["id"] for a in filtered["items"]] == [queue.pk]
    assert run("list", "--severity", "critical").stdout.strip() == "No alerts match."
    bad = run("list", "--status", "sleeping")
    assert bad.returncode == 1 and "status" in bad.stderr

    shown = run("show", str(queue.pk))
    assert shown.returncode == 0, shown.stderr
    assert "one incident per alert" in shown.stdout and queue.incident.ref in shown.stdout
    assert json.loads(run("show", str(queue.pk), "--json").stdout)["events"][0]["status"] == "processed"

    acked = run("ack", str(queue.pk))
    assert acked.returncode == 0, acked.stderr
    assert acked.stdout.strip() == f"Alert {queue.pk} is now acknowledged: Queue depth above 10k"
    entry = TimelineEntry.objects.filter(incident=queue.incident, field="alert").order_by("-id").first()
    assert entry is not None and entry.source == "cli" and "Bob Responder (cli)" in entry.message
    twice = run("ack", str(queue.pk))
    assert twice.returncode == 1 and "already acknowledged" in twice.stderr

    resolved = run("resolve", str(queue.pk))
    assert resolved.returncode == 0, resolved.stderr
    assert f"({queue.incident.ref} resolved too)" in resolved.stdout
    assert Incident.objects.get(pk=queue.incident.pk).state == "resolved"
    assert json.loads(run("resolve", str(disk.pk), "--json").stdout)["status"] == "resolved"

    missing = run("ack", "999999")
    assert missing.returncode == 1 and "not found" in missing.stderr
    billing = Alert.objects.get(service=world.service_b)
    assert run("ack", str(billing.pk)).returncode == 1  # team B's: a 404 for bob


def test_observer_cannot_ack(run_as_dave: Run, hook: Hooked) -> None:
    assert run_as_dave("send", "--key", hook.key, "--summary", "Queue depth").returncode == 0
    cycle()
    alert = Alert.objects.get()
    refused = run_as_dave("ack", str(alert.pk))
    assert refused.returncode == 1 and "acknowledge or resolve" in refused.stderr
    assert Alert.objects.get().status == "triggered"


def test_send_a_test_alert(run: Run, run_as_dave: Run, hook: Hooked) -> None:
    integration = str(hook.integration.pk)
    refused = run_as_dave("test", "--integration", integration)
    assert refused.returncode == 1 and "send test alerts" in refused.stderr
    sent = run("test", "--integration", integration, "--severity", "warning")
    assert sent.returncode == 0, sent.stderr
    assert f"Test alert sent through integration {integration}" in sent.stdout
    cycle()
    alert = Alert.objects.get()
    assert alert.is_test and alert.incident is not None and alert.incident.is_test
