"""`warroom apply` as an operator runs it: a process on the server's data dir (a migrated SQLite copy)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from textwrap import dedent

WARROOM = Path(sys.executable).with_name("warroom")

SETUP = dedent(
    """\
    teams:
      - name: Platform
        sso_group: platform-oncall
        members:
          priya@example.com: admin
    escalation_policies:
      - name: Platform primary
        team: Platform
        repeat: 2
        steps:
          - delay_minutes: 5
            targets: [{user: priya@example.com}, {team: Platform}]
    services:
      - name: Checkout
        team: platform
        tier: 1
        escalation_policy: Platform primary
    """
)


def _run(args: list[str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")}
    env["WARROOM_DATA_DIR"] = str(data_dir)
    return subprocess.run([str(WARROOM), *args], env=env, capture_output=True, text=True, timeout=180)


def test_apply_plans_applies_and_then_has_nothing_to_do(migrated_data_dir: Path, tmp_path: Path) -> None:
    data_dir = migrated_data_dir
    created = _run(["user", "create", "--email", "priya@example.com", "--name", "Priya"], data_dir)
    assert created.returncode == 0, created.stderr
    setup = tmp_path / "warroom.yaml"
    setup.write_text(SETUP, encoding="utf-8")
    plan = ["+ create team Platform", "+ create policy Platform primary", "+ create service Checkout"]

    dry = _run(["apply", str(setup), "--dry-run"], data_dir)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines() == plan
    assert "dry run: 3 to create, 0 to update, 0 unchanged; nothing was changed" in dry.stderr

    applied = _run(["apply", str(setup)], data_dir)
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.splitlines() == plan, "the dry run printed what the apply did"

    again = _run(["apply", str(setup)], data_dir)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == [
        "= unchanged team Platform",
        "= unchanged policy Platform primary",
        "= unchanged service Checkout",
    ]
    assert "nothing to change (3 unchanged)" in again.stderr

    users = _run(["user", "list"], data_dir)
    assert "platform (admin)" in users.stdout.lower(), users.stdout


def test_a_bad_file_exits_1_with_its_errors_and_no_traceback(migrated_data_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "teams:\n  - name: Ops\n    members: {bob@example.com: boss}\nservices: [{name: Web, team: payments}]\n"
    )
    refused = _run(["apply", str(bad)], migrated_data_dir)
    assert refused.returncode == 1
    assert refused.stdout == ""
    assert refused.stderr.splitlines() == [
        'error: teams["Ops"].members["bob@example.com"]: role must be one of admin, manager, responder, observer',
        f"CommandError: {bad}: 1 error; nothing was applied",
    ]

    bad.write_text("teams: [name: x\n")
    malformed = _run(["apply", str(bad)], migrated_data_dir)
    assert malformed.returncode == 1
    assert "error: not valid YAML: line 2, column 1" in malformed.stderr
    assert "Traceback" not in malformed.stderr

    missing = _run(["apply", str(tmp_path / "nope.yaml")], migrated_data_dir)
    assert missing.returncode == 1
    assert "nope.yaml: cannot read it (No such file or directory); nothing was applied" in missing.stderr
