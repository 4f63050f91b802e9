"""``warroom workflow list|show`` against a live server: the real console script in a subprocess."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import declare
from tests.cli.live import Run, client_as
from tests.conftest import World
from warroom.automation import runner
from warroom.automation import services as automation
from warroom.automation.models import Workflow
from warroom.automation.services import WorkflowSpec
from warroom.comms import outbox
from warroom.lib import clock

# serialized_rollback: the flush after a transactional test would drop the rows the migrations seed.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def run(live_server: Any, tmp_path: Path, world: World) -> Run:
    """``run(*args)`` → the finished ``warroom workflow *args`` as bob (a responder: he reads workflows)."""
    return client_as(world.bob, live_server.url, tmp_path / "home", "workflow")


def playbook(world: World, **changes: Any) -> Workflow:
    spec = WorkflowSpec(
        name="P1 playbook",
        trigger="declared",
        tasks=["Open a bridge call"],
        roles={"incident-commander": world.alice.pk},
        notify_users=[world.bob.pk],
        notify_urgency="low",
        message="A P1 is open: join the bridge.",
    )
    for name, value in changes.items():
        setattr(spec, name, value)
    return automation.create_workflow(team=world.team_a, spec=spec, actor=world.alice, source="test")


def test_list_and_show_workflows(run: Run, world: World) -> None:
    assert (run("list").returncode, run("list").stdout.strip()) == (0, "No workflows match.")
    with clock.frozen(T0):
        first = playbook(world, priorities=[1, 2], services=[world.service_a.pk])
        runner.run(clock.now())  # the runner's first pass starts its clock
        incident = declare(world, title="Checkout returns 500", impact=1, urgency=1)
        clock.advance(timedelta(seconds=5))
        assert runner.run(clock.now()) == 1
    playbook(world, name="Thank support", trigger="resolved", roles={}, notify_users=[], enabled=False)

    table = run("list")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    row = next(line for line in lines if "P1 playbook" in line)
    assert "team-a" in row and "declared" in row and "P1, P2; Checkout" in row
    assert "1 task, 1 role, notify 1 (low)" in row
    disabled = next(line for line in lines if "Thank support" in line)
    assert "resolved" in disabled and " no " in disabled

    page = json.loads(run("list", "--json", "--limit", "1").stdout)
    assert (page["count"], [w["name"] for w in page["items"]]) == (2, ["P1 playbook"])
    assert "1 of 2 shown; use --offset 1 for more." in run("list", "--limit", "1").stdout

    shown = run("show", str(first.pk))
    assert shown.returncode == 0, shown.stderr
    assert f"{first.pk}  P1 playbook" in shown.stdout
    assert "an incident declared" in shown.stdout
    assert "incident-commander → Alice Admin" in shown.stdout
    assert "Bob Responder (low urgency)" in shown.stdout
    assert "Recent runs" in shown.stdout and incident.ref in shown.stdout
    assert "Incident Commander → Alice Admin" in shown.stdout  # what the run did

    as_json = json.loads(run("show", str(first.pk), "--json").stdout)
    assert as_json["id"] == first.pk and as_json["can_change"] is False


def test_refusals(run: Run, world: World) -> None:
    theirs = automation.create_workflow(
        team=world.team_b,
        spec=WorkflowSpec(name="Billing P1", trigger="declared", tasks=["Call finance"]),
        actor=world.charlie,
        source="test",
    )
    hidden = run("show", str(theirs.pk))
    assert hidden.returncode == 1
    assert hidden.stderr.strip() == f"error: workflow {theirs.pk} not found"
    filtered = run("list", "--team", "team-b")
    assert filtered.returncode == 1
    assert filtered.stderr.strip() == "error: team: team 'team-b' not found"


def test_show_says_where_the_webhook_goes_and_when_its_call_failed(
    run: Run, world: World, settings: Any
) -> None:
    settings.WARROOM_HTTP_ALLOW_PRIVATE = ("127.0.0.0/8",)
    with clock.frozen(T0):
        hooked = playbook(world, name="Ticket bot", webhook_url="https://127.0.0.1:9/hooks/T0K3N")
        runner.run(clock.now())
        incident = declare(world, title="Checkout returns 500", impact=1, urgency=1)
        clock.advance(timedelta(seconds=5))
        assert runner.run(clock.now()) == 1
        settings.WARROOM_HTTP_ALLOW_PRIVATE = ()  # no longer allowed: the call fails for good
        assert outbox.run(clock.now()) == 1

    row = next(line for line in run("list").stdout.splitlines() if "Ticket bot" in line)
    assert "webhook" in row
    shown = run("show", str(hooked.pk))
    assert shown.returncode == 0, shown.stderr
    text = " ".join(shown.stdout.split())  # the table wraps long cells
    assert "Webhook https://127.0.0.1:9/…" in text and "T0K3N" not in text  # bob reads, he does not edit
    assert incident.ref in text and "webhook failed after 1 attempt: webhook: 127.0.0.1" in text
    assert "Last test call —" in text
