"""Waking the engine when there is work for it, instead of waiting for its next cycle (PostgreSQL).

Writers call :func:`soon` inside the transaction that creates work the engine must pick up quickly, naming the
module that takes it: intake events (``alerts.process``) and new incidents (their escalation starts in
``paging.escalate``). On PostgreSQL that sends a notification on ``warroom_engine`` with the module's name,
delivered when the transaction commits (and never if it rolls back). The intake
group commit, which commits in autocommit mode many times a second, uses :class:`Throttle` instead: at most one
notification per ``Throttle.every`` seconds per process, and one more after the last commit of a burst.

Each engine keeps a connection of its own that ``LISTEN``\\s (:class:`Listener`). A notification ends the wait
between cycles early, and the engine runs the modules registered with ``wake=True`` from the first one named,
each next one only while the one before it moved something (an event processed may have opened an incident to
escalate; an escalation step queued pages to send). Full cycles still come at the configured interval. On SQLite nothing is sent and the engine polls at its interval, as before.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from django.db import connection

log = logging.getLogger("warroom.engine.wake")

CHANNEL = "warroom_engine"
_local = threading.local()


def _postgres() -> bool:
    return connection.vendor == "postgresql"


@contextmanager
def suppressed() -> Iterator[None]:
    """In this thread, inside the block, :func:`soon` sends nothing: an engine's own cycle handles what it
    creates (in the same cycle or the next)."""
    before = getattr(_local, "suppressed", False)
    _local.suppressed = True
    try:
        yield
    finally:
        _local.suppressed = before


def soon(module: str) -> None:
    """Wake the engines when the current transaction commits (at once outside a transaction) to run ``module``
    (and the waking modules after it, while they find work). PostgreSQL only."""
    if not _postgres() or getattr(_local, "suppressed", False):
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, module])


class Throttle:
    """Notifications for a writer that commits in autocommit mode many times a second (the intake group commit):
    :meth:`committed` after each commit that stored events notifies at most once per ``every`` seconds; a commit
    inside that window leaves a notification owed, which :meth:`due` tells the writer to send (:meth:`send`)
    once the window has passed, so the last events of a burst never wait for the engine's interval."""

    def __init__(self, module: str, every: float = 0.05) -> None:
        self.module = module
        self.every = every
        self._last = -1e9
        self._owed = False

    def committed(self) -> None:
        if time.monotonic() - self._last >= self.every:
            self.send()
        else:
            self._owed = True

    def due(self) -> float | None:
        """Seconds until the owed notification should go (0: now), or None when none is owed."""
        if not self._owed:
            return None
        return max(0.0, self._last + self.every - time.monotonic())

    def send(self) -> None:
        self._owed = False
        self._last = time.monotonic()
        try:
            soon(self.module)
        except Exception as exc:  # the events are committed; the engine finds them at its next cycle anyway
            log.warning("could not wake the engine: %s: %s", type(exc).__name__, exc)


class Listener:
    """An engine's wait between cycles: returns early when a notification arrives (PostgreSQL)."""

    SLICE = 0.25  # seconds: how often a wait looks at the stop event

    def __init__(self) -> None:
        self._connection: psycopg.Connection[Any] | None = None

    def wait(self, seconds: float, stop: threading.Event, *, then: float = 0.0) -> set[str]:
        """Wait up to ``seconds`` (less if ``stop`` is set) for a wake-up; then, if one came, ``then`` seconds
        more for others to join it. The modules the wake-ups named (empty: none came)."""
        deadline = time.monotonic() + seconds
        named: set[str] = set()
        while not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            listening = self._listening()
            if listening is None:
                stop.wait(min(left, self.SLICE))
                continue
            try:
                named.update(
                    n.payload for n in listening.notifies(timeout=min(left, self.SLICE), stop_after=1)
                )
                if named:
                    stop.wait(then)
                    named.update(n.payload for n in listening.notifies(timeout=0))
                    break
            except psycopg.Error as exc:
                log.warning("engine wake-up connection lost (%s); polling until it is back", exc)
                self.close()
                stop.wait(min(left, 1.0))
        return named

    def _listening(self) -> psycopg.Connection[Any] | None:
        if self._connection is not None or not _postgres():
            return self._connection
        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        try:
            self._connection = psycopg.connect(**params, autocommit=True)
            self._connection.execute(f"LISTEN {CHANNEL}")
        except psycopg.Error as exc:
            log.warning("engine cannot listen for wake-ups (%s); polling at its interval", exc)
            self.close()
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except psycopg.Error:
                log.debug("closing the wake-up connection failed", exc_info=True)
            self._connection = None
