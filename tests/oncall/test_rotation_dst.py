"""Hand-written examples of the schedule computation around the 2026 DST changes, with exact expected instants.

2026 changes: United States 8 March / 1 November (02:00 local); European Union and the UK 29 March / 25 October
(01:00 UTC); Sydney 5 April (03:00 → 02:00) / 4 October (02:00 → 03:00); Lord Howe Island 5 April
(02:00 → 01:30) / 4 October (02:00 → 02:30). Kolkata has none.

Several are regression tests for peers' published failures (``../shared/reference/reliability-and-security.md``
rows 11-14): grafana/oncall#3261, #5247, #5455 and #4197.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from warroom.oncall.rotation import (
    Layer,
    Override,
    Restriction,
    Schedule,
    Unit,
    final_schedule,
    layer_shifts,
    local_to_utc,
    on_call_at,
    users_on_call,
    wall,
)

CHICAGO = ZoneInfo("America/Chicago")
LONDON = ZoneInfo("Europe/London")
PARIS = ZoneInfo("Europe/Paris")
SYDNEY = ZoneInfo("Australia/Sydney")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
KOLKATA = ZoneInfo("Asia/Kolkata")
H = timedelta(hours=1)
ALICE, BOB, CAROL, DAVE = 1, 2, 3, 4
WEEKDAYS = frozenset(range(5))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def daily(
    start: datetime, handoff: time, people: tuple[int, ...] = (ALICE, BOB), days: int = 1, **kw: object
) -> Layer:
    return Layer(1, 1, people, Unit.DAYS, days, start, handoff, **kw)  # type: ignore[arg-type]


def spans(schedule: Schedule, start: datetime, end: datetime) -> list[tuple[int, datetime, datetime]]:
    return [(s.user_id, s.start, s.end) for s in final_schedule(schedule, start, end).shifts]


# ---------------------------------------------------------------------------------------------------------------
# the resolution of local times


@pytest.mark.parametrize(
    ("zone", "local", "first", "last"),
    [
        # normal times
        (CHICAGO, datetime(2026, 3, 7, 9, 0), utc(2026, 3, 7, 15, 0), utc(2026, 3, 7, 15, 0)),
        # nonexistent: the first instant after the gap, the change itself (03:00 CDT = 08:00 UTC)
        (CHICAGO, datetime(2026, 3, 8, 2, 0), utc(2026, 3, 8, 8, 0), utc(2026, 3, 8, 8, 0)),
        (CHICAGO, datetime(2026, 3, 8, 2, 30), utc(2026, 3, 8, 8, 0), utc(2026, 3, 8, 8, 0)),
        # ambiguous: 01:30 CDT (06:30 UTC) first, 01:30 CST (07:30 UTC) last
        (CHICAGO, datetime(2026, 11, 1, 1, 30), utc(2026, 11, 1, 6, 30), utc(2026, 11, 1, 7, 30)),
        (LONDON, datetime(2026, 3, 29, 1, 30), utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 1, 0)),
        (LONDON, datetime(2026, 10, 25, 1, 30), utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)),
        (SYDNEY, datetime(2026, 10, 4, 2, 30), utc(2026, 10, 3, 16, 0), utc(2026, 10, 3, 16, 0)),
        (SYDNEY, datetime(2026, 4, 5, 2, 30), utc(2026, 4, 4, 15, 30), utc(2026, 4, 4, 16, 30)),
        # Lord Howe: +10:30 standard, +11 summer; the gap and the repeat are half an hour
        (LORD_HOWE, datetime(2026, 10, 4, 2, 15), utc(2026, 10, 3, 15, 30), utc(2026, 10, 3, 15, 30)),
        (LORD_HOWE, datetime(2026, 4, 5, 1, 45), utc(2026, 4, 4, 14, 45), utc(2026, 4, 4, 15, 15)),
        (KOLKATA, datetime(2026, 3, 8, 2, 30), utc(2026, 3, 7, 21, 0), utc(2026, 3, 7, 21, 0)),
    ],
)
def test_local_times_resolve_by_the_written_rules(
    zone: ZoneInfo, local: datetime, first: datetime, last: datetime
) -> None:
    assert local_to_utc(local, zone) == first
    assert local_to_utc(local, zone, ambiguous="last") == last


def test_every_quarter_hour_around_each_2026_change_resolves_to_itself_or_the_gap_end() -> None:
    for zone in (CHICAGO, LONDON, SYDNEY, LORD_HOWE):
        for day in (
            datetime(2026, 3, 8),
            datetime(2026, 3, 29),
            datetime(2026, 4, 5),
            datetime(2026, 10, 4),
            datetime(2026, 10, 25),
            datetime(2026, 11, 1),
        ):
            for quarter in range(4 * 5):
                local = day + timedelta(minutes=15 * quarter)
                t = local_to_utc(local, zone)
                shown = wall(t, zone)
                if shown != local:  # skipped: the result is the first instant after the gap
                    assert wall(t - timedelta(seconds=1), zone) < local < shown
                    assert (t - timedelta(seconds=1)).astimezone(zone).utcoffset() != t.astimezone(
                        zone
                    ).utcoffset()
                else:
                    assert t.astimezone(zone).fold == 0


# ---------------------------------------------------------------------------------------------------------------
# daily and weekly rotations keep their local handoff


def test_chicago_daily_shift_lasts_23_hours_in_spring_and_25_in_autumn() -> None:
    spring = Schedule(CHICAGO, (daily(datetime(2026, 3, 1, 9, 0), time(9, 0)),))
    assert spans(spring, utc(2026, 3, 7, 15), utc(2026, 3, 9, 14)) == [
        (ALICE, utc(2026, 3, 7, 15), utc(2026, 3, 8, 14)),  # 09:00 CST → 09:00 CDT: 23 h
        (BOB, utc(2026, 3, 8, 14), utc(2026, 3, 9, 14)),
    ]
    autumn = Schedule(CHICAGO, (daily(datetime(2026, 10, 1, 9, 0), time(9, 0)),))
    shifts = final_schedule(autumn, utc(2026, 10, 31, 14), utc(2026, 11, 2, 15)).shifts
    assert [(s.start, s.end) for s in shifts] == [
        (utc(2026, 10, 31, 14), utc(2026, 11, 1, 15)),  # 09:00 CDT → 09:00 CST: 25 h
        (utc(2026, 11, 1, 15), utc(2026, 11, 2, 15)),
    ]
    assert [s.end - s.start for s in shifts] == [25 * H, 24 * H]


def test_chicago_handoff_inside_the_gap_moves_to_the_end_of_the_gap_and_the_repeat_takes_the_first() -> None:
    spring = Schedule(CHICAGO, (daily(datetime(2026, 3, 1, 2, 30), time(2, 30), (ALICE, BOB, CAROL)),))
    shifts = final_schedule(spring, utc(2026, 3, 7, 8, 30), utc(2026, 3, 9, 7, 30)).shifts
    assert [(s.start, s.end) for s in shifts] == [
        (utc(2026, 3, 7, 8, 30), utc(2026, 3, 8, 8, 0)),  # ends at 03:00 CDT: 02:30 does not exist that day
        (utc(2026, 3, 8, 8, 0), utc(2026, 3, 9, 7, 30)),  # 03:00 CDT → 02:30 CDT
    ]
    assert [s.end - s.start for s in shifts] == [23.5 * H, 23.5 * H]
    autumn = Schedule(CHICAGO, (daily(datetime(2026, 10, 1, 1, 30), time(1, 30)),))
    shifts = final_schedule(autumn, utc(2026, 10, 31, 6, 30), utc(2026, 11, 2, 7, 30)).shifts
    assert [(s.start, s.end) for s in shifts] == [
        (utc(2026, 10, 31, 6, 30), utc(2026, 11, 1, 6, 30)),  # the first 01:30 (CDT): 24 h
        (utc(2026, 11, 1, 6, 30), utc(2026, 11, 2, 7, 30)),  # to 01:30 CST next day: 25 h
    ]


def test_chicago_weekly_rotation_has_no_gap_or_overlap_when_dst_ends_or_begins() -> None:
    """grafana/oncall#5247: a weekly API-created Chicago rotation had a 1 h gap in November, a 1 h overlap in March."""
    for start, end in ((utc(2026, 2, 20), utc(2026, 3, 20)), (utc(2026, 10, 20), utc(2026, 11, 20))):
        schedule = Schedule(CHICAGO, (daily(datetime(2026, 1, 5, 9, 0), time(9, 0), days=7),))
        final = final_schedule(schedule, start, end)
        assert final.gaps == ()
        for a, b in zip(final.shifts, final.shifts[1:], strict=False):
            assert a.end == b.start
            assert wall(b.start, CHICAGO).time() == time(9, 0) and wall(b.start, CHICAGO).weekday() == 0


