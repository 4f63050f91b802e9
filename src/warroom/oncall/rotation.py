"""The final schedule, computed from plain data: no database, no clock, no I/O.

Inputs are the frozen dataclasses below (:class:`Schedule` with its :class:`Layer` s, :class:`Restriction` s and
:class:`Override` s); outputs are aware UTC datetimes. The rules (written down for users in ``docs/oncall.md``):

* A layer's rotation is wall-clock time in the schedule's zone. Day-based shifts (daily, weekly, a custom number
  of days) hand off at the layer's local handoff time, so a daily shift across a DST change lasts 23 or 25 real
  hours (or 23.5/24.5 on Lord Howe Island). Hour-based shifts (hourly, a custom number of hours) are real
  elapsed hours counted from the layer's start.
* A local time that does not exist (the spring-forward gap) resolves to the first instant after the gap, that
  is the moment of the change itself. A local time that happens twice (fall back) resolves to its first
  occurrence for a handoff and for the start of a restriction window, and to its last occurrence for the end of
  a restriction window, so a window covers every instant whose wall-clock reading falls inside it.
* A handoff is one instant: the outgoing shift ends exactly where the incoming one starts (no gap, no overlap).
* Restrictions clip a layer's shifts to time-of-day/day-of-week windows; outside them the layer has nobody.
* At each instant the layer with the highest priority that has somebody wins; lower layers show through where
  higher ones have nobody.
* Overrides apply on top, in the order given (oldest first), each to the result of the ones before: one with
  ``replaces`` puts its user in place of that person wherever that person is on call during the override; one
  without ``replaces`` adds its user. Time where nobody is on call is reported as a :class:`Gap`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# re-exported: callers use rotation.local_to_utc / rotation.wall
from warroom.lib.wallclock import local_to_utc as local_to_utc
from warroom.lib.wallclock import wall as wall

ONE_DAY = timedelta(days=1)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Unit(enum.StrEnum):
    HOURS = "hours"
    DAYS = "days"


@dataclass(frozen=True)
class Restriction:
    """A wall-clock window in the schedule's zone, starting on each weekday in ``days`` (0 = Monday).

    ``end`` after ``start`` is a window within the day; ``end`` at or before ``start`` runs past midnight into the
    next day (``start == end`` is a whole day).
    """

    days: frozenset[int]
    start: time
    end: time


@dataclass(frozen=True)
class Layer:
    """One rotation. ``start`` is a naive wall-clock date-time in the schedule's zone.

    ``length`` counts ``unit`` s per shift (a weekly rotation is ``7 * weeks`` days). ``handoff`` is the local
    time of day at which day-based shifts change hands; hour-based shifts ignore it. Higher ``priority`` wins.
    """

    id: int
    priority: int
    participants: tuple[int, ...]
    unit: Unit
    length: int
    start: datetime
    handoff: time
    restrictions: tuple[Restriction, ...] = ()

    def __post_init__(self) -> None:
        if self.length < 1:
            raise ValueError("a shift is at least one hour or one day long")
        if self.start.tzinfo is not None:
            raise ValueError("a layer starts at a naive wall-clock time in the schedule's zone")


@dataclass(frozen=True)
class Override:
    """``user_id`` is on call from ``start`` to ``end`` (aware), in place of ``replaces`` or in addition."""

    id: int
    user_id: int
    start: datetime
    end: datetime
    replaces: int | None = None


@dataclass(frozen=True)
class Schedule:
    zone: ZoneInfo
    layers: tuple[Layer, ...] = ()
    overrides: tuple[Override, ...] = ()


@dataclass(frozen=True)
class Shift:
    """A stretch of time one person is on call, from one layer shift (``layer_id``, ``index``) or an override."""

    user_id: int
    start: datetime
    end: datetime
    layer_id: int | None = None
    index: int | None = None
    override_id: int | None = None


@dataclass(frozen=True)
class Gap:
    """A stretch of time nobody is on call."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class FinalSchedule:
    start: datetime
    end: datetime
    shifts: tuple[Shift, ...]
    gaps: tuple[Gap, ...]


# ---------------------------------------------------------------------------------------------------------------
# wall clock ↔ instants


# ``wall`` and ``local_to_utc`` live in :mod:`warroom.lib.wallclock` (notify uses them too); re-exported here.


# ---------------------------------------------------------------------------------------------------------------
# one layer


@dataclass(frozen=True)
class RotationShift:
    index: int
    user_id: int
    start: datetime
    end: datetime


def rotation_anchor(layer: Layer) -> datetime:
    """The wall-clock handoff a day-based rotation counts from: the last handoff time at or before its start.

    Participant 0's first shift runs from the layer's start to the next handoff after it.
    """
    anchor = datetime.combine(layer.start.date(), layer.handoff)
    return anchor if anchor <= layer.start else anchor - ONE_DAY


