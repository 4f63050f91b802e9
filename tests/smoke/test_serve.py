"""`warroom serve` as a user runs it: a fresh data dir, migrations, the web server and the engine."""

from __future__ import annotations

import os
import socket
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

WARROOM = Path(sys.executable).with_name("warroom")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(url: str, proc: subprocess.Popen[str], timeout: float = 240) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"warroom serve exited early with {proc.returncode}")
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {timeout}s")


@pytest.mark.own_sqlite
def test_serve_on_a_fresh_data_dir(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")}
    env.update(WARROOM_DATA_DIR=str(tmp_path), WARROOM_ENGINE_INTERVAL="0.2")
    proc = subprocess.Popen(
        [str(WARROOM), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        health = _wait_healthy(f"http://127.0.0.1:{port}/healthz", proc)
        assert health.status_code == 200
        assert health.json()["database"] == "sqlite"
        login = httpx.get(f"http://127.0.0.1:{port}/login/", timeout=5)
        assert login.status_code == 200
        assert "content-security-policy" in login.headers
        unauthenticated = httpx.get(f"http://127.0.0.1:{port}/api/v1/incidents", timeout=5)
        assert unauthenticated.status_code == 401
        # A browser keeps several idle keep-alive connections open; they must not starve the next request
        # (granian's backpressure once counted them, and a console page hung on its 7th asset).
        idle = [httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) for _ in range(12)]
        try:
            for client in idle:
                assert client.get("/healthz").status_code == 200
            assert httpx.get(f"http://127.0.0.1:{port}/login/", timeout=5).status_code == 200
        finally:
            for client in idle:
                client.close()
        # The engine thread runs its modules against the same SQLite file.
        deadline = time.monotonic() + 20
        runs = 0
        while time.monotonic() < deadline and runs < 2:
            with sqlite3.connect(tmp_path / "warroom.sqlite3") as db:
                row = db.execute(
                    "SELECT runs FROM engine_modulestate WHERE name='incidents.autoclose'"
                ).fetchone()
            runs = row[0] if row else 0
            time.sleep(0.3)
        assert runs >= 2, "the engine did not cycle"
        with sqlite3.connect(tmp_path / "warroom.sqlite3") as db:
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
    secret = tmp_path / "secret_key"
    assert secret.exists() and stat.S_IMODE(secret.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("WARROOM_ENGINE_INTERVAL", "fast", "WARROOM_ENGINE_INTERVAL must be a number"),
        ("WARROOM_DATABASE_URL", "mysql://x", "WARROOM_DATABASE_URL must start with"),
        ("WARROOM_BASE_URL", "warroom.example.com", "WARROOM_BASE_URL must be an absolute http(s) URL"),
    ],
)
def test_bad_configuration_stops_start_up_with_a_clear_message(
    tmp_path: Path, name: str, value: str, message: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")}
    env.update(WARROOM_DATA_DIR=str(tmp_path), **{name: value})
    result = subprocess.run([str(WARROOM), "migrate"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert message in result.stderr
