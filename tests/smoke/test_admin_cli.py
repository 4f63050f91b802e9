"""Server-side CLI verbs as an operator runs them: migrate, user create, token create, integration create.

Each test starts from a copy of a data dir prepared once per run (tests/conftest.py), not from an empty one:
tests/smoke/test_serve.py covers the first start on an empty data dir."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

WARROOM = Path(sys.executable).with_name("warroom")


def _run(args: list[str], data_dir: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")}
    env["WARROOM_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [str(WARROOM), *args], env=env, input=stdin, capture_output=True, text=True, timeout=120
    )


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
    missing = _run(
        ["integration", "create", "--service", "nope", "--kind", "webhook", "--name", "x"], data_dir
    )
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
        ["integration", "create", "--service", "checkout", "--kind", "email", "--name", "Nagios mail"],
        data_dir,
    )
    assert mail.returncode == 0, mail.stderr
    address = mail.stdout.split("address:", 1)[1].split()[0]
    assert address.startswith("checkout-") and address.endswith(
        "@[127.0.0.1]"
    )  # an address literal: mail cannot go to a bare IP


def _python(data_dir: Path, code: str) -> str:
    """What ``code`` prints, run by `warroom manage shell` against the data dir (as an operator would check)."""
    done = _run(["manage", "shell", "--no-imports", "-c", code], data_dir)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


SEND_TO_WEBHOOK = """
import hashlib, hmac, json, time
from django.test import Client
body = json.dumps({"alert": {"title": "Disk full", "id": 4711}})
client = Client(SERVER_NAME="127.0.0.1")
auth = {"Authorization": "Bearer KEY"}
unsigned = client.post("/integrations/webhook", body, content_type="application/json", headers=auth)
ts = str(int(time.time()))
sig = hmac.new(b"tool-x-secret", f"{ts}.{body}".encode(), hashlib.sha256).hexdigest()
signed = client.post(
    "/integrations/webhook", body, content_type="application/json",
    headers={**auth, "X-Warroom-Timestamp": ts, "X-Warroom-Signature": "sha256=" + sig},
)
print(json.dumps([unsigned.status_code, signed.status_code, signed.json().get("dedup_key")]))
"""


def test_integration_create_with_a_signing_secret_and_a_field_mapping(demo_data_dir: Path) -> None:
    data_dir = demo_data_dir
    created = _run(
        [
            "integration",
            "create",
            "--service",
            "checkout",
            "--kind",
            "webhook",
            "--name",
            "Tool X",
            "--signing-secret",
            "-",
            "--field-mapping",
            '{"summary": "alert.title", "dedup_key": "alert.id"}',
        ],
        data_dir,
        stdin="tool-x-secret\n",
    )
    assert created.returncode == 0, created.stderr
    key = created.stdout.split("key:", 1)[1].strip()
    # The tool's own JSON shape is read through the mapping, and only signed requests get in.
    answers = _python(data_dir, SEND_TO_WEBHOOK.replace("KEY", key)).splitlines()[-1]  # after a log line
    unsigned, signed, dedup_key = json.loads(answers)
    assert (unsigned, signed, dedup_key) == (401, 202, "4711")

    def refused(*options: str, kind: str = "webhook") -> subprocess.CompletedProcess[str]:
        done = _run(
            ["integration", "create", "--service", "checkout", "--kind", kind, "--name", "Bad", *options],
            data_dir,
        )
        assert done.returncode == 1 and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) <= 2, done.stderr  # the base URL note, then the error
        return done

    assert "--field-mapping is not valid JSON" in refused("--field-mapping", '{"summary": ').stderr
    assert "--field-mapping: unknown field 'title'" in refused("--field-mapping", '{"title": "a"}').stderr
    assert "--field-mapping: field_mapping must be an object" in refused("--field-mapping", '["a"]').stderr
    assert (
        "--signing-secret: signing_secret applies to grafana and webhook integrations only"
        in refused("--signing-secret", "s", kind="alertmanager").stderr
    )
    assert (
        "--field-mapping: field_mapping applies to webhook"
        in refused("--field-mapping", '{"summary": "a"}', kind="grafana").stderr
    )
    assert (
        _python(
            data_dir,
            "from warroom.alerts.models import Integration\n"
            "print(Integration.objects.filter(name='Bad').count())",
        )
        == "0"
    )


def test_integration_create_with_email_patterns(demo_data_dir: Path) -> None:
    data_dir = demo_data_dir
    created = _run(
        [
            "integration",
            "create",
            "--service",
            "checkout",
            "--kind",
            "email",
            "--name",
            "Nagios",
            "--email-dedup-pattern",
            r"(?:Host|Service) Alert: (.+) is \S+ \*\*$",
            "--email-resolve-pattern",
            r"^\*\* RECOVERY ",
        ],
        data_dir,
    )
    assert created.returncode == 0, created.stderr
    stored = _python(
        data_dir,
        "import json\nfrom warroom.alerts.models import Integration\n"
        "i = Integration.objects.get(name='Nagios')\n"
        "print(json.dumps([i.email_dedup_pattern, i.email_resolve_pattern]))",
    )
    assert json.loads(stored) == [r"(?:Host|Service) Alert: (.+) is \S+ \*\*$", r"^\*\* RECOVERY "]
    dashed = _run(  # a pattern may start with "-"
        [
            "integration",
            "create",
            "--service",
            "checkout",
            "--kind",
            "email",
            "--name",
            "Dashed",
            "--email-resolve-pattern",
            "-OK$",
        ],
        data_dir,
    )
    assert dashed.returncode == 0, dashed.stderr
    bad = _run(
        [
            "integration",
            "create",
            "--service",
            "checkout",
            "--kind",
            "email",
            "--name",
            "Bad",
            "--email-dedup-pattern",
            "(unclosed",
        ],
        data_dir,
    )
    assert bad.returncode == 1
    assert "--email-dedup-pattern: email_dedup_pattern is not a valid regular expression" in bad.stderr
    not_email = _run(
        [
            "integration",
            "create",
            "--service",
            "checkout",
            "--kind",
            "webhook",
            "--name",
            "Bad",
            "--email-resolve-pattern",
            "^OK",
        ],
        data_dir,
    )
    assert not_email.returncode == 1
    assert "email_resolve_pattern applies to email integrations only" in not_email.stderr


SIGN_IN = """
from django.contrib.auth import authenticate
from warroom.accounts.services import authenticate_token
print(authenticate(username="ravi.patel@example.com", password="PASSWORD") is not None,
      authenticate_token("TOKEN") is not None)