def test_london_schedule_keeps_local_handoffs_after_dst_ends() -> None:
    """grafana/oncall#3261: when UK DST ended, schedules moved by an hour."""
    schedule = Schedule(LONDON, (daily(datetime(2026, 10, 19, 10, 0), time(10, 0), days=7),))
    shifts = final_schedule(schedule, utc(2026, 10, 19, 9), utc(2026, 11, 9, 10)).shifts
    assert [wall(s.start, LONDON) for s in shifts] == [
        datetime(2026, 10, 19, 10),
        datetime(2026, 10, 26, 10),
        datetime(2026, 11, 2, 10),
    ]
    assert shifts[0].end - shifts[0].start == 7 * 24 * H + H  # the week with the extra hour


def test_london_weekly_rotation_with_a_handoff_in_the_gap_and_in_the_repeat() -> None:
    # Sunday 01:30 handoffs: 29 March 01:30 does not exist (→ 02:00 BST = 01:00 UTC); 25 October 01:30 happens
    # twice (→ the first, 00:30 UTC).
    schedule = Schedule(LONDON, (daily(datetime(2026, 3, 1, 1, 30), time(1, 30), days=7),))
    starts = [s.start for s in final_schedule(schedule, utc(2026, 3, 20), utc(2026, 4, 10)).shifts]
    assert utc(2026, 3, 29, 1, 0) in starts and utc(2026, 4, 5, 0, 30) in starts
    starts = [s.start for s in final_schedule(schedule, utc(2026, 10, 15), utc(2026, 11, 5)).shifts]
    assert utc(2026, 10, 25, 0, 30) in starts and utc(2026, 11, 1, 1, 30) in starts


