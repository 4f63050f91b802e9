"""Helpers for tests that run Warroom (and Alertmanager) as real processes on 127.0.0.1.

Each process starts in a session of its own, so stopping it stops its children too (``warroom serve`` runs the
engine as a child process, granian forks its workers). Its output goes to a log file that failures quote.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

from tests.smoke.test_serve import WARROOM


@dataclass
class Database:
    """The database a live Warroom uses: its SQLite file in the data dir, or a PostgreSQL database."""

    data_dir: Path
    url: str = ""  # a PostgreSQL URL; empty for SQLite in data_dir
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")}
        self.env["WARROOM_DATA_DIR"] = str(self.data_dir)
        if self.url:
            self.env["WARROOM_DATABASE_URL"] = self.url

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of ``sql`` (written with ``%s`` placeholders), read directly from the database."""
        if self.url:
            with psycopg.connect(self.url, autocommit=True) as db:
                return list(db.execute(sql.encode(), params).fetchall())
        with sqlite3.connect(self.data_dir / "warroom.sqlite3") as db:
            return list(db.execute(sql.replace("%s", "?"), params).fetchall())


def postgres_url() -> str:
    """The PostgreSQL server the suite runs against (``WARROOM_DATABASE_URL``), or "" when it runs on SQLite."""
    url = os.environ.get("WARROOM_DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else ""


@contextmanager
def fresh_postgres_database(server_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database on the server of ``server_url``, dropped afterwards; yields its URL."""
    name = f"warroom_live_{uuid.uuid4().hex[:12]}"
    parts = urlsplit(server_url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"'.encode())
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())


def warroom(db: Database, *args: str, timeout: float = 120) -> str:
    """Run a ``warroom`` command to completion against ``db``; its stdout, or AssertionError with its output."""
    done = subprocess.run(
        [str(WARROOM), *args], env=db.env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"warroom {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


class Process:
    """A long-running process in its own session, its output in ``log``."""

    def __init__(self, args: Sequence[str], *, env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("wb") as out:
            self.popen = subprocess.Popen(
                list(args), env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, text=True
            )

    def output(self, tail: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-tail:]

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group, as the kernel's OOM killer or a power cut would end it."""
        with suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM the process group; SIGKILL what is still running after 15 s."""
        if self.alive():
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
            except ProcessLookupError:
                return
            try:
                self.popen.wait(timeout=15)
                return
            except subprocess.TimeoutExpired:
                pass
        self.kill()


def wait_for[T](
    check: Callable[[], T | None], what: str, *, explain: Callable[[], str] = str, timeout: float = 30
) -> T:
    """Poll ``check`` until it returns something other than None or False; AssertionError naming ``what``
    (and what ``explain()`` says then) when ``timeout`` seconds pass first: a safety net against hanging,
    never a measurement."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result is not None and result is not False:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}\n{explain()}")
        time.sleep(0.2)