def rotation_shifts(layer: Layer, zone: ZoneInfo, start: datetime, end: datetime) -> Iterator[RotationShift]:
    """The layer's rotation shifts (restrictions not applied) that overlap ``[start, end)``, unclipped.

    Shift ``k`` belongs to ``participants[k % len(participants)]``; shift 0 starts at the layer's start.
    """
    if not layer.participants or end <= start:
        return
    layer_start = local_to_utc(layer.start, zone)
    count = len(layer.participants)
    if layer.unit == Unit.HOURS:
        step = timedelta(hours=layer.length)
        k = max(0, (start - layer_start) // step)
        while (shift_start := layer_start + k * step) < end:
            yield RotationShift(k, layer.participants[k % count], shift_start, shift_start + step)
            k += 1
        return
    anchor = rotation_anchor(layer)
    period = timedelta(days=layer.length)

    def handoff(k: int) -> datetime:
        return layer_start if k == 0 else local_to_utc(anchor + k * period, zone)

    k = max(0, (wall(start, zone) - anchor) // period - 1) if start > layer_start else 0
    while (shift_start := handoff(k)) < end:
        shift_end = handoff(k + 1)
        if shift_end > start:
            yield RotationShift(k, layer.participants[k % count], shift_start, shift_end)
        k += 1


def restriction_windows(
    restrictions: Sequence[Restriction], zone: ZoneInfo, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The restriction windows as sorted, disjoint UTC intervals clipped to ``[start, end)``.

    No restrictions means the whole range. Window starts take the first occurrence of an ambiguous local time and
    window ends the last; a window edge in a spring-forward gap moves to the end of the gap.
    """
    if end <= start:
        return []
    if not restrictions:
        return [(start, end)]
    windows: list[tuple[datetime, datetime]] = []
    day: date = wall(start, zone).date() - ONE_DAY
    last_day = wall(end, zone).date()
    while day <= last_day:
        for r in restrictions:
            if day.weekday() not in r.days:
                continue
            end_day = day if r.end > r.start else day + ONE_DAY
            w_start = max(start, local_to_utc(datetime.combine(day, r.start), zone))
            w_end = min(end, local_to_utc(datetime.combine(end_day, r.end), zone, ambiguous="last"))
            if w_start < w_end:
                windows.append((w_start, w_end))
        day += ONE_DAY
    return merge_intervals(windows)


def merge_intervals(intervals: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Sorted, disjoint union of ``intervals``; touching intervals are joined."""
    merged: list[tuple[datetime, datetime]] = []
    for s, e in sorted(intervals):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def layer_shifts(layer: Layer, zone: ZoneInfo, start: datetime, end: datetime) -> list[Shift]:
    """What the layer alone puts on call in ``[start, end)``: its rotation clipped to the range and restrictions."""
    windows = restriction_windows(layer.restrictions, zone, start, end)
    pieces: list[Shift] = []
    w = 0
    for rs in rotation_shifts(layer, zone, start, end):
        while w < len(windows) and windows[w][1] <= rs.start:
            w += 1
        i = w
        while i < len(windows) and windows[i][0] < rs.end:
            s, e = max(rs.start, windows[i][0]), min(rs.end, windows[i][1])
            if s < e:
                pieces.append(Shift(rs.user_id, s, e, layer_id=layer.id, index=rs.index))
            i += 1
    return pieces


# ---------------------------------------------------------------------------------------------------------------
# the final schedule

_Origin = tuple[int | None, int | None, int | None]  # (layer_id, index, override_id)


def _apply_overrides(
    entries: list[tuple[int, _Origin]], overrides: Iterable[Override]
) -> list[tuple[int, _Origin]]:
    for o in overrides:
        users = [user for user, _ in entries]
        origin: _Origin = (None, None, o.id)
        if o.replaces is None:
            if o.user_id not in users:
                entries.append((o.user_id, origin))
        elif o.replaces in users:
            at = users.index(o.replaces)
            if o.user_id in users:
                del entries[at]
            else:
                entries[at] = (o.user_id, origin)
    return entries


def final_schedule(schedule: Schedule, start: datetime, end: datetime) -> FinalSchedule:
    """Who is on call over ``[start, end)``: shifts (clipped to the range) and the gaps between them.

    Adjacent stretches of one person from the same layer shift or the same override are one :class:`Shift`;
    a person on call in two consecutive layer shifts gets two shifts meeting at the handoff.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("final_schedule takes aware datetimes")
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        return FinalSchedule(start, end, (), ())
    zone = schedule.zone
    layers = sorted(schedule.layers, key=lambda layer: (-layer.priority, layer.id))
    pieces = [layer_shifts(layer, zone, start, end) for layer in layers]
    overrides = [o for o in schedule.overrides if o.start < end and o.end > start and o.start < o.end]

    bounds = {start, end}
    for layer_pieces in pieces:
        for p in layer_pieces:
            bounds.update((p.start, p.end))
    for o in overrides:
        bounds.update((max(o.start, start), min(o.end, end)))
    edges = sorted(bounds)

    cursors = [0] * len(pieces)
    open_shifts: dict[tuple[int, _Origin], datetime] = {}
    shifts: list[Shift] = []
    gaps: list[Gap] = []
    gap_start: datetime | None = None
    for a in edges[:-1]:
        entries: list[tuple[int, _Origin]] = []
        for n, layer_pieces in enumerate(pieces):
            while cursors[n] < len(layer_pieces) and layer_pieces[cursors[n]].end <= a:
                cursors[n] += 1
            if cursors[n] < len(layer_pieces) and layer_pieces[cursors[n]].start <= a:
                piece = layer_pieces[cursors[n]]
                entries.append((piece.user_id, (piece.layer_id, piece.index, None)))
                break
        entries = _apply_overrides(entries, (o for o in overrides if o.start <= a < o.end))
        current = set(entries)
        for key in [k for k in open_shifts if k not in current]:
            shifts.append(_shift(key, open_shifts.pop(key), a))
        for key in entries:
            open_shifts.setdefault(key, a)
        if entries and gap_start is not None:
            gaps.append(Gap(gap_start, a))
            gap_start = None
        elif not entries and gap_start is None:
            gap_start = a
    for key, since in open_shifts.items():
        shifts.append(_shift(key, since, end))
    if gap_start is not None:
        gaps.append(Gap(gap_start, end))
    shifts.sort(key=lambda s: (s.start, s.end, s.user_id))
    return FinalSchedule(start, end, tuple(shifts), tuple(gaps))


def _shift(key: tuple[int, _Origin], start: datetime, end: datetime) -> Shift:
    user_id, (layer_id, index, override_id) = key
    return Shift(user_id, start, end, layer_id=layer_id, index=index, override_id=override_id)


def consecutive_runs(
    shifts: Iterable[Shift], key: Callable[[Shift], Hashable] = lambda s: s.user_id
) -> list[tuple[Shift, ...]]:
    """``shifts`` grouped into runs: shifts of one ``key`` (by default one person) that meet or overlap, each run
    in start order; runs ordered by start, then end, then person. A handoff from someone to themselves (two layers,
    an override ending where their own shift goes on, a one-person rotation) is then one run."""
    by_key: dict[Hashable, list[Shift]] = {}
    for s in sorted(shifts, key=lambda s: (s.start, s.end)):
        by_key.setdefault(key(s), []).append(s)
    runs: list[tuple[Shift, ...]] = []
    for pieces in by_key.values():
        run, until = [pieces[0]], pieces[0].end
        for piece in pieces[1:]:
            if piece.start <= until:
                run.append(piece)
                until = max(until, piece.end)
            else:
                runs.append(tuple(run))
                run, until = [piece], piece.end
        runs.append(tuple(run))
    runs.sort(key=lambda r: (r[0].start, run_end(r), r[0].user_id))
    return runs


def run_end(run: Sequence[Shift]) -> datetime:
    return max(s.end for s in run)


def merge_run(run: Sequence[Shift], origin: Shift | None = None) -> Shift:
    """One shift over the whole ``run``, with the layer shift or override of ``origin`` (default: its first)."""
    origin = origin or run[0]
    return replace(origin, start=run[0].start, end=run_end(run))


def merge_same_origin(shifts: Iterable[Shift]) -> list[Shift]:
    """``shifts`` with consecutive stretches of one person from the same layer (say a one-person rotation handing
    off to itself) or the same override joined, so nothing about where a shift comes from is lost."""
    runs = consecutive_runs(shifts, key=lambda s: (s.user_id, s.layer_id, s.override_id))
    return [merge_run(run) for run in runs]


def users_on_call(schedule: Schedule, at: datetime) -> list[int]:
    """The ids of everyone on call at the instant ``at``: the winning layer's person first, then overrides'."""
    final = final_schedule(schedule, at, at + timedelta(microseconds=1))
    return [s.user_id for s in sorted(final.shifts, key=lambda s: s.override_id is not None)]


def on_call_at(schedule: Schedule, at: datetime, *, window: timedelta = timedelta(days=8)) -> list[Shift]:
    """The shifts in progress at ``at``: each person once, from the layer shift or override that has them on call
    at ``at``, but with the start and end of their whole unbroken stretch on call, so "on call until" is when they
    really stop, not a handoff to themselves; a stretch that goes on past ``at + window`` keeps the end of the
    shift in progress."""
    final = final_schedule(schedule, at - window, at + window)
    found = []
    for run in consecutive_runs(final.shifts):
        current = [s for s in run if s.start <= at < s.end]
        if not current:
            continue
        merged = merge_run(run, current[0])
        # A stretch that runs past the window (a one-person rotation handing off to itself for ever) has no end
        # to tell: the shift in progress keeps its own end rather than the window's edge, which no one chose.
        found.append(merged if merged.end < at + window else current[0])
    return found
