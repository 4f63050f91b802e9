"""A `WARROOM_*` setting the server cannot use, as an operator meets it: one line naming it, exit code 2, and
nothing started (no traceback to scroll through)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

WARROOM = Path(sys.executable).with_name("warroom")

BASE_URL_MESSAGE = "warroom: WARROOM_BASE_URL must be an absolute http(s) URL such as https://warroom.example.com, not 'ftp://x'"
INTERVAL_MESSAGE = "warroom: WARROOM_ENGINE_INTERVAL must be a number, not 'fast'"


def _run(args: list[str], data_dir: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")}
    env.update(WARROOM_DATA_DIR=str(data_dir), **settings)
    return subprocess.run([str(WARROOM), *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.own_sqlite
@pytest.mark.parametrize(
    ("args", "setting", "message"),
    [
        (["check"], {"WARROOM_BASE_URL": "ftp://x"}, BASE_URL_MESSAGE),
        (["check"], {"WARROOM_ENGINE_INTERVAL": "fast"}, INTERVAL_MESSAGE),
        (["smtpd", "--port", "0"], {"WARROOM_ENGINE_INTERVAL": "fast"}, INTERVAL_MESSAGE),
        (["migrate"], {"WARROOM_BASE_URL": "ftp://x"}, BASE_URL_MESSAGE),
        (["user", "list"], {"WARROOM_ENGINE_INTERVAL": "fast"}, INTERVAL_MESSAGE),
    ],
)
def test_a_bad_setting_is_one_line_and_exit_2(
    tmp_path: Path, args: list[str], setting: dict[str, str], message: str
) -> None:
    done = _run(args, tmp_path, **setting)
    assert done.returncode == 2
    assert done.stderr.strip() == message
    assert "Traceback" not in done.stdout + done.stderr


@pytest.mark.own_sqlite
def test_serve_with_a_bad_setting_does_not_start(tmp_path: Path) -> None:
    done = _run(["serve", "--port", "0"], tmp_path, WARROOM_ENGINE_INTERVAL="fast")
    assert done.returncode == 2
    assert done.stderr.strip() == INTERVAL_MESSAGE
    assert "listening" not in done.stdout
    assert not (tmp_path / "warroom.sqlite3").exists(), "nothing migrated: the server never got going"
