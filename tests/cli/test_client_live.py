"""The ``warroom incident ...`` client against a live server: the real console script in a subprocess, with
the server and token from WARROOM_URL/WARROOM_TOKEN or the config file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import declare
from tests.conftest import World
from warroom.accounts.services import create_api_token
from warroom.incidents.models import Incident, TimelineEntry

# serialized_rollback: the flush after a transactional test would drop the roles and categories the migrations
# seed; this restores them for the tests that follow.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

WARROOM = Path(sys.executable).parent / "warroom"

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def token(world: World) -> str:
    _token, secret = create_api_token(user=world.bob, name="cli tests", actor=None, source="system")
    return secret


@pytest.fixture
def run(live_server: Any, token: str, tmp_path: Path) -> Run:
    """``run(*args, env={...})`` → the finished ``warroom incident *args`` process."""

    def call(
        *args: str, env: dict[str, str] | None = None, use_env: bool = True
    ) -> subprocess.CompletedProcess[str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")}
        clean.update(HOME=str(tmp_path / "home"), XDG_CONFIG_HOME="", COLUMNS="200", NO_COLOR="1")
        if use_env:
            clean.update(WARROOM_URL=live_server.url, WARROOM_TOKEN=token)
        clean.update(env or {})
        return subprocess.run(
            [str(WARROOM), "incident", *args],
            capture_output=True,
            text=True,
            env=clean,
            timeout=60,
            check=False,
        )

    return call


def test_console_script_exists() -> None:
    assert WARROOM.exists(), f"install the package first: {WARROOM} is missing"


def test_list_table_and_json(run: Run, world: World) -> None:
    first = declare(world, title="Checkout returns 500")
    second = declare(world, title="Search is slow", impact=1, urgency=1)
    table = run("list")
    assert table.returncode == 0, table.stderr
    assert "Ref" in table.stdout and "Title" in table.stdout
    assert first.ref in table.stdout and second.ref in table.stdout
    assert "Search is slow" in table.stdout
    assert table.stdout.index(second.ref) < table.stdout.index(first.ref)  # newest first
    as_json = run("list", "--json", "--priority", "1")
    assert as_json.returncode == 0, as_json.stderr
    page = json.loads(as_json.stdout)
    assert page["count"] == 1
    assert [i["ref"] for i in page["items"]] == [second.ref]
    empty = run("list", "--state", "closed")
    assert (empty.returncode, empty.stdout.strip()) == (0, "No incidents match.")


def test_show(run: Run, world: World) -> None:
    incident = declare(world, title="Checkout returns 500", description="Since the **deploy**")
    shown = run("show", str(incident.number))
    assert shown.returncode == 0, shown.stderr
    assert incident.ref in shown.stdout
    assert "Checkout returns 500" in shown.stdout
    assert "3 - Moderate" in shown.stdout
    assert "Timeline" in shown.stdout
    assert "Declared: Checkout returns 500" in shown.stdout
    as_json = json.loads(run("show", incident.ref, "--json").stdout)
    assert as_json["ref"] == incident.ref
    assert as_json["description"] == "Since the **deploy**"


def test_declare_update_note_resolve(run: Run, world: World) -> None:
    declared = run(
        "declare",
        "Payments failing",
        "--team",
        "team-a",
        "--service",
        "checkout",
        "--impact",
        "1",
        "--urgency",
        "1",
        "--category",
        "Application",
    )
    assert declared.returncode == 0, declared.stderr
    assert declared.stdout.startswith("Declared INC")
    assert "1 - Critical" in declared.stdout
    incident = Incident.objects.get(title="Payments failing")
    assert incident.reporter == world.bob
    assert [s.slug for s in incident.services.all()] == ["checkout"]
    assert TimelineEntry.objects.get(incident=incident, kind="created").source == "cli"

    updated = run(
        "update", incident.ref, "--title", "Card payments failing", "--assignee", "bob@example.com", "--major"
    )
    assert updated.returncode == 0, updated.stderr
    incident.refresh_from_db()
    assert (incident.title, incident.assignee, incident.is_major) == (
        "Card payments failing",
        world.bob,
        True,
    )
    unassigned = run("update", incident.ref, "--assignee", "none", "--json")
    assert json.loads(unassigned.stdout)["assignee"] is None

    noted = run("note", incident.ref, "Rolled back the deploy")
    assert noted.returncode == 0, noted.stderr
    assert noted.stdout.startswith(f"Added a note to {incident.ref}")
    entry = TimelineEntry.objects.get(incident=incident, kind="note")
    assert (entry.message, entry.source, entry.actor) == ("Rolled back the deploy", "cli", world.bob)

    resolved = run("resolve", incident.ref, "--code", "workaround", "--notes", "Rolled back")
    assert resolved.returncode == 0, resolved.stderr
    assert resolved.stdout.strip() == f"{incident.ref} is now Resolved."
    incident.refresh_from_db()
    assert (incident.state, incident.resolution_code, incident.resolution_notes) == (
        "resolved",
        "workaround",
        "Rolled back",
    )


def test_thin_transitions(run: Run, world: World) -> None:
    incident = declare(world)
    steps: list[tuple[list[str], str]] = [
        (["start", incident.ref], "In Progress"),
        (["hold", incident.ref, "--reason", "awaiting_vendor", "--note", "Ticket 42"], "On Hold"),
        (["start", incident.ref], "In Progress"),
        (["resolve", incident.ref, "--notes", "fixed"], "Resolved"),
        (["reopen", incident.ref, "--note", "came back"], "In Progress"),
        (["resolve", incident.ref, "--notes", "fixed again"], "Resolved"),
        (["close", incident.ref], "Closed"),
    ]
    for args, label in steps:
        result = run(*args)
        assert result.returncode == 0, (args, result.stderr)
        assert result.stdout.strip() == f"{incident.ref} is now {label}.", args
    other = declare(world)
    assert run("cancel", other.ref, "--json").returncode == 0
    assert Incident.objects.get(pk=other.pk).state == "canceled"
    states = list(
        TimelineEntry.objects.filter(incident=incident, kind="state").values_list("new_value", flat=True)
    )
    assert states == [
        "In Progress",
        "On Hold",
        "In Progress",
        "Resolved",
        "In Progress",
        "Resolved",
        "Closed",
    ]


def test_merge_a_duplicate(run: Run, world: World) -> None:
    keep, dup = declare(world, title="Checkout returns 500"), declare(world, title="Checkout 500s again")
    merged = run("merge", dup.ref, "--into", keep.ref)
    assert merged.returncode == 0, merged.stderr
    assert merged.stdout.strip() == f"{dup.ref} was merged into {keep.ref} (Checkout returns 500)."
    assert Incident.objects.get(pk=dup.pk).merged_into_id == keep.pk
    again = run("merge", dup.ref, "--into", keep.ref)
    assert again.returncode == 1 and "only open incidents are merged" in again.stderr


def test_illegal_transition_exits_1_with_the_message(run: Run, world: World) -> None:
    incident = declare(world)
    result = run("close", incident.ref)
    assert result.returncode == 1
    assert result.stdout == ""
    assert (
        f"error: {incident.ref}: cannot move from New to Closed; from New the incident can go to In Progress, "
        "On Hold, Resolved, Canceled"
    ) in " ".join(result.stderr.split())
    reopen = run("reopen", incident.ref)
    assert reopen.returncode == 1
    assert f"{incident.ref} is New; only a Resolved incident can be reopened" in reopen.stderr


def test_unknown_incident_exits_1(run: Run, world: World) -> None:
    result = run("show", "INC9999999")
    assert result.returncode == 1
    assert "error: incident INC9999999 not found" in result.stderr


def test_bad_input_exits_1_with_the_field(run: Run, world: World) -> None:
    result = run("declare", "x" * 201, "--team", "team-a")
    assert result.returncode == 1
    assert "the title is at most 200 characters (got 201)" in result.stderr


def test_config_file_lookup(run: Run, live_server: Any, token: str, tmp_path: Path, world: World) -> None:
    incident = declare(world)
    config = tmp_path / "custom.toml"
    config.write_text(f'url = "{live_server.url}/"\ntoken = "{token}"\n')
    explicit = run("show", incident.ref, "--json", use_env=False, env={"WARROOM_CONFIG": str(config)})
    assert explicit.returncode == 0, explicit.stderr
    assert json.loads(explicit.stdout)["ref"] == incident.ref

    default = tmp_path / "home" / ".config" / "warroom" / "config.toml"
    default.parent.mkdir(parents=True)
    default.write_text(f'url = "{live_server.url}/api/v1"\ntoken = "{token}"\n')
    by_home = run("list", "--json", use_env=False)
    assert by_home.returncode == 0, by_home.stderr
    assert json.loads(by_home.stdout)["count"] == 1

    # The environment wins over the file, and --token over both.
    wrong = run("list", use_env=False, env={"WARROOM_TOKEN": "wr_at_wrong"})
    assert wrong.returncode == 1
    assert "authentication required" in wrong.stderr
    fixed = run("list", "--json", "--token", token, use_env=False, env={"WARROOM_TOKEN": "wr_at_wrong"})
    assert fixed.returncode == 0, fixed.stderr


def test_missing_configuration_exits_2(run: Run, tmp_path: Path) -> None:
    result = run("list", use_env=False)
    assert result.returncode == 2
    assert "no server URL: pass --url, set WARROOM_URL" in result.stderr
    missing = run("list", use_env=False, env={"WARROOM_CONFIG": str(tmp_path / "nope.toml")})
    assert missing.returncode == 2
    assert "nope.toml, which does not exist" in " ".join(missing.stderr.split())
    broken = tmp_path / "broken.toml"
    broken.write_text("url = \n")
    unreadable = run("list", use_env=False, env={"WARROOM_CONFIG": str(broken)})
    assert unreadable.returncode == 2
    assert "cannot read" in unreadable.stderr


def test_unreachable_server_exits_2(run: Run) -> None:
    result = run("list", env={"WARROOM_URL": "http://127.0.0.1:9"})
    assert result.returncode == 2
    assert "cannot reach the Warroom server at http://127.0.0.1:9" in result.stderr
