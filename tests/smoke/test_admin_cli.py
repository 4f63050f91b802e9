"""Server-side CLI verbs as an operator runs them on a fresh install: migrate, user create, token create."""

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


def test_user_and_token_creation_headless(tmp_path: Path) -> None:
    assert _run(["migrate"], tmp_path).returncode == 0
    created = _run(["user", "create", "--email", "Ops@Example.com", "--name", "Ops Bot", "--admin"], tmp_path)
    assert created.returncode == 0, created.stderr
    assert "created ops@example.com (organisation admin)" in created.stdout
    password = created.stdout.split("password:", 1)[1].strip()
    assert len(password) >= 20

    piped = _run(
        ["user", "create", "--email", "erin@example.com", "--password-stdin"],
        tmp_path,
        stdin="a-long-enough-passphrase\n",
    )
    assert piped.returncode == 0, piped.stderr
    assert "password:" not in piped.stdout

    duplicate = _run(["user", "create", "--email", "erin@example.com"], tmp_path)
    assert duplicate.returncode != 0
    assert "already exists" in duplicate.stderr

    token = _run(["token", "create", "--email", "ops@example.com", "--name", "automation"], tmp_path)
    assert token.returncode == 0, token.stderr
    secret = token.stdout.strip()
    assert secret.startswith("wr_at_")

    unknown = _run(["token", "create", "--email", "nobody@example.com", "--name", "x"], tmp_path)
    assert unknown.returncode != 0 and "no user with email" in unknown.stderr


def test_integration_create_prints_the_endpoint_and_a_key_once(tmp_path: Path) -> None:
    assert _run(["demo"], tmp_path).returncode == 0
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
        tmp_path,
    )
    assert created.returncode == 0, created.stderr
    assert "/integrations/alertmanager" in created.stdout
    key = created.stdout.split("key:", 1)[1].strip()
    assert key.startswith("wr_ik_")
    missing = _run(["integration", "create", "--service", "nope", "--kind", "webhook", "--name", "x"], tmp_path)
    assert missing.returncode != 0 and "no service with slug 'nope'" in missing.stderr


def test_integration_create_for_heartbeat_and_email(tmp_path: Path) -> None:
    assert _run(["demo"], tmp_path).returncode == 0
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
        tmp_path,
    )
    assert beat.returncode == 0, beat.stderr
    key = beat.stdout.split("key:", 1)[1].strip()
    assert f"/integrations/heartbeat/{key}" in beat.stdout
    no_interval = _run(
        ["integration", "create", "--service", "checkout", "--kind", "heartbeat", "--name", "x"], tmp_path
    )
    assert no_interval.returncode != 0 and "heartbeat_interval_seconds" in no_interval.stderr
    mail = _run(
        ["integration", "create", "--service", "checkout", "--kind", "email", "--name", "Nagios mail"], tmp_path
    )
    assert mail.returncode == 0, mail.stderr
    address = mail.stdout.split("address:", 1)[1].split()[0]
    assert address.startswith("checkout-") and address.endswith("@127.0.0.1")