def test_a_shift_across_the_spring_change_is_shortened_by_the_lost_hour_only() -> None:
    """grafana/oncall#5455: a shift crossing the spring change was shortened and shown wrongly."""
    schedule = Schedule(LONDON, (daily(datetime(2026, 3, 28, 20, 0), time(20, 0), (ALICE,)),))
    shift = final_schedule(schedule, utc(2026, 3, 28, 20), utc(2026, 3, 29, 20)).shifts[0]
    assert shift.end == utc(2026, 3, 29, 19)  # 20:00 GMT → 20:00 BST
    assert shift.end - shift.start == 23 * H
    assert (wall(shift.start, LONDON), wall(shift.end, LONDON)) == (
        datetime(2026, 3, 28, 20),
        datetime(2026, 3, 29, 20),
    )


def test_paris_daily_rolling_rotation_puts_one_person_on_each_day() -> None:
    """grafana/oncall#4197: daily rolling Paris shifts put every user on call every day."""
    people = (ALICE, BOB, CAROL, DAVE)
    schedule = Schedule(PARIS, (daily(datetime(2026, 3, 23, 8, 0), time(8, 0), people),))
    for n, day in enumerate(range(23, 31)):
        noon = datetime(2026, 3, day, 12, 0, tzinfo=PARIS)
        assert users_on_call(schedule, noon) == [people[n % 4]]


def test_sydney_daily_handoff_at_0230_on_both_2026_changes() -> None:
    schedule = Schedule(SYDNEY, (daily(datetime(2026, 3, 1, 2, 30), time(2, 30)),))
    shifts = final_schedule(schedule, utc(2026, 4, 3, 15, 30), utc(2026, 4, 6, 15, 30)).shifts
    assert [s.start for s in shifts] == [
        utc(2026, 4, 3, 15, 30),
        utc(2026, 4, 4, 15, 30),
        utc(2026, 4, 5, 16, 30),
    ]
    assert shifts[1].end - shifts[1].start == 25 * H  # first 02:30 (AEDT) → 02:30 AEST
    shifts = final_schedule(schedule, utc(2026, 10, 2, 16, 30), utc(2026, 10, 5, 15, 30)).shifts
    assert [s.start for s in shifts] == [
        utc(2026, 10, 2, 16, 30),
        utc(2026, 10, 3, 16, 0),
        utc(2026, 10, 4, 15, 30),
    ]
    assert [s.end - s.start for s in shifts[:2]] == [23.5 * H, 23.5 * H]


