"""SLA clock math: business time in a weekly calendar with holidays, in an IANA zone. Pure: no database, no
"now" (callers pass every instant), exact to the microsecond (``timedelta`` arithmetic only).

A :class:`Calendar` is a week of working windows in local time (per weekday, ``[start, end)`` in minutes after
local midnight, ``end`` may be 1440 for 24:00) and a set of holiday dates on which nothing counts. ``None``
stands for "around the clock" (24×7): business time is wall time.

Local times become instants with the house DST rules (DESIGN.md):

* a window **start** at an ambiguous local time (the hour repeated when clocks go back) takes the first
  occurrence, a window **end** the last, so the repeated hour counts when it falls inside a window;
* a skipped local time (the hour lost when clocks go forward) moves forward to the moment the clocks jumped.

Overlapping windows (an ambiguous end meeting an ambiguous start) are clipped, so business time never exceeds
wall time.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib

from warroom.lib.wallclock import local_to_utc

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
#: ``add_business_time`` gives up (returns None) after this many days in a row without a working minute.
MAX_IDLE_DAYS = 3660
MAX_WINDOWS_PER_DAY = 6
MAX_CUSTOM_HOLIDAYS = 1000
DEFAULT_THRESHOLDS: tuple[int, ...] = (50, 75, 90)
ZERO = timedelta(0)

_HHMM = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")

Window = tuple[int, int]
Week = tuple[tuple[Window, ...], ...]


class CalendarError(ValueError):
    """A calendar setting that cannot be used; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# ---------------------------------------------------------------------------------------------------------------
# calendars


class Holidays:
    """Dates on which nothing counts: a country's (and subdivision's) public holidays from the ``holidays``
    package, plus custom dates. Years are expanded lazily as they are asked about."""

    def __init__(self, country: str = "", subdivision: str = "", custom: Iterable[date] = ()) -> None:
        self._custom = frozenset(custom)
        self._public: holidays_lib.HolidayBase | None = (
            holidays_lib.country_holidays(country, subdiv=subdivision or None) if country else None
        )

    def __contains__(self, day: object) -> bool:
        if not isinstance(day, date):
            return False
        return day in self._custom or (self._public is not None and day in self._public)

    def name(self, day: date) -> str | None:
        """What the day is called (``"Easter Monday"``, ``"custom"``), or None on a working day."""
        if self._public is not None and day in self._public:
            return str(self._public.get(day))
        return "custom holiday" if day in self._custom else None


@dataclass(frozen=True)
class Calendar:
    zone: ZoneInfo
    week: Week
    holidays: Container[date] = field(default_factory=frozenset)


def calendar(
    zone: str,
    hours: Mapping[str, Any],
    *,
    country: str = "",
    subdivision: str = "",
    custom_holidays: Sequence[Any] = (),
) -> Calendar:
    """Build a calendar from stored settings, validating each (raises :class:`CalendarError`)."""
    return Calendar(
        zone=parse_zone(zone),
        week=parse_hours(hours),
        holidays=Holidays(
            *check_country(country, subdivision), custom=parse_custom_holidays(custom_holidays)
        ),
    )


def parse_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise CalendarError("time_zone", f"{name!r} is not an IANA time zone (e.g. Europe/London)") from None


def _minutes(value: Any, where: str) -> int:
    match = _HHMM.match(value) if isinstance(value, str) else None
    if match is None:
        raise CalendarError("working_hours", f"{where}: {value!r} is not a time HH:MM (00:00 to 24:00)")
    minutes = int(match.group(1)) * 60 + int(match.group(2))
    if minutes > MINUTES_PER_DAY:
        raise CalendarError("working_hours", f"{where}: {value} is after 24:00")
    return minutes


def parse_hours(hours: Mapping[str, Any]) -> Week:
    """``{"mon": [["09:00", "17:00"]], ..., "sun": []}`` → a :data:`Week`. Missing days have no hours; windows
    must be in order and must not overlap; the week must have at least one working minute."""
    if not isinstance(hours, Mapping):
        raise CalendarError(
            "working_hours", 'working hours are an object: {"mon": [["09:00", "17:00"]], ...}'
        )
    unknown = sorted(set(hours) - set(WEEKDAYS))
    if unknown:
        raise CalendarError("working_hours", f"unknown day {unknown[0]!r}; days are {', '.join(WEEKDAYS)}")
    week: list[tuple[Window, ...]] = []
    for day in WEEKDAYS:
        raw = hours.get(day) or []
        if not isinstance(raw, list) or len(raw) > MAX_WINDOWS_PER_DAY:
            raise CalendarError(
                "working_hours", f"{day}: a list of at most {MAX_WINDOWS_PER_DAY} [start, end] pairs"
            )
        windows: list[Window] = []
        for pair in raw:
            if not isinstance(pair, list | tuple) or len(pair) != 2:
                raise CalendarError("working_hours", f"{day}: {pair!r} is not a [start, end] pair")
            start, end = _minutes(pair[0], day), _minutes(pair[1], day)
            if start >= end:
                raise CalendarError("working_hours", f"{day}: {pair[0]}–{pair[1]} ends before it starts")
            if windows and start < windows[-1][1]:
                raise CalendarError("working_hours", f"{day}: windows must be in order and not overlap")
            windows.append((start, end))
        week.append(tuple(windows))
    if not any(week):
        raise CalendarError("working_hours", "the week has no working hours at all")
    return tuple(week)


