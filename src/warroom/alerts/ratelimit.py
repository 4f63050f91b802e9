"""Per-key request rate limits for the intake endpoints: a token bucket per key, in the web process.

A key may send ``rate`` requests per minute on average with bursts of up to ``rate`` at once; beyond that the
request is refused with 429 and ``Retry-After``. Buckets live in memory: each web worker process keeps its own,
so with W workers a sender may get up to W times the rate through (documented in docs/integrations/README.md).
The limiter never touches the database, so a storm against one key costs no writes."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float
    rate: int
    refusing: bool = False


class Limiter:
    def __init__(self, *, max_keys: int = 100_000) -> None:
        self._buckets: dict[int, _Bucket] = {}
        self._lock = threading.Lock()
        self._max_keys = max_keys

    def take(self, key_id: int, rate_per_minute: int, now: float | None = None) -> tuple[int, bool]:
        """Take one token for ``key_id``. Returns (0, False) when allowed, else (seconds to wait ≥ 1, whether
        this is the first refusal since the key was last allowed)."""
        if rate_per_minute <= 0:
            return 0, False
        at = time.monotonic() if now is None else now
        per_second = rate_per_minute / 60.0
        with self._lock:
            bucket = self._buckets.get(key_id)
            if bucket is None or bucket.rate != rate_per_minute:
                if len(self._buckets) >= self._max_keys:
                    self._buckets.clear()
                bucket = _Bucket(tokens=float(rate_per_minute), updated=at, rate=rate_per_minute)
                self._buckets[key_id] = bucket
            bucket.tokens = min(float(rate_per_minute), bucket.tokens + (at - bucket.updated) * per_second)
            bucket.updated = at
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                bucket.refusing = False
                return 0, False
            first = not bucket.refusing
            bucket.refusing = True
            return max(1, math.ceil((1.0 - bucket.tokens) / per_second)), first

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()


LIMITER = Limiter()
