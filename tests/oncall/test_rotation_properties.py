"""Property tests of the pure schedule computation (:mod:`warroom.oncall.rotation`) across time zones with
daylight-saving changes, including Lord Howe Island's half-hour one.

The ranges are drawn around real DST changes of 2025-2027 so most examples cross one. Every check here is
stated in terms of wall clocks and offsets read straight from ``zoneinfo``, not through the code under test,
except where noted.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from warroom.oncall.rotation import (
    FinalSchedule,
    Layer,
    Override,
    Restriction,
    Schedule,
    Unit,
    final_schedule,
    rotation_anchor,
    users_on_call,
)

ZONES = [
    "America/Chicago",
    "Europe/London",
    "Australia/Sydney",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    # More shapes of change: tzdata's "negative DST" (Dublin), half-hour offsets (St John's), 45 minutes (Chatham).
    "Europe/Dublin",
    "America/St_Johns",
    "Pacific/Chatham",
]
# Handoff times that fall in or next to a DST change somewhere above, drawn often.
EDGY_TIMES = [
    time(0, 0),
    time(1, 0),
    time(1, 30),
    time(1, 45),
    time(2, 0),
    time(2, 15),
    time(2, 30),
    time(2, 45),
    time(3, 0),
]

PROPERTY_SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------------------------------------------------------
# independent facts about zones


@functools.cache
def transitions(zone_name: str) -> tuple[datetime, ...]:
    """Every UTC instant in 2025-2027 at which ``zone``'s offset changes (to the second), by scanning."""
    zone = ZoneInfo(zone_name)
    found: list[datetime] = []
    t = datetime(2025, 1, 1, tzinfo=UTC)
    step = timedelta(hours=3)
    while t < datetime(2028, 1, 1, tzinfo=UTC):
        if t.astimezone(zone).utcoffset() != (t + step).astimezone(zone).utcoffset():
            lo, hi = t, t + step
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                if mid.astimezone(zone).utcoffset() == lo.astimezone(zone).utcoffset():
                    lo = mid
                else:
                    hi = mid
            found.append(hi.replace(microsecond=0))
        t += step
    return tuple(found)


def offset(t: datetime, zone: ZoneInfo) -> timedelta:
    result = t.astimezone(zone).utcoffset()
    assert result is not None
    return result


def wall(t: datetime, zone: ZoneInfo) -> datetime:
    return t.astimezone(zone).replace(tzinfo=None)


def exists(local: datetime, zone: ZoneInfo) -> bool:
    """Whether some instant shows ``local`` on the wall clock (tested with both folds)."""
    return any(wall(local.replace(tzinfo=zone, fold=fold).astimezone(UTC), zone) == local for fold in (0, 1))


def is_ambiguous(local: datetime, zone: ZoneInfo) -> bool:
    a = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    b = local.replace(tzinfo=zone, fold=1).astimezone(UTC)
    return a != b and wall(a, zone) == local and wall(b, zone) == local


# ---------------------------------------------------------------------------------------------------------------
# strategies


@st.composite
def local_times(draw: st.DrawFn) -> time:
    if draw(st.booleans()):
        return draw(st.sampled_from(EDGY_TIMES))
    return time(draw(st.integers(0, 23)), draw(st.sampled_from([0, 15, 30, 45])))


@st.composite
def scenes(
    draw: st.DrawFn, *, unit: Unit | None = None, max_range_days: int = 40
) -> tuple[Schedule, datetime, datetime]:
    """A single unrestricted layer and a range, usually across a DST change of the zone."""
    zone_name = draw(st.sampled_from(ZONES))
    zone = ZoneInfo(zone_name)
    chosen_unit = unit or draw(st.sampled_from([Unit.DAYS, Unit.DAYS, Unit.HOURS]))
    length = draw(st.integers(1, 14)) if chosen_unit == Unit.DAYS else draw(st.integers(1, 48))
    if chosen_unit == Unit.DAYS and draw(st.booleans()):
        length = 7 * draw(st.integers(1, 2))  # weekly
    participants = tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=5)))
    handoff = draw(local_times())
    changes = transitions(zone_name) or (datetime(2026, 3, 29, 1, tzinfo=UTC),)
    pivot = draw(st.sampled_from(changes))
    start_day = wall(pivot, zone).date() - timedelta(days=draw(st.integers(0, 60)))
    start_local = datetime.combine(start_day, draw(local_times()))
    layer = Layer(1, 1, participants, chosen_unit, length, start_local, handoff)
    days = max_range_days if chosen_unit == Unit.DAYS else min(max_range_days, 10)
    range_start = pivot + timedelta(minutes=draw(st.integers(-days * 24 * 60, 12 * 60)))
    range_end = range_start + timedelta(minutes=draw(st.integers(30, days * 24 * 60)))
    return Schedule(zone, (layer,)), range_start, range_end


