"""`warroom user create --time-zone` as an operator runs it: the zone is checked like everywhere else."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

WARROOM = Path(sys.executable).with_name("warroom")


def _run(args: list[str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")}
    env["WARROOM_DATA_DIR"] = str(data_dir)
    return subprocess.run([str(WARROOM), *args], env=env, capture_output=True, text=True, timeout=120)


def _zone_of(data_dir: Path, email: str) -> list[tuple[str]]:
    with sqlite3.connect(data_dir / "warroom.sqlite3") as db:
        return db.execute("SELECT time_zone FROM accounts_user WHERE email = ?", (email,)).fetchall()


def test_user_create_with_a_time_zone(migrated_data_dir: Path) -> None:
    created = _run(
        ["user", "create", "--email", "kim@example.com", "--time-zone", "America/Chicago"], migrated_data_dir
    )
    assert created.returncode == 0, created.stderr
    assert "created kim@example.com" in created.stdout
    assert _zone_of(migrated_data_dir, "kim@example.com") == [("America/Chicago",)]
    refused = _run(
        ["user", "create", "--email", "lee@example.com", "--time-zone", "localtime"], migrated_data_dir
    )
    assert refused.returncode != 0 and "'localtime' is not an IANA time zone" in refused.stderr
    assert _zone_of(migrated_data_dir, "lee@example.com") == []