def test_lord_howe_daily_shifts_last_24_and_a_half_then_23_and_a_half_hours() -> None:
    autumn = Schedule(LORD_HOWE, (daily(datetime(2026, 3, 1, 9, 0), time(9, 0)),))
    shifts = final_schedule(autumn, utc(2026, 4, 3, 22), utc(2026, 4, 6, 22, 30)).shifts
    assert [s.start for s in shifts] == [
        utc(2026, 4, 3, 22),
        utc(2026, 4, 4, 22, 30),
        utc(2026, 4, 5, 22, 30),
    ]
    assert shifts[0].end - shifts[0].start == 24.5 * H  # 09:00 +11 → 09:00 +10:30
    spring = Schedule(LORD_HOWE, (daily(datetime(2026, 9, 1, 9, 0), time(9, 0)),))
    shifts = final_schedule(spring, utc(2026, 10, 2, 22, 30), utc(2026, 10, 4, 22)).shifts
    assert [(s.start, s.end) for s in shifts] == [
        (utc(2026, 10, 2, 22, 30), utc(2026, 10, 3, 22, 0)),  # 09:00 +10:30 → 09:00 +11: 23.5 h
        (utc(2026, 10, 3, 22, 0), utc(2026, 10, 4, 22, 0)),
    ]


def test_lord_howe_handoffs_inside_the_half_hour_gap_and_repeat() -> None:
    schedule = Schedule(LORD_HOWE, (daily(datetime(2026, 3, 1, 2, 15), time(2, 15)),))
    starts = [s.start for s in final_schedule(schedule, utc(2026, 10, 2), utc(2026, 10, 5)).shifts]
    assert utc(2026, 10, 3, 15, 30) in starts  # 02:15 skipped → 02:30 LHDT
    schedule = Schedule(LORD_HOWE, (daily(datetime(2026, 3, 1, 1, 45), time(1, 45)),))
    starts = [s.start for s in final_schedule(schedule, utc(2026, 4, 3), utc(2026, 4, 6)).shifts]
    assert utc(2026, 4, 4, 14, 45) in starts and utc(2026, 4, 4, 15, 15) not in starts  # first 01:45 (+11)


def test_kolkata_has_no_dst_so_every_daily_shift_is_24_hours() -> None:
    schedule = Schedule(KOLKATA, (daily(datetime(2026, 1, 1, 9, 0), time(9, 0)),))
    shifts = final_schedule(schedule, utc(2026, 3, 1, 3, 30), utc(2026, 11, 30, 3, 30)).shifts
    assert {s.end - s.start for s in shifts} == {24 * H}
    assert {wall(s.start, KOLKATA).time() for s in shifts} == {time(9, 0)}


# ---------------------------------------------------------------------------------------------------------------
# hourly rotations count real hours


def test_hourly_shifts_are_real_hours_so_their_local_handoff_moves_with_dst() -> None:
    layer = Layer(1, 1, (ALICE, BOB), Unit.HOURS, 12, datetime(2026, 10, 30, 8, 0), time(8, 0))
    shifts = final_schedule(Schedule(CHICAGO, (layer,)), utc(2026, 10, 31, 13), utc(2026, 11, 2, 13)).shifts
    assert {s.end - s.start for s in shifts} == {12 * H}
    assert [wall(s.start, CHICAGO).time() for s in shifts] == [time(8), time(20), time(7), time(19)]


def test_a_lord_howe_hourly_rotation_keeps_exact_hours_across_the_half_hour_change() -> None:
    layer = Layer(1, 1, (ALICE, BOB, CAROL), Unit.HOURS, 1, datetime(2026, 10, 4, 0, 0), time(0, 0))
    shifts = final_schedule(
        Schedule(LORD_HOWE, (layer,)), utc(2026, 10, 3, 13, 30), utc(2026, 10, 3, 18, 30)
    ).shifts
    assert {s.end - s.start for s in shifts} == {H}
    assert [wall(s.start, LORD_HOWE).time() for s in shifts] == [
        time(0),
        time(1),
        time(2, 30),
        time(3, 30),
        time(4, 30),
    ]


