"""The one clock. Every read of "now" in Warroom goes through :func:`now`.

Tests and the engine harness move time with :func:`frozen` / :func:`advance`; production reads the system clock.
All values are aware UTC datetimes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

_lock = threading.Lock()
_frozen: datetime | None = None


def now() -> datetime:
    """Return the current time as an aware UTC datetime."""
    with _lock:
        if _frozen is not None:
            return _frozen
    return datetime.now(UTC)


def _require_aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("the clock only takes aware datetimes")
    return value.astimezone(UTC)


@contextmanager
def frozen(at: datetime) -> Iterator[None]:
    """Freeze the clock at ``at`` for the duration of the block."""
    global _frozen
    with _lock:
        previous = _frozen
        _frozen = _require_aware(at)
    try:
        yield
    finally:
        with _lock:
            _frozen = previous


def advance(delta: timedelta) -> datetime:
    """Move a frozen clock forward; raises if the clock is not frozen."""
    global _frozen
    with _lock:
        if _frozen is None:
            raise RuntimeError("advance() needs a frozen clock")
        _frozen = _frozen + delta
        return _frozen