def format_hours(week: Week) -> dict[str, list[list[str]]]:
    """The inverse of :func:`parse_hours`."""

    def hhmm(minutes: int) -> str:
        return f"{minutes // 60:02d}:{minutes % 60:02d}"

    return {
        day: [[hhmm(a), hhmm(b)] for a, b in windows] for day, windows in zip(WEEKDAYS, week, strict=True)
    }


def check_country(country: str, subdivision: str) -> tuple[str, str]:
    """A country (ISO 3166-1 alpha-2) and subdivision that the ``holidays`` package knows, normalised."""
    country = (country or "").strip().upper()
    subdivision = (subdivision or "").strip().upper()
    if not country:
        if subdivision:
            raise CalendarError("holiday_subdivision", "a subdivision needs a country")
        return "", ""
    supported = holidays_lib.list_supported_countries()
    if country not in supported:
        raise CalendarError(
            "holiday_country", f"{country!r} is not a country the holidays package knows (e.g. GB, US, DE)"
        )
    if subdivision and subdivision not in {s.upper() for s in supported[country]}:
        known = ", ".join(supported[country][:12]) or "none"
        raise CalendarError(
            "holiday_subdivision", f"{subdivision!r} is not a subdivision of {country} (known: {known})"
        )
    return country, subdivision


def parse_custom_holidays(values: Sequence[Any]) -> tuple[date, ...]:
    if not isinstance(values, list | tuple):
        raise CalendarError("custom_holidays", "custom holidays are a list of dates YYYY-MM-DD")
    if len(values) > MAX_CUSTOM_HOLIDAYS:
        raise CalendarError("custom_holidays", f"at most {MAX_CUSTOM_HOLIDAYS} custom holidays")
    days: list[date] = []
    for value in values:
        try:
            days.append(value if isinstance(value, date) else date.fromisoformat(str(value)))
        except ValueError:
            raise CalendarError("custom_holidays", f"{value!r} is not a date YYYY-MM-DD") from None
    return tuple(sorted(set(days)))


def parse_thresholds(values: Any) -> tuple[int, ...]:
    """Warning thresholds: whole percentages 1–99, at most 10; returned sorted without repeats."""
    if not isinstance(values, list | tuple) or len(values) > 10:
        raise CalendarError("warning_thresholds", "a list of at most 10 percentages, e.g. [50, 75, 90]")
    for value in values:
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 99:
            raise CalendarError("warning_thresholds", f"{value!r} is not a whole percentage from 1 to 99")
    return tuple(sorted(set(values)))


# ---------------------------------------------------------------------------------------------------------------
# local time → instants


