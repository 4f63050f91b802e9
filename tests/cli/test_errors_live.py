"""What the ``warroom`` client prints when the server refuses: the API's message as one plain line on stderr
(not cut at 80 columns), exit code 1, and an error about a query parameter named after the option the user
typed (``--since``, not ``opened_after``)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import declare
from tests.cli.live import WARROOM, Run
from tests.conftest import World
from warroom.accounts.services import create_api_token

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def run(live_server: Any, world: World, tmp_path: Path) -> Run:
    """``warroom incident ...`` as bob, with an 80-column terminal width (what a pipe or a CI log gets)."""
    _token, secret = create_api_token(user=world.bob, name="cli tests", actor=None, source="system")

    def call(*args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")}
        env.update(HOME=str(tmp_path), XDG_CONFIG_HOME="", COLUMNS="80", NO_COLOR="1")
        env.update(WARROOM_URL=live_server.url, WARROOM_TOKEN=secret)
        return subprocess.run(
            [str(WARROOM), "incident", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )

    return call


def test_a_refusal_is_the_apis_message_on_one_line(run: Run, world: World) -> None:
    incident = declare(world)
    result = run("hold", incident.ref, "--reason", "waiting")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        "error: hold_reason 'waiting' is not one of the allowed values: awaiting_caller, awaiting_change, "
        "awaiting_problem, awaiting_vendor\n"
    )


def test_a_bad_since_names_the_option(run: Run, world: World) -> None:
    declare(world)
    result = run("list", "--since", "yesterday")
    assert result.returncode == 1
    assert result.stderr.startswith("error: --since: "), result.stderr
    assert "opened_after" not in result.stderr
    assert result.stderr.count("\n") == 1
    both = run("list", "--since", "yesterday", "--before", "tomorrow")
    assert "--since: " in both.stderr and "--before: " in both.stderr, both.stderr
    fine = run("list", "--since", "2025-03-01T00:00:00Z", "--json")
    assert fine.returncode == 0, fine.stderr
