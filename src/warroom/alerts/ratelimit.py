"""Per-key request rate limits for the intake endpoints: a token bucket per key.

A key may send ``rate`` requests per minute on average with bursts of up to ``rate`` at once; beyond that the
request is refused with 429 and ``Retry-After``. The limiter never touches the database, so a storm against one
key costs no writes.

Where the buckets live: ``warroom web`` and ``warroom serve`` set ``WARROOM_RATE_LIMIT_TABLE`` to a file in the
data directory before they start their worker processes, and every worker keeps its buckets in that file, mapped
into memory and locked (``flock``) for each request: all the web processes of one host that share a data
directory share the limits. Without it (another WSGI server, a shell), each process keeps its own buckets in
memory, and with W processes a sender may get up to W times the rate through.
"""

from __future__ import annotations

import fcntl
import logging
import math
import mmap
import os
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger("warroom.alerts.ratelimit")

TABLE_ENV = "WARROOM_RATE_LIMIT_TABLE"
TABLE_FILE = "ratelimit.table"  # in the data directory (warroom.web.management.commands.warroom_serve)

#: A bucket: tokens left, when they were counted (``time.monotonic()``, the same clock in every process of a
#: host), the rate they were counted at, and whether the key is being refused.
State = tuple[float, float, int, bool]


def _step(state: State | None, rate: int, at: float) -> tuple[State, int, bool]:
    """Take one token from ``state`` at ``at``: the new state, the seconds to wait (0: allowed) and whether this
    is the first refusal since the key was last allowed. A bucket counted at another rate, or at a time after
    ``at`` (left by a previous boot), starts full."""
    per_second = rate / 60.0
    if state is None or state[2] != rate or state[1] > at:
        tokens, refusing = float(rate), False
    else:
        tokens = min(float(rate), state[0] + (at - state[1]) * per_second)
        refusing = state[3]
    if tokens >= 1.0:
        return (tokens - 1.0, at, rate, False), 0, False
    return (tokens, at, rate, True), max(1, math.ceil((1.0 - tokens) / per_second)), not refusing


class _Table:
    """Buckets in a file mapped into memory, shared by the processes that map it: ``SLOTS`` records of (key id,
    rate, tokens, counted at, refusing), found by open addressing over ``PROBE`` slots from ``key id % SLOTS``;
    when those are all taken by other keys, the one counted longest ago gives its slot up."""

    RECORD = struct.Struct("<qqddq")
    SLOTS = 1 << 16
    PROBE = 16

    def __init__(self, path: str) -> None:
        size = self.SLOTS * self.RECORD.size
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(self._fd).st_size < size:
                os.ftruncate(self._fd, size)
            self._map = mmap.mmap(self._fd, size, mmap.MAP_SHARED)
        except OSError:
            os.close(self._fd)
            raise

    @contextmanager
    def locked(self) -> Iterator[None]:
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def find(self, key_id: int) -> tuple[int, State | None]:
        """The slot for ``key_id`` and its bucket (None: none kept). Call it locked."""
        start = key_id % self.SLOTS
        oldest, oldest_at = start, math.inf
        for offset in range(self.PROBE):
            slot = (start + offset) % self.SLOTS
            kept, rate, tokens, at, refusing = self.RECORD.unpack_from(self._map, slot * self.RECORD.size)
            if kept == key_id:
                return slot, (tokens, at, rate, bool(refusing))
            if kept == 0:
                return slot, None
            if at < oldest_at:
                oldest, oldest_at = slot, at
        return oldest, None

    def store(self, slot: int, key_id: int, state: State) -> None:
        tokens, at, rate, refusing = state
        self.RECORD.pack_into(self._map, slot * self.RECORD.size, key_id, rate, tokens, at, int(refusing))

    def clear(self) -> None:
        with self.locked():
            self._map[:] = bytes(len(self._map))

    def close(self) -> None:
        self._map.close()
        os.close(self._fd)


class Limiter:
    """Token buckets per key id: in the table at ``path`` (default: the file ``WARROOM_RATE_LIMIT_TABLE``
    names, if set), else in this process's memory."""

    def __init__(self, *, max_keys: int = 100_000, path: str | None = None) -> None:
        self._buckets: dict[int, State] = {}
        self._lock = threading.Lock()
        self._max_keys = max_keys
        self._path = path
        self._table: _Table | None = None
        self._pid = 0  # the process that opened _table (a forked child opens its own: flock is per open file)

    def take(self, key_id: int, rate_per_minute: int, now: float | None = None) -> tuple[int, bool]:
        """Take one token for ``key_id``. Returns (0, False) when allowed, else (seconds to wait ≥ 1, whether
        this is the first refusal since the key was last allowed)."""
        if rate_per_minute <= 0:
            return 0, False
        at = time.monotonic() if now is None else now
        with self._lock:
            table = self._shared()
            if table is None:
                state, wait, first = _step(self._buckets.get(key_id), rate_per_minute, at)
                if key_id not in self._buckets and len(self._buckets) >= self._max_keys:
                    self._buckets.clear()
                self._buckets[key_id] = state
                return wait, first
            with table.locked():
                slot, kept = table.find(key_id)
                state, wait, first = _step(kept, rate_per_minute, at)
                table.store(slot, key_id, state)
            return wait, first

    def _shared(self) -> _Table | None:
        """The shared table (opened on first use in each process), or None to keep the buckets in memory."""
        if self._pid == os.getpid():
            return self._table
        self._pid, self._table = os.getpid(), None
        path = self._path or os.environ.get(TABLE_ENV, "")
        if path:
            try:
                self._table = _Table(path)
            except OSError as exc:
                log.warning("rate limits kept per process: cannot open %s (%s)", path, exc)
        return self._table

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
            table = self._shared()
            if table is not None:
                table.clear()


LIMITER = Limiter()
