"""Working hours: when a low-urgency notification marked "only during working hours" may go out.

Pure functions over plain values (no database, no clock). The rule (written down in docs/notifications.md):

* A person's working hours are one weekly window in their IANA zone: on each chosen weekday, from ``start`` to
  ``end`` wall-clock time; an ``end`` at or before ``start`` runs past midnight into the next day (``22:00``–
  ``06:00``; ``00:00``–``00:00`` is the whole day).
* A held notification is due at the instant its rule gives (page start + delay) when that instant is inside a
  window, else at the next opening of a window.
* DST, as on-call schedules do it (:mod:`warroom.lib.wallclock`): an opening time skipped by a spring-forward
  change opens at the change itself; one that happens twice (fall back) opens at its first occurrence; a
  closing time that happens twice closes at its last occurrence.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from warroom.lib.wallclock import local_to_utc, wall

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_GROUPS = {"weekdays": range(5), "weekend": range(5, 7), "everyday": range(7)}
ONE_DAY = timedelta(days=1)
#: how far to look for the next opening: a week, plus room for a window lost in a DST gap
SEARCH_DAYS = 15


@dataclass(frozen=True)
class Window:
    """A weekly window: ``days`` (0 = Monday … 6 = Sunday), local ``start``–``end`` in ``zone``."""

    zone: ZoneInfo
    days: frozenset[int]
    start: time
    end: time


def zone_or_none(name: str) -> ZoneInfo | None:
    """The IANA zone called ``name``, or None when there is none."""
    try:
        return ZoneInfo(name) if name and name.strip() == name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def parse_days(values: Iterable[str | int]) -> frozenset[int]:
    """``["mon", "tue"]``, ``["weekdays"]``, ``[0, 1]`` or ``["0", "6"]`` → weekday numbers. Raises ValueError
    naming a value it does not know."""
    days: set[int] = set()
    for raw in values:
        value = str(raw).strip().lower()
        if value in DAY_GROUPS:
            days.update(DAY_GROUPS[value])
        elif value in WEEKDAYS:
            days.add(WEEKDAYS.index(value))
        elif value in {"0", "1", "2", "3", "4", "5", "6"}:
            days.add(int(value))
        else:
            raise ValueError(f"unknown day {raw!r}: use mon … sun, weekdays, weekend, everyday or 0-6")
    return frozenset(days)


def days_to_mask(days: Iterable[int]) -> int:
    return sum(1 << d for d in set(days))


def days_from_mask(mask: int) -> frozenset[int]:
    return frozenset(d for d in range(7) if mask & (1 << d))


def describe_days(days: frozenset[int]) -> str:
    """``Mon–Fri``, ``Every day``, ``Sat, Sun``, ``Mon, Wed, Fri``."""
    named = {frozenset(range(7)): "Every day", frozenset(range(5)): "Mon–Fri", frozenset({5, 6}): "Sat, Sun"}
    return named.get(days) or ", ".join(WEEKDAYS[d].capitalize() for d in sorted(days))


def describe(window: Window) -> str:
    """``Mon–Fri 09:00–18:00 (Europe/Berlin)``."""
    return f"{describe_days(window.days)} {window.start:%H:%M}–{window.end:%H:%M} ({window.zone.key})"


def _opening(window: Window, day: date) -> tuple[datetime, datetime]:
    """The UTC instants at which the window that opens on local ``day`` opens and closes."""
    end_day = day if window.end > window.start else day + ONE_DAY
    opens = local_to_utc(datetime.combine(day, window.start), window.zone)
    closes = local_to_utc(datetime.combine(end_day, window.end), window.zone, ambiguous="last")
    return opens, closes


def next_working_instant(window: Window, at: datetime) -> datetime:
    """``at`` itself when it falls inside a window, else the next instant a window opens (aware UTC)."""
    if not window.days:
        return at
    first = wall(at, window.zone).date() - ONE_DAY  # yesterday's window may run past midnight
    later: list[datetime] = []
    for offset in range(SEARCH_DAYS + 1):
        day = first + offset * ONE_DAY
        if day.weekday() not in window.days:
            continue
        opens, closes = _opening(window, day)
        if opens >= closes:  # a window swallowed by a DST gap
            continue
        if opens <= at < closes:
            return at
        if opens > at:
            later.append(opens)
    return min(later, default=at)
