"""Wall-clock time in IANA zones ↔ aware UTC instants, with the house DST rules (``docs/oncall.md``).

* A local time that does not exist (inside a spring-forward gap) resolves to the first instant after the gap:
  the moment of the change itself.
* A local time that happens twice (fall back) resolves to its first or its last occurrence, as the caller asks
  (starts take the first, ends the last).

Shared by on-call rotations and restrictions and by notification working hours; pure, no clock, no I/O.
"""

from __future__ import annotations

import functools
import math
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo


def wall(instant: datetime, zone: ZoneInfo) -> datetime:
    """The naive wall-clock reading in ``zone`` at ``instant``."""
    return instant.astimezone(zone).replace(tzinfo=None)


def _offset(instant: datetime, zone: ZoneInfo) -> timedelta | None:
    return instant.astimezone(zone).utcoffset()


@functools.lru_cache(maxsize=8192)
def local_to_utc(
    local: datetime, zone: ZoneInfo, *, ambiguous: Literal["first", "last"] = "first"
) -> datetime:
    """The UTC instant at which the wall clock in ``zone`` reads ``local`` (naive).

    A nonexistent local time (inside a spring-forward gap) gives the first instant after the gap, which is the
    moment of the change. An ambiguous one (fall back) gives its first or last occurrence, as asked.
    """
    if local.tzinfo is not None:
        raise ValueError("local_to_utc takes a naive wall-clock time")
    earlier_offset = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    later_offset = local.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if earlier_offset == later_offset:
        return earlier_offset
    if earlier_offset < later_offset:  # ambiguous: fold=0 is the first occurrence
        return earlier_offset if ambiguous == "first" else later_offset
    # Nonexistent: the change happened at some instant in (later_offset, earlier_offset]; find it to the second
    # (tzdata changes fall on whole seconds).
    lo = math.floor(later_offset.timestamp())
    hi = math.ceil(earlier_offset.timestamp())
    after = _offset(earlier_offset, zone)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _offset(datetime.fromtimestamp(mid, UTC), zone) == after:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)
