"""The clock math of :mod:`warroom.incidents.sla` — pure, no database.

Hand-worked examples (office hours 09:00–17:00, Monday to Friday) and hypothesis properties over random
calendars in zones with DST (including Lord Howe's 30-minute shift and the southern hemisphere), holidays and
holds: paused time never counts, business time ≤ wall time, business time is additive, adding business time is
the exact inverse of measuring it, and an incident inside one business day measures exactly its working
minutes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from warroom.incidents import sla

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
OFFICE = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
H = timedelta(hours=1)
MIN = timedelta(minutes=1)
US = timedelta(microseconds=1)


def london(country: str = "GB", subdivision: str = "ENG", **extra: object) -> sla.Calendar:
    return sla.calendar("Europe/London", OFFICE, country=country, subdivision=subdivision, **extra)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------------------
# hand-worked examples


def test_friday_afternoon_in_london_is_due_monday_noon() -> None:
    """Friday 6 March 2026 16:00: one hour on Friday, three on Monday → Monday 12:00."""
    cal = london()
    start = datetime(2026, 3, 6, 16, 0, tzinfo=LONDON)
    due = sla.add_business_time(cal, start, 4 * H)
    assert due == datetime(2026, 3, 9, 12, 0, tzinfo=LONDON)
    assert sla.business_time(cal, start, due) == 4 * H
    # Saturday and Sunday count for nothing; Monday 09:00 still has 3 hours to go.
    assert sla.business_time(cal, start, datetime(2026, 3, 9, 9, 0, tzinfo=LONDON)) == H


def test_friday_afternoon_across_the_us_spring_forward_weekend() -> None:
    """New York moves to daylight time on Sunday 8 March 2026: the due time is still Monday 12:00 local, and
    the wall-clock wait is an hour shorter than the local clock says (67 h, not 68 h)."""
    cal = sla.calendar("America/New_York", OFFICE, country="US")
    start = datetime(2026, 3, 6, 16, 0, tzinfo=NEW_YORK)
    due = sla.add_business_time(cal, start, 4 * H)
    assert due is not None
    assert due.astimezone(NEW_YORK) == datetime(2026, 3, 9, 12, 0, tzinfo=NEW_YORK)
    assert due.astimezone(NEW_YORK).utcoffset() == timedelta(hours=-4)
    assert due - start == 67 * H
    assert sla.business_time(cal, start, due) == 4 * H


def test_friday_afternoon_across_the_us_fall_back_weekend() -> None:
    cal = sla.calendar("America/New_York", OFFICE, country="US")
    start = datetime(2026, 10, 30, 16, 0, tzinfo=NEW_YORK)
    due = sla.add_business_time(cal, start, 4 * H)
    assert due is not None
    assert due.astimezone(NEW_YORK) == datetime(2026, 11, 2, 12, 0, tzinfo=NEW_YORK)
    assert due - start == 69 * H


def test_a_uk_bank_holiday_does_not_count() -> None:
    """Monday 4 May 2026 is the Early May bank holiday: Friday 16:00 + 4 h is Tuesday 12:00."""
    cal = london()
    start = datetime(2026, 5, 1, 16, 0, tzinfo=LONDON)
    assert sla.add_business_time(cal, start, 4 * H) == datetime(2026, 5, 5, 12, 0, tzinfo=LONDON)
    # Without the holiday calendar it would be Monday.
    plain = sla.calendar("Europe/London", OFFICE)
    assert sla.add_business_time(plain, start, 4 * H) == datetime(2026, 5, 4, 12, 0, tzinfo=LONDON)


def test_easter_skips_good_friday_and_easter_monday() -> None:
    cal = london()
    start = datetime(2026, 4, 2, 16, 0, tzinfo=LONDON)  # Thursday before Good Friday
    assert sla.add_business_time(cal, start, 4 * H) == datetime(2026, 4, 7, 12, 0, tzinfo=LONDON)


def test_subdivisions_differ_scotland_keeps_2_january() -> None:
    start = datetime(2025, 12, 31, 16, 0, tzinfo=LONDON)  # Wednesday; Thursday 1 January is a holiday
    assert sla.add_business_time(london(subdivision="ENG"), start, 4 * H) == datetime(
        2026, 1, 2, 12, 0, tzinfo=LONDON
    )
    assert sla.add_business_time(london(subdivision="SCT"), start, 4 * H) == datetime(
        2026, 1, 5, 12, 0, tzinfo=LONDON
    )


def test_custom_holidays_do_not_count() -> None:
    cal = london(custom_holidays=["2026-03-09"])
    start = datetime(2026, 3, 6, 16, 0, tzinfo=LONDON)
    assert sla.add_business_time(cal, start, 4 * H) == datetime(2026, 3, 10, 12, 0, tzinfo=LONDON)
    holidays = cal.holidays
    assert isinstance(holidays, sla.Holidays)
    assert holidays.name(date(2026, 3, 9)) == "custom holiday"
    assert holidays.name(date(2026, 5, 4)) is not None
    assert holidays.name(date(2026, 3, 10)) is None


def test_around_the_clock_is_wall_time() -> None:
    start = datetime(2026, 3, 7, 23, 0, tzinfo=UTC)
    assert sla.add_business_time(None, start, 4 * H) == datetime(2026, 3, 8, 3, 0, tzinfo=UTC)
    assert sla.business_time(None, start, start + 90 * MIN) == 90 * MIN
    assert sla.business_time(None, start, start - H) == sla.ZERO


def test_starting_outside_hours_waits_for_the_next_window() -> None:
    cal = london()
    saturday = datetime(2026, 3, 7, 10, 0, tzinfo=LONDON)
    assert sla.add_business_time(cal, saturday, 30 * MIN) == datetime(2026, 3, 9, 9, 30, tzinfo=LONDON)
    early = datetime(2026, 3, 9, 7, 0, tzinfo=LONDON)
    assert sla.add_business_time(cal, early, 8 * H) == datetime(2026, 3, 9, 17, 0, tzinfo=LONDON)
    # The earliest instant: a target that ends exactly with a working day is due at 17:00, not next morning.
    assert sla.add_business_time(cal, early, 8 * H + US) == datetime(2026, 3, 10, 9, 0, tzinfo=LONDON) + US


def test_split_shifts_and_a_day_to_midnight() -> None:
    hours = {
        "mon": [["08:00", "12:00"], ["13:00", "17:00"]],
        "sat": [["20:00", "24:00"]],
        "sun": [["00:00", "02:00"]],
    }
    cal = sla.calendar("Europe/London", hours)
    monday = datetime(2026, 3, 9, 11, 0, tzinfo=LONDON)
    assert sla.add_business_time(cal, monday, 2 * H) == datetime(2026, 3, 9, 14, 0, tzinfo=LONDON)
    saturday = datetime(2026, 3, 14, 23, 0, tzinfo=LONDON)
    assert sla.add_business_time(cal, saturday, 2 * H) == datetime(2026, 3, 15, 1, 0, tzinfo=LONDON)


def test_a_window_starting_in_the_skipped_hour_moves_forward() -> None:
    """02:30 does not exist in New York on 8 March 2026; the window 02:30–03:30 starts at 03:00 (the jump)."""
    cal = sla.calendar("America/New_York", {d: [["02:30", "03:30"]] for d in sla.WEEKDAYS})
    day_start = datetime(2026, 3, 8, 0, 0, tzinfo=NEW_YORK)
    intervals = list(sla.working_intervals(cal, day_start, day_start + 12 * H))
    assert intervals == [
        (datetime(2026, 3, 8, 7, 0, tzinfo=UTC), datetime(2026, 3, 8, 7, 30, tzinfo=UTC)),
    ]


def test_the_repeated_hour_counts_inside_a_window() -> None:
    """On 1 November 2026 New York repeats 01:00–02:00: a window 00:00–03:00 lasts 4 real hours; a window
    ending at the ambiguous 01:30 takes its last occurrence, one starting there its first (no double count)."""
    cal = sla.calendar("America/New_York", {d: [["00:00", "03:00"]] for d in sla.WEEKDAYS})
    day = datetime(2026, 11, 1, 0, 0, tzinfo=NEW_YORK)
    assert sla.business_time(cal, day, day + 24 * H) == 4 * H
    split = sla.calendar(
        "America/New_York", {d: [["01:00", "01:30"], ["01:30", "03:00"]] for d in sla.WEEKDAYS}
    )
    assert sla.business_time(split, day, day + 24 * H) == 3 * H


def test_lord_howe_half_hour_shift_in_an_all_day_calendar_is_wall_time() -> None:
    cal = sla.calendar("Australia/Lord_Howe", {d: [["00:00", "24:00"]] for d in sla.WEEKDAYS})
    start = datetime(2026, 4, 4, 12, 0, tzinfo=UTC)  # across the 5 April 2026 change
    assert sla.business_time(cal, start, start + 48 * H) == 48 * H


# ---------------------------------------------------------------------------------------------------------------
# validation


@pytest.mark.parametrize(
    ("kwargs", "field", "text"),
    [
        ({"zone": "Mars/Olympus"}, "time_zone", "IANA"),
        ({"hours": {"mon": [["09:00", "25:00"]]}}, "working_hours", "25:00"),
        ({"hours": {"mon": [["17:00", "09:00"]]}}, "working_hours", "ends before it starts"),
        ({"hours": {"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}}, "working_hours", "overlap"),
        ({"hours": {"monday": [["09:00", "17:00"]]}}, "working_hours", "unknown day"),
        ({"hours": {}}, "working_hours", "no working hours"),
        ({"hours": {"mon": "9-5"}}, "working_hours", "list"),
        ({"hours": {"mon": [["9am", "5pm"]]}}, "working_hours", "HH:MM"),
        ({"country": "XX"}, "holiday_country", "XX"),
        ({"country": "GB", "subdivision": "ZZ"}, "holiday_subdivision", "ZZ"),
        ({"subdivision": "ENG"}, "holiday_subdivision", "needs a country"),
        ({"custom": ["2026-02-30"]}, "custom_holidays", "2026-02-30"),
    ],
)
def test_bad_calendars_are_refused_naming_the_field(kwargs: dict[str, object], field: str, text: str) -> None:
    with pytest.raises(sla.CalendarError) as caught:
        sla.calendar(
            str(kwargs.get("zone", "UTC")),
            kwargs.get("hours", OFFICE),  # type: ignore[arg-type]
            country=str(kwargs.get("country", "")),
            subdivision=str(kwargs.get("subdivision", "")),
            custom_holidays=kwargs.get("custom", []),  # type: ignore[arg-type]
        )
    assert caught.value.field == field
    assert text in caught.value.message


def test_hours_round_trip_and_country_normalises() -> None:
    week = sla.parse_hours({"mon": [["09:00", "12:30"], ["13:00", "24:00"]]})
    assert sla.format_hours(week)["mon"] == [["09:00", "12:30"], ["13:00", "24:00"]]
    assert sla.format_hours(week)["sun"] == []
    assert sla.check_country("gb", "sct") == ("GB", "SCT")


@pytest.mark.parametrize("bad", [[0], [100], [50, "75"], [True], "50", list(range(1, 12))])
def test_bad_thresholds(bad: object) -> None:
    with pytest.raises(sla.CalendarError):
        sla.parse_thresholds(bad)


def test_thresholds_sorted_and_unique() -> None:
    assert sla.parse_thresholds([90, 50, 75, 50]) == (50, 75, 90)


# ---------------------------------------------------------------------------------------------------------------
# planning and events


def test_plan_checks_at_the_first_threshold_then_due() -> None:
    start = datetime(2026, 3, 6, 16, 0, tzinfo=LONDON)
    plan = sla.plan(
        london(),
        target=4 * H,
        elapsed=sla.ZERO,
        running_since=start,
        thresholds=(50, 75, 90),
        done=(),
        breached=False,
    )
    assert plan.due_at == datetime(2026, 3, 9, 12, 0, tzinfo=LONDON)
    assert plan.next_check_at == datetime(2026, 3, 9, 10, 0, tzinfo=LONDON)  # 2 h used at Monday 10:00
    later = sla.plan(
        london(),
        target=4 * H,
        elapsed=sla.ZERO,
        running_since=start,
        thresholds=(50, 75, 90),
        done=(50, 75, 90),
        breached=False,
    )
    assert later.next_check_at == later.due_at
    done = sla.plan(
        london(),
        target=4 * H,
        elapsed=sla.ZERO,
        running_since=start,
        thresholds=(50, 75, 90),
        done=(50, 75, 90),
        breached=True,
    )
    assert done.next_check_at is None


def test_plan_of_a_clock_already_past_target_checks_at_once() -> None:
    now = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
    plan = sla.plan(
        None, target=H, elapsed=2 * H, running_since=now, thresholds=(50,), done=(), breached=False
    )
    assert plan.due_at == now and plan.next_check_at == now
    kept = sla.plan(
        None,
        target=H,
        elapsed=2 * H,
        running_since=now,
        thresholds=(),
        done=(),
        breached=True,
        previous_due=now - H,
    )
    assert kept.due_at == now - H and kept.next_check_at is None


def test_only_the_most_advanced_crossing_is_announced() -> None:
    target = 100 * MIN
    assert (
        sla.due_events(elapsed=49 * MIN, target=target, thresholds=(50, 75, 90), done=(), breached=False)
        == sla.Events()
    )
    assert sla.due_events(
        elapsed=50 * MIN, target=target, thresholds=(50, 75, 90), done=(), breached=False
    ) == sla.Events(fire=50, mark=(50,))
    assert sla.due_events(
        elapsed=91 * MIN, target=target, thresholds=(50, 75, 90), done=(50,), breached=False
    ) == sla.Events(fire=90, mark=(75, 90))
    assert sla.due_events(
        elapsed=target, target=target, thresholds=(50, 75, 90), done=(), breached=False
    ) == sla.Events(breach=True, mark=(50, 75, 90))
    assert not sla.due_events(
        elapsed=2 * target, target=target, thresholds=(50, 75, 90), done=(50, 75, 90), breached=True
    ).any


def test_format_duration() -> None:
    assert sla.format_duration(sla.ZERO) == "0m"
    assert sla.format_duration(-H) == "0m"
    assert sla.format_duration(45 * MIN + timedelta(seconds=59)) == "45m"
    assert sla.format_duration(2 * H + 5 * MIN) == "2h 05m"
    assert sla.format_duration(4 * H) == "4h"
    assert sla.format_duration(76 * H) == "3d 4h"


# ---------------------------------------------------------------------------------------------------------------
# properties

ZONES = [
    "UTC",
    "Europe/London",
    "America/New_York",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
]
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
SPAN_MINUTES = 2 * 366 * 24 * 60  # starts anywhere in 2025-2026, both DST changes of each year included


@st.composite
def calendars(draw: st.DrawFn) -> sla.Calendar:
    week: dict[str, list[list[str]]] = {}
    for day in sla.WEEKDAYS:
        cuts = sorted(draw(st.sets(st.integers(0, 96), max_size=4)))
        if len(cuts) % 2:
            cuts = cuts[:-1]
        week[day] = [
            [f"{a * 15 // 60:02d}:{a * 15 % 60:02d}", f"{b * 15 // 60:02d}:{b * 15 % 60:02d}"]
            for a, b in zip(cuts[::2], cuts[1::2], strict=True)
        ]
    if not any(week.values()):
        week["wed"] = [["09:00", "17:00"]]
    custom = draw(st.lists(st.dates(date(2025, 1, 1), date(2027, 1, 1)), max_size=20))
    return sla.calendar(
        draw(st.sampled_from(ZONES)),
        week,
        country=draw(st.sampled_from(["", "GB", "US", "AU"])),
        custom_holidays=[d.isoformat() for d in custom],
    )


instants = st.integers(0, SPAN_MINUTES * 60).map(lambda s: EPOCH + timedelta(seconds=s))
spans = st.integers(0, 21 * 24 * 3600).map(lambda s: timedelta(seconds=s))
maybe_calendars = st.one_of(st.none(), calendars())

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(cal=maybe_calendars, start=instants, span=spans)
def test_business_time_never_exceeds_wall_time(
    cal: sla.Calendar | None, start: datetime, span: timedelta
) -> None:
    assert sla.ZERO <= sla.business_time(cal, start, start + span) <= span


@PROPERTY
@given(cal=calendars(), start=instants, a=spans, b=spans)
def test_business_time_is_additive(cal: sla.Calendar, start: datetime, a: timedelta, b: timedelta) -> None:
    mid, end = start + a, start + a + b
    assert sla.business_time(cal, start, end) == sla.business_time(cal, start, mid) + sla.business_time(
        cal, mid, end
    )


@PROPERTY
@given(cal=maybe_calendars, start=instants, minutes=st.integers(1, 5 * 24 * 60))
def test_adding_business_time_is_the_exact_inverse_and_earliest(
    cal: sla.Calendar | None, start: datetime, minutes: int
) -> None:
    amount = timedelta(minutes=minutes)
    due = sla.add_business_time(cal, start, amount)
    assert due is not None
    assert sla.business_time(cal, start, due) == amount
    assert sla.business_time(cal, start, due - US) < amount


@PROPERTY
@given(
    cal=maybe_calendars,
    start=instants,
    cuts=st.lists(st.integers(0, 14 * 24 * 3600), min_size=0, max_size=8),
    span=st.integers(1, 14 * 24 * 3600),
)
def test_paused_time_never_counts(
    cal: sla.Calendar | None, start: datetime, cuts: list[int], span: int
) -> None:
    """A clock toggled running → paused → running … at ``cuts`` uses exactly the business time of its running
    segments, whatever happens in the paused ones: the total minus the business time of the pauses."""
    end = start + timedelta(seconds=span)
    points = sorted({start + timedelta(seconds=c) for c in cuts if c < span})
    elapsed, running_since, paused_total = sla.ZERO, start, sla.ZERO
    paused_since: datetime | None = None
    for point in points:
        if running_since is not None:  # pause, banking the segment the way the services do
            elapsed = sla.elapsed_at(cal, elapsed=elapsed, running_since=running_since, at=point)
            running_since, paused_since = None, point
        else:  # resume
            assert paused_since is not None
            paused_total += sla.business_time(cal, paused_since, point)
            running_since, paused_since = point, None
    if paused_since is not None:
        paused_total += sla.business_time(cal, paused_since, end)
    used = sla.elapsed_at(cal, elapsed=elapsed, running_since=running_since, at=end)
    assert used == sla.business_time(cal, start, end) - paused_total
    assert used <= sla.business_time(cal, start, end)


WEEKDAY_ZONES = [
    "Europe/London",
    "America/New_York",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
]


@PROPERTY
@given(
    zone=st.sampled_from(WEEKDAY_ZONES),
    day=st.dates(date(2025, 1, 1), date(2026, 12, 31)),
    a=st.integers(9 * 60, 17 * 60),
    b=st.integers(9 * 60, 17 * 60),
)
def test_an_incident_inside_one_business_day_measures_its_working_minutes(
    zone: str, day: date, a: int, b: int
) -> None:
    """Opened and resolved within 09:00–17:00 of one working day (DST change days included): exactly the
    minutes between."""
    cal = sla.calendar(zone, OFFICE)
    if day.weekday() >= 5:
        day -= timedelta(days=day.weekday() - 4)
    start_min, end_min = min(a, b), max(a, b)
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time(start_min // 60, start_min % 60), tzinfo=tz)
    end = datetime.combine(day, time(end_min // 60, end_min % 60), tzinfo=tz)
    assert sla.business_time(cal, start, end) == timedelta(minutes=end_min - start_min)


@PROPERTY
@given(zone=st.sampled_from(ZONES), start=instants, span=spans)
def test_an_all_day_calendar_measures_wall_time_across_dst(
    zone: str, start: datetime, span: timedelta
) -> None:
    cal = sla.calendar(zone, {d: [["00:00", "24:00"]] for d in sla.WEEKDAYS})
    assert sla.business_time(cal, start, start + span) == span
