"""Running the real ``warroom`` console script as a client of a live test server."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from warroom.accounts.models import User
from warroom.accounts.services import create_api_token

WARROOM = Path(sys.executable).parent / "warroom"

Run = Callable[..., subprocess.CompletedProcess[str]]


def client_as(user: User, url: str, home: Path, *command: str) -> Run:
    """``run(*args)`` → the finished ``warroom *command *args`` process, signed in as ``user`` with a new API
    token in ``WARROOM_TOKEN``, ``url`` in ``WARROOM_URL``, no other ``WARROOM_*`` setting, no config file."""
    _token, secret = create_api_token(user=user, name="cli tests", actor=None, source="system")

    def call(*args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")}
        env.update(
            HOME=str(home),
            XDG_CONFIG_HOME="",
            COLUMNS="200",
            NO_COLOR="1",
            WARROOM_URL=url,
            WARROOM_TOKEN=secret,
        )
        return subprocess.run(
            [str(WARROOM), *command, *args], capture_output=True, text=True, env=env, timeout=60, check=False
        )

    return call