"""


def _row(listing: str, email: str) -> list[str]:
    return next(line.split() for line in listing.splitlines() if line.startswith(email))


def test_user_list_deactivate_reactivate_and_reset_password(demo_data_dir: Path) -> None:
    data_dir = demo_data_dir
    listing = _run(["user", "list"], data_dir)
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.splitlines()[0].split()[:3] == ["EMAIL", "NAME", "STATE"]
    assert _row(listing.stdout, "ravi.patel@example.com") == [
        "ravi.patel@example.com",
        "Ravi",
        "Patel",
        "active",
        "no",
        "America/Chicago",
        "payments",
        "(observer)",
    ]
    assert _row(listing.stdout, "admin@example.com")[4] == "yes"

    reset = _run(["user", "reset-password", "Ravi.Patel@example.com"], data_dir)
    assert reset.returncode == 0, reset.stderr
    password = reset.stdout.split("password:", 1)[1].strip()
    made = _run(["token", "create", "--email", "ravi.patel@example.com", "--name", "laptop"], data_dir)
    token = made.stdout.strip()
    sign_in = SIGN_IN.replace("PASSWORD", password).replace("TOKEN", token)
    assert _python(data_dir, sign_in) == "True True"

    gone = _run(["user", "deactivate", "ravi.patel@example.com"], data_dir)
    assert gone.returncode == 0, gone.stderr
    assert gone.stdout.strip() == (
        "deactivated ravi.patel@example.com: they cannot sign in, their console sessions ended "
        "and 1 API token was revoked"
    )
    assert _python(data_dir, sign_in) == "False False"
    assert _row(_run(["user", "list"], data_dir).stdout, "ravi.patel@example.com")[3] == "deactivated"
    again = _run(["user", "deactivate", "ravi.patel@example.com"], data_dir)
    assert again.returncode == 0 and "already deactivated: nothing changed" in again.stdout

    back = _run(["user", "reactivate", "ravi.patel@example.com"], data_dir)
    assert back.returncode == 0, back.stderr
    assert "reactivated ravi.patel@example.com" in back.stdout
    assert _python(data_dir, sign_in) == "True False", "they sign in again; the revoked token stays revoked"

    with sqlite3.connect(data_dir / "warroom.sqlite3") as db:
        actions = db.execute(
            "SELECT action FROM audit_auditevent WHERE source = 'cli' AND action IN "
            "('user.password.reset', 'user.deactivate', 'user.reactivate') ORDER BY id"
        ).fetchall()
    assert actions == [("user.password.reset",), ("user.deactivate",), ("user.reactivate",)]

    for verb in ("deactivate", "reactivate", "reset-password"):
        unknown = _run(["user", verb, "nobody@example.com"], data_dir)
        assert unknown.returncode == 1 and "no user with email 'nobody@example.com'" in unknown.stderr