# ---------------------------------------------------------------------------------------------------------------
# restrictions, layers, gaps and overrides


def test_weekday_business_hours_stay_at_nine_to_five_local_across_the_change() -> None:
    layer = daily(
        datetime(2026, 3, 2, 9, 0),
        time(9, 0),
        (ALICE,),
        days=7,
        restrictions=(Restriction(WEEKDAYS, time(9), time(17)),),
    )
    pieces = layer_shifts(layer, CHICAGO, utc(2026, 3, 5), utc(2026, 3, 11))
    assert [(wall(p.start, CHICAGO), wall(p.end, CHICAGO)) for p in pieces] == [
        (datetime(2026, 3, d, 9), datetime(2026, 3, d, 17)) for d in (5, 6, 9, 10)
    ]
    final = final_schedule(Schedule(CHICAGO, (layer,)), utc(2026, 3, 6, 23), utc(2026, 3, 9, 14))
    assert [(g.start, g.end) for g in final.gaps] == [
        (utc(2026, 3, 6, 23), utc(2026, 3, 9, 14))
    ]  # the weekend


def test_an_overnight_window_across_fall_back_covers_both_passes_of_the_repeated_hour() -> None:
    layer = daily(
        datetime(2026, 10, 1, 9, 0),
        time(9, 0),
        (ALICE,),
        restrictions=(Restriction(frozenset(range(7)), time(22), time(6)),),
    )
    pieces = layer_shifts(layer, CHICAGO, utc(2026, 10, 31, 12), utc(2026, 11, 1, 20))
    assert [(p.start, p.end) for p in pieces] == [
        (utc(2026, 11, 1, 3), utc(2026, 11, 1, 12))
    ]  # 22:00 CDT → 06:00 CST


def test_a_window_ending_in_the_repeated_hour_ends_at_its_last_occurrence() -> None:
    layer = daily(
        datetime(2026, 10, 1, 9, 0),
        time(9, 0),
        (ALICE,),
        restrictions=(Restriction(frozenset({5}), time(23), time(1, 30)),),
    )  # Saturday 23:00 → 01:30
    pieces = layer_shifts(layer, CHICAGO, utc(2026, 10, 31, 12), utc(2026, 11, 1, 20))
    assert [(p.start, p.end) for p in pieces] == [(utc(2026, 11, 1, 4), utc(2026, 11, 1, 7, 30))]


def test_a_window_starting_in_the_gap_starts_when_the_gap_ends() -> None:
    layer = daily(
        datetime(2026, 3, 1, 9, 0),
        time(9, 0),
        (ALICE,),
        restrictions=(Restriction(frozenset({6}), time(2, 30), time(4)),),
    )  # Sunday
    pieces = layer_shifts(layer, CHICAGO, utc(2026, 3, 7), utc(2026, 3, 9))
    assert [(p.start, p.end) for p in pieces] == [(utc(2026, 3, 8, 8), utc(2026, 3, 8, 9))]


def test_the_higher_layer_wins_and_the_lower_one_shows_through_its_gaps() -> None:
    base = daily(datetime(2026, 3, 2, 0, 0), time(0, 0), (BOB,), days=7)
    business = Layer(
        2,
        5,
        (ALICE,),
        Unit.DAYS,
        7,
        datetime(2026, 3, 2, 9, 0),
        time(9, 0),
        (Restriction(WEEKDAYS, time(9), time(17)),),
    )
    schedule = Schedule(CHICAGO, (base, business))
    assert users_on_call(schedule, datetime(2026, 3, 9, 10, tzinfo=CHICAGO)) == [ALICE]
    assert users_on_call(schedule, datetime(2026, 3, 9, 18, tzinfo=CHICAGO)) == [BOB]
    assert users_on_call(schedule, datetime(2026, 3, 8, 10, tzinfo=CHICAGO)) == [BOB]  # Sunday
    final = final_schedule(schedule, utc(2026, 3, 9, 5), utc(2026, 3, 10, 5))
    assert final.gaps == ()
    assert [
        (s.user_id, wall(s.start, CHICAGO).time(), wall(s.end, CHICAGO).time()) for s in final.shifts
    ] == [
        (BOB, time(0), time(9)),
        (ALICE, time(9), time(17)),
        (BOB, time(17), time(0)),
    ]