def layer_start_utc(layer: Layer, zone: ZoneInfo) -> datetime:
    """The layer's first instant, read straight off the wall clock: the first instant showing its start, or, in a
    gap, the change itself."""
    t = layer.start.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if exists(layer.start, zone):
        return t
    return max(c for c in transitions(zone.key) if c <= t)


def assert_partition(final: FinalSchedule) -> None:
    """Shifts and gaps together cover the range; gaps never overlap a shift; every shift is non-empty."""
    pieces = sorted([(s.start, s.end) for s in final.shifts] + [(g.start, g.end) for g in final.gaps])
    assert all(a < b for a, b in pieces)
    covered = final.start
    for a, b in pieces:
        assert a <= covered, f"hole from {covered} to {a}"
        covered = max(covered, b)
    assert covered == final.end
    for g in final.gaps:
        assert not any(s.start < g.end and g.start < s.end for s in final.shifts)


# ---------------------------------------------------------------------------------------------------------------
# properties


@PROPERTY_SETTINGS
@given(scenes())
def test_an_unrestricted_layer_covers_the_range_without_gaps_or_overlaps(
    scene: tuple[Schedule, datetime, datetime],
) -> None:
    schedule, start, end = scene
    layer = schedule.layers[0]
    final = final_schedule(schedule, start, end)
    begins = max(start, layer_start_utc(layer, schedule.zone))
    if begins >= end:
        assert final.shifts == () and [(g.start, g.end) for g in final.gaps] == [(start, end)]
        return
    assert [(g.start, g.end) for g in final.gaps] == ([(start, begins)] if begins > start else [])
    shifts = final.shifts
    assert shifts[0].start == begins and shifts[-1].end == end
    for before, after in itertools.pairwise(shifts):
        assert before.end == after.start, "a gap or an overlap at a handoff"
        assert after.index == before.index + 1  # type: ignore[operator]
    for s in shifts:
        assert s.user_id == layer.participants[s.index % len(layer.participants)]  # type: ignore[operator]
    assert_partition(final)


@PROPERTY_SETTINGS
@given(scenes(unit=Unit.DAYS))
def test_every_handoff_happens_at_the_local_handoff_time(scene: tuple[Schedule, datetime, datetime]) -> None:
    schedule, start, end = scene
    zone, layer = schedule.zone, schedule.layers[0]
    for s in final_schedule(schedule, start, end).shifts:
        if s.index == 0 or s.start == start:
            continue  # the layer's own start, or clipped by the range: not a handoff
        local = s.start.astimezone(zone)
        intended = datetime.combine(local.date(), layer.handoff)
        if exists(intended, zone):
            assert local.replace(tzinfo=None) == intended
            assert local.fold == 0, "an ambiguous handoff takes the first occurrence"
        else:
            # Skipped by a spring-forward change: the handoff is the change itself, the first instant after it.
            assert offset(s.start - timedelta(seconds=1), zone) != offset(s.start, zone)
            assert wall(s.start - timedelta(seconds=1), zone) < intended < wall(s.start, zone)


