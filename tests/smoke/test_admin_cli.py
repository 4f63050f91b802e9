"""Server-side CLI verbs as an operator runs them: migrate, user create, token create, integration create.

Each test starts from a copy of a data dir prepared once per run (tests/conftest.py), not from an empty one:
tests/smoke/test_serve.py covers the first start on an empty data dir."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

WARROOM = Path(sys.executable).with_name("warroom")


def _run(args: list[str], data_dir: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")}
    env["WARROOM_DATA_DIR"] = str(data_dir)
    return subprocess.run([str(WARROOM), *args], env=env, input=stdin, capture_output=True, text=True, timeout=120)


def test_user_and_token_creation_headless(migrated_data_dir: Path) -> None:
    data_dir = migrated_data_dir
    assert _run(["migrate"], data_dir).returncode == 0, "migrating an up-to-date database is a no-op"
    created = _run(["user", "create", "--email", "Ops@Example.com", "--name", "Ops Bot", "--admin"], data_dir)
    assert created.returncode == 0, created.stderr
    assert "created ops@example.com (organisation admin)" in created.stdout
    password = created.stdout.split("password:", 1)[1].strip()
    assert len(password) >= 20

    piped = _run(
        ["user", "create", "--email", "erin@example.com", "--password-stdin"],
        data_dir,
        stdin="a-long-enough-passphrase\n",
    )
    assert piped.returncode == 0, piped.stderr
    assert "password:" not in piped.stdout

    duplicate = _run(["user", "create", "--email", "erin@example.com"], data_dir)
    assert duplicate.returncode != 0
    assert "already exists" in duplicate.stderr

    token = _run(["token", "create", "--email", "ops@example.com", "--name", "automation"], data_dir)
    assert token.returncode == 0, token.stderr
    secret = token.stdout.strip()
    assert secret.startswith("wr_at_")

    unknown = _run(["token", "create", "--email", "nobody@example.com", "--name", "x"], data_dir)
    assert unknown.returncode != 0 and "no user with email" in unknown.stderr


def test_integration_create_prints_the_endpoint_and_a_key_once(demo_data_dir: Path) -> None:
    data_dir = demo_data_dir
    created = _run(
        [
            "integration",
            "create",
            "--service",
            "checkout",
            "--kind",
            "alertmanager",
            "--name",
            "Prometheus prod",
            "--grouping",
            "group_key",
        ],
        data_dir,
    )
    assert created.returncode == 0, created.stderr
    assert "/integrations/alertmanager" in created.stdout
    key = created.stdout.split("key:", 1)[1].strip()
    assert key.startswith("wr_ik_")
    missing = _run(["integration", "create", "--service", "nope", "--kind", "webhook", "--name", "x"], data_dir)
    assert missing.returncode != 0 and "no service with slug 'nope'" in missing.stderr


def test_integration_create_for_heartbeat_and_email(demo_data_dir: Path) -> None:
    data_dir = demo_data_dir
    beat = _run(
        [
            "integration",
            "create",
            "--service",
            "checkout",
            "--kind",
            "heartbeat",
            "--name",
            "nightly backup",
            "--interval",
            "86400",
            "--grace",
            "600",
        ],
        data_dir,
    )
    assert beat.returncode == 0, beat.stderr
    key = beat.stdout.split("key:", 1)[1].strip()
    assert f"/integrations/heartbeat/{key}" in beat.stdout
    no_interval = _run(
        ["integration", "create", "--service", "checkout", "--kind", "heartbeat", "--name", "x"], data_dir
    )
    assert no_interval.returncode != 0 and "heartbeat_interval_seconds" in no_interval.stderr
    mail = _run(
        ["integration", "create", "--service", "checkout", "--kind", "email", "--name", "Nagios mail"], data_dir
    )
    assert mail.returncode == 0, mail.stderr
    address = mail.stdout.split("address:", 1)[1].split()[0]
    assert address.startswith("checkout-") and address.endswith("@[127.0.0.1]")  # an address literal: mail cannot go to a bare IP