def local_instant(day: date, minute: int, zone: ZoneInfo, *, first: bool) -> datetime:
    """The UTC instant of ``minute`` after local midnight of ``day`` (1440 is the next midnight).

    Ambiguous: the first occurrence when ``first``, else the last. Skipped: the moment the clocks jumped.
    """
    if minute >= MINUTES_PER_DAY:
        day, minute = day + timedelta(days=1), minute - MINUTES_PER_DAY
    naive = datetime.combine(day, time(minute // 60, minute % 60))
    return local_to_utc(naive, zone, ambiguous="first" if first else "last")


def _day_windows(cal: Calendar, day: date) -> list[tuple[datetime, datetime]]:
    if day in cal.holidays:
        return []
    windows = []
    for start, end in cal.week[day.weekday()]:
        a = local_instant(day, start, cal.zone, first=True)
        b = local_instant(day, end, cal.zone, first=False)
        if a < b:
            windows.append((a, b))
    return windows


def working_intervals(
    cal: Calendar, start: datetime, end: datetime | None = None
) -> Iterator[tuple[datetime, datetime]]:
    """The working intervals from ``start`` (to ``end``, or on and on), in order, non-overlapping, clipped.

    Without ``end`` it stops after :data:`MAX_IDLE_DAYS` days in a row without a working minute.
    """
    day = start.astimezone(cal.zone).date() - timedelta(days=1)
    last_day = end.astimezone(cal.zone).date() + timedelta(days=1) if end is not None else None
    cursor = start
    idle = 0
    while last_day is None or day <= last_day:
        produced = False
        for a, b in _day_windows(cal, day):
            a = max(a, cursor)
            if end is not None:
                b = min(b, end)
            if a < b:
                produced = True
                cursor = b
                yield a, b
        if end is None:
            idle = 0 if produced else idle + 1
            if idle > MAX_IDLE_DAYS:
                return
        day += timedelta(days=1)


def business_time(cal: Calendar | None, start: datetime, end: datetime) -> timedelta:
    """Working time between two instants (zero when ``end`` is not after ``start``)."""
    if end <= start:
        return ZERO
    if cal is None:
        return end - start
    total = ZERO
    for a, b in working_intervals(cal, start, end):
        total += b - a
    return total


def add_business_time(cal: Calendar | None, start: datetime, amount: timedelta) -> datetime | None:
    """The earliest instant ``t`` with ``business_time(cal, start, t) == amount``; ``start`` when ``amount`` is
    not positive; None when the calendar never works again."""
    if amount <= ZERO:
        return start
    if cal is None:
        return start + amount
    for a, b in working_intervals(cal, start):
        if b - a >= amount:
            return a + amount
        amount -= b - a
    return None


# ---------------------------------------------------------------------------------------------------------------
# clocks


def threshold_amount(target: timedelta, percent: int) -> timedelta:
    """``percent`` % of ``target``, rounded down to the microsecond (one definition for planning and firing)."""
    return target * percent // 100


@dataclass(frozen=True)
class Plan:
    """When a running clock is due, and when the engine must next look at it."""

    due_at: datetime | None
    next_check_at: datetime | None


def plan(
    cal: Calendar | None,
    *,
    target: timedelta,
    elapsed: timedelta,
    running_since: datetime,
    thresholds: Iterable[int],
    done: Iterable[int],
    breached: bool,
    previous_due: datetime | None = None,
) -> Plan:
    """Plan a running clock that had ``elapsed`` when it (re)started at ``running_since``.

    A clock already past its target keeps ``previous_due`` (when it was due) or is due at once.
    """
    remaining = target - elapsed
    due = add_business_time(cal, running_since, remaining) if remaining > ZERO else None
    if remaining <= ZERO:
        due = previous_due or running_since
    checks: list[datetime] = []
    done_set = set(done)
    for percent in thresholds:
        if percent in done_set:
            continue
        at = add_business_time(cal, running_since, threshold_amount(target, percent) - elapsed)
        if at is not None:
            checks.append(at)
    if not breached and due is not None:
        checks.append(due if remaining > ZERO else running_since)
    return Plan(due_at=due, next_check_at=min(checks) if checks else None)


@dataclass(frozen=True)
class Events:
    """What a clock crossed and has not yet been told: the one event to announce, and the thresholds to mark
    done (the announced one and any lower ones it supersedes)."""

    fire: int | None = None
    breach: bool = False
    mark: tuple[int, ...] = ()

    @property
    def any(self) -> bool:
        return self.breach or self.fire is not None or bool(self.mark)


def due_events(
    *, elapsed: timedelta, target: timedelta, thresholds: Iterable[int], done: Iterable[int], breached: bool
) -> Events:
    """Only the most advanced crossing is announced: a breach supersedes every warning, a higher warning the
    lower ones (an engine that was down, or a clock carried over past a threshold, sends one message)."""
    done_set = set(done)
    pending = sorted(p for p in thresholds if p not in done_set)
    crossed = tuple(p for p in pending if elapsed >= threshold_amount(target, p))
    if not breached and elapsed >= target:
        return Events(breach=True, mark=tuple(pending))
    if crossed:
        return Events(fire=crossed[-1], mark=crossed)
    return Events()


def elapsed_at(
    cal: Calendar | None, *, elapsed: timedelta, running_since: datetime | None, at: datetime
) -> timedelta:
    """The business time a clock has used at ``at``: what it had, plus its running segment."""
    if running_since is None:
        return elapsed
    return elapsed + business_time(cal, running_since, at)


def format_duration(value: timedelta) -> str:
    """``2h 05m``, ``45m``, ``3d 4h``; ``0m`` for nothing; whole minutes, rounded down."""
    minutes = int(max(value, ZERO).total_seconds() // 60)
    days, rest = divmod(minutes, MINUTES_PER_DAY)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {mins:02d}m" if mins else f"{hours}h"
    return f"{mins}m"