@PROPERTY_SETTINGS
@given(scenes(unit=Unit.DAYS))
def test_a_day_based_shift_lasts_its_days_on_the_wall_clock(
    scene: tuple[Schedule, datetime, datetime],
) -> None:
    schedule, start, end = scene
    zone, layer = schedule.zone, schedule.layers[0]
    period = timedelta(days=layer.length)
    for s in final_schedule(schedule, start, end).shifts:
        if s.index == 0 or s.start == start or s.end == end:
            continue
        real = s.end - s.start
        # Real length differs from the wall-clock length by the change in offset, and by no more than one change.
        assert abs(real - period) <= timedelta(hours=1)
        on_time = all(wall(t, zone).time() == layer.handoff for t in (s.start, s.end))
        if on_time:
            assert wall(s.end, zone) - wall(s.start, zone) == period
            assert real == period + offset(s.start, zone) - offset(s.end, zone)


@PROPERTY_SETTINGS
@given(scenes(unit=Unit.HOURS))
def test_an_hour_based_shift_lasts_its_real_hours(scene: tuple[Schedule, datetime, datetime]) -> None:
    schedule, start, end = scene
    layer = schedule.layers[0]
    for s in final_schedule(schedule, start, end).shifts:
        if s.index == 0 or s.start == start or s.end == end:
            continue
        assert s.end - s.start == timedelta(hours=layer.length)


@PROPERTY_SETTINGS
@given(scenes(unit=Unit.DAYS))
def test_the_first_shift_starts_at_the_layer_start_and_counts_from_the_last_handoff_before_it(
    scene: tuple[Schedule, datetime, datetime],
) -> None:
    schedule, _start, _end = scene
    zone, layer = schedule.zone, schedule.layers[0]
    begins = layer_start_utc(layer, zone)
    final = final_schedule(schedule, begins, begins + timedelta(days=layer.length + 2))
    first = final.shifts[0]
    assert first.index == 0 and first.start == begins
    anchor = rotation_anchor(layer)
    assert anchor <= layer.start < anchor + timedelta(days=1) and anchor.time() == layer.handoff
    assert wall(first.end, zone).date() == anchor.date() + timedelta(days=layer.length)