def test_nobody_on_call_is_reported_as_a_gap() -> None:
    layer = daily(
        datetime(2026, 3, 2, 9, 0),
        time(9, 0),
        (ALICE,),
        restrictions=(Restriction(WEEKDAYS, time(9), time(17)),),
    )
    final = final_schedule(Schedule(LONDON, (layer,)), utc(2026, 3, 2, 8), utc(2026, 3, 3, 8))
    assert [(g.start, g.end) for g in final.gaps] == [
        (utc(2026, 3, 2, 8), utc(2026, 3, 2, 9)),
        (utc(2026, 3, 2, 17), utc(2026, 3, 3, 8)),
    ]
    empty = final_schedule(Schedule(LONDON, ()), utc(2026, 3, 2), utc(2026, 3, 3))
    assert empty.shifts == () and [(g.start, g.end) for g in empty.gaps] == [
        (utc(2026, 3, 2), utc(2026, 3, 3))
    ]


def test_overrides_replace_add_and_chain_in_creation_order() -> None:
    layer = daily(datetime(2026, 3, 1, 9, 0), time(9, 0), (ALICE,))
    noon, one, two = utc(2026, 3, 10, 12), utc(2026, 3, 10, 13), utc(2026, 3, 10, 14)
    replace_alice = Override(10, BOB, noon, two, replaces=ALICE)
    add_dave = Override(11, DAVE, noon, one)
    bob_hands_to_carol = Override(12, CAROL, one, two, replaces=BOB)
    schedule = Schedule(LONDON, (layer,), (replace_alice, add_dave, bob_hands_to_carol))
    assert users_on_call(schedule, utc(2026, 3, 10, 11, 59)) == [ALICE]
    assert sorted(users_on_call(schedule, utc(2026, 3, 10, 12, 30))) == [BOB, DAVE]
    assert users_on_call(schedule, utc(2026, 3, 10, 13, 30)) == [CAROL]
    assert users_on_call(schedule, two) == [ALICE]
    bob = [s for s in final_schedule(schedule, utc(2026, 3, 10), utc(2026, 3, 11)).shifts if s.user_id == BOB]
    assert [(s.start, s.end, s.override_id) for s in bob] == [(noon, one, 10)]


def test_an_override_for_someone_not_on_call_changes_nothing_and_one_in_a_gap_fills_it() -> None:
    layer = daily(
        datetime(2026, 3, 2, 9, 0),
        time(9, 0),
        (ALICE,),
        restrictions=(Restriction(WEEKDAYS, time(9), time(17)),),
    )
    night = utc(2026, 3, 2, 20)
    schedule = Schedule(LONDON, (layer,), (Override(1, BOB, night, night + H, replaces=CAROL),))
    assert users_on_call(schedule, night) == []
    schedule = Schedule(LONDON, (layer,), (Override(1, BOB, night, night + H),))
    assert users_on_call(schedule, night) == [BOB]
    final = final_schedule(schedule, utc(2026, 3, 2, 17), utc(2026, 3, 3, 9))
    assert [(g.start, g.end) for g in final.gaps] == [
        (utc(2026, 3, 2, 17), night),
        (night + H, utc(2026, 3, 3, 9)),
    ]


def test_on_call_at_reports_the_whole_shift_in_progress() -> None:
    schedule = Schedule(CHICAGO, (daily(datetime(2026, 3, 1, 9, 0), time(9, 0)),))
    [shift] = on_call_at(schedule, utc(2026, 3, 8, 3))
    assert (shift.user_id, shift.start, shift.end) == (ALICE, utc(2026, 3, 7, 15), utc(2026, 3, 8, 14))


def test_before_its_start_a_layer_has_nobody_and_its_first_shift_is_cut_at_the_start() -> None:
    # Starts Tuesday 12:00 with 09:00 handoffs: Alice has 12:00 → Wednesday 09:00, Bob from then.
    schedule = Schedule(LONDON, (daily(datetime(2026, 3, 3, 12, 0), time(9, 0)),))
    assert spans(schedule, utc(2026, 3, 3), utc(2026, 3, 5)) == [
        (ALICE, utc(2026, 3, 3, 12), utc(2026, 3, 4, 9)),
        (BOB, utc(2026, 3, 4, 9), utc(2026, 3, 5)),
    ]