@st.composite
def busy_scenes(draw: st.DrawFn) -> tuple[Schedule, datetime, datetime, list[datetime]]:
    """Up to three layers, some restricted, and up to three overrides; plus instants to probe."""
    schedule, start, end = draw(scenes(max_range_days=21))
    zone = schedule.zone
    layers = [schedule.layers[0]]
    for n in range(draw(st.integers(0, 2))):
        restrictions = tuple(
            Restriction(
                days=frozenset(draw(st.sets(st.integers(0, 6), min_size=1))),
                start=draw(local_times()),
                end=draw(local_times()),
            )
            for _ in range(draw(st.integers(0, 2)))
        )
        layers.append(
            replace(
                layers[0],
                id=n + 2,
                priority=n + 2,
                participants=tuple(draw(st.lists(st.integers(1, 6), min_size=0, max_size=3))),
                length=draw(st.integers(1, 3)),
                handoff=draw(local_times()),
                restrictions=restrictions,
            )
        )
    overrides = []
    span = int((end - start).total_seconds() // 60)
    for n in range(draw(st.integers(0, 3))):
        o_start = start + timedelta(minutes=draw(st.integers(-60, span)))
        o_end = o_start + timedelta(minutes=draw(st.integers(1, 3 * 24 * 60)))
        replaces = draw(st.one_of(st.none(), st.integers(1, 6)))
        user = draw(st.integers(1, 8).filter(lambda u, r=replaces: u != r))
        overrides.append(Override(100 + n, user, o_start, o_end, replaces))
    probes = [
        start + timedelta(seconds=draw(st.integers(0, int((end - start).total_seconds()) - 1)))
        for _ in range(8)
    ]
    return Schedule(zone, tuple(layers), tuple(overrides)), start, end, probes


@PROPERTY_SETTINGS
@given(busy_scenes())
def test_who_is_on_call_agrees_with_the_shift_list(
    scene: tuple[Schedule, datetime, datetime, list[datetime]],
) -> None:
    schedule, start, end, probes = scene
    final = final_schedule(schedule, start, end)
    assert_partition(final)
    edges = sorted(
        {s.start for s in final.shifts} | {s.end for s in final.shifts} | {g.start for g in final.gaps}
    )
    for t in [*probes, *[e for e in edges if e < end][:20]]:
        listed = {s.user_id for s in final.shifts if s.start <= t < s.end}
        assert set(users_on_call(schedule, t)) == listed
        assert (not listed) == any(g.start <= t < g.end for g in final.gaps)


@PROPERTY_SETTINGS
@given(busy_scenes())
def test_overrides_win(scene: tuple[Schedule, datetime, datetime, list[datetime]]) -> None:
    schedule, start, end, probes = scene
    base = replace(schedule, overrides=())
    for o in schedule.overrides:
        alone = replace(schedule, overrides=(o,))
        inside = [t for t in [*probes, max(o.start, start)] if o.start <= t < o.end and start <= t < end]
        for t in inside:
            before = set(users_on_call(base, t))
            after = set(users_on_call(alone, t))
            if o.replaces is None:
                assert after == before | {o.user_id}
            elif o.replaces in before:
                assert after == (before - {o.replaces}) | {o.user_id}
            else:
                assert after == before
        for t in probes:
            if not o.start <= t < o.end:
                assert set(users_on_call(alone, t)) == set(users_on_call(base, t)), (
                    "an override leaked out of its time"
                )


@PROPERTY_SETTINGS
@given(busy_scenes())
def test_a_higher_layer_wins_wherever_it_has_someone(
    scene: tuple[Schedule, datetime, datetime, list[datetime]],
) -> None:
    schedule, _start, _end, probes = scene
    schedule = replace(schedule, overrides=())
    top = max(schedule.layers, key=lambda layer: layer.priority)
    for t in probes:
        alone = users_on_call(replace(schedule, layers=(top,)), t)
        everyone = users_on_call(schedule, t)
        if alone:
            assert everyone == alone
        else:
            rest = replace(schedule, layers=tuple(layer for layer in schedule.layers if layer is not top))
            assert everyone == users_on_call(rest, t)


def _in_window(local: datetime, restrictions: tuple[Restriction, ...]) -> bool:
    """Whether wall-clock time ``local`` falls in a restriction window (windows may start the day before)."""
    for r in restrictions:
        for day in (local.date() - timedelta(days=1), local.date()):
            if day.weekday() not in r.days:
                continue
            opens = datetime.combine(day, r.start)
            closes = datetime.combine(day if r.end > r.start else day + timedelta(days=1), r.end)
            if opens <= local < closes:
                return True
    return False


@PROPERTY_SETTINGS
@given(scenes(max_range_days=21), st.data())
def test_restrictions_limit_a_layer_to_its_wall_clock_windows(
    scene: tuple[Schedule, datetime, datetime], data: st.DataObject
) -> None:
    schedule, start, end = scene
    zone = schedule.zone
    restrictions = tuple(
        Restriction(
            days=frozenset(data.draw(st.sets(st.integers(0, 6), min_size=1))),
            start=data.draw(local_times()),
            end=data.draw(local_times()),
        )
        for _ in range(data.draw(st.integers(1, 3)))
    )
    layer = replace(schedule.layers[0], restrictions=restrictions)
    restricted = replace(schedule, layers=(layer,))
    begins = layer_start_utc(layer, zone)
    seconds = int((end - start).total_seconds())
    for _ in range(10):
        t = start + timedelta(seconds=data.draw(st.integers(0, seconds - 1)))
        local = wall(t, zone)
        if t < begins or is_ambiguous(local, zone):
            continue  # before the layer; or in a repeated hour, where a window spans both passes (see docs)
        assert bool(users_on_call(restricted, t)) == _in_window(local, restrictions), (t, local)


def test_transitions_were_found_for_every_zone_with_dst() -> None:
    """The scanner above feeds the strategies: make sure it sees the changes (and none in Kolkata)."""
    assert transitions("Asia/Kolkata") == ()
    for name in ZONES:
        if name != "Asia/Kolkata":
            assert len(transitions(name)) == 6, name
    lord_howe = ZoneInfo("Australia/Lord_Howe")
    jumps = {
        abs(offset(t, lord_howe) - offset(t - timedelta(seconds=1), lord_howe))
        for t in transitions(lord_howe.key)
    }
    assert jumps == {timedelta(minutes=30)}
    assert date(2026, 10, 4) in {wall(t, lord_howe).date() for t in transitions(lord_howe.key)}
