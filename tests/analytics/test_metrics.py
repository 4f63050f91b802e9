"""Every metric on the hand-built data set (tests/analytics/conftest.py), as alice (admin of team A) sees it.
Expected figures are literals worked out by hand; the arithmetic is in the comments."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.analytics.conftest import FIRST, LAST, NOW, Data, alert, at, summarize
from warroom.accounts.models import User
from warroom.analytics import filters, selectors
from warroom.analytics.filters import Filters
from warroom.incidents.models import Incident
from warroom.notify.working_hours import Window, days_from_mask, next_working_instant
from warroom.reviews.models import Postmortem

pytestmark = pytest.mark.django_db


def scope(user: User, **kw: Any) -> Filters:
    return filters.resolve(user, today=NOW.date(), start=FIRST, end=LAST, **kw)


def test_mtta_mttr_and_time_to_detect(data: Data) -> None:
    report = selectors.response_report(data.world.alice, scope(data.world.alice))
    total = report.total
    # I1..I5 count; I6 is cancelled, I7 is team B's, I8 opened before the period
    assert total.incidents == 5
    assert report.cancelled == 1
    # MTTA over the acknowledged I1 (5 min), I2 (10 min), I3 (30 min), I5 (50 min: resolving acknowledges):
    # (300 + 600 + 1800 + 3000) / 4 = 1425 s; I4 was never acknowledged
    assert (total.mtta.count, total.mtta.seconds, total.unacknowledged) == (4, 1425.0, 1)
    # MTTR over the resolved I1 (1 h), I2 (2 h), I5 (50 min): (3600 + 7200 + 3000) / 3 = 4600 s; I3, I4 open
    assert (total.mttr.count, total.mttr.seconds, total.unresolved) == (3, 4600.0, 2)
    # time to detect where the first alert came first: I1 (09:58 → 10:00, 120 s), I2 (13:55 → 14:00, 300 s),
    # I5 (07:00 → 08:00, 3600 s): 4020 / 3 = 1340 s. I3 has no alert; I4's only alert came after it opened.
    assert (total.ttd.count, total.ttd.seconds, total.not_alert_detected) == (3, 1340.0, 2)


def test_response_by_priority_team_and_week(data: Data) -> None:
    report = selectors.response_report(data.world.alice, scope(data.world.alice))
    rows = {r.key: r for r in report.by_priority}
    assert list(rows) == ["1", "2", "3"]
    assert (rows["1"].incidents, rows["1"].mtta.seconds, rows["1"].mttr.seconds, rows["1"].ttd.seconds) == (
        1,
        300.0,
        3600.0,
        120.0,
    )
    # P2: I2 and I5. MTTA (600 + 3000) / 2 = 1800; MTTR (7200 + 3000) / 2 = 5100; TTD (300 + 3600) / 2 = 1950
    assert (rows["2"].incidents, rows["2"].mtta.seconds, rows["2"].mttr.seconds, rows["2"].ttd.seconds) == (
        2,
        1800.0,
        5100.0,
        1950.0,
    )
    # P3: I3 (acknowledged after 30 min, open) and I4 (nothing): no MTTR, no time to detect
    assert (rows["3"].incidents, rows["3"].mtta.seconds, rows["3"].mttr.seconds, rows["3"].ttd.seconds) == (
        2,
        1800.0,
        None,
        None,
    )
    assert [(r.label, r.incidents) for r in report.by_team] == [("Team A", 5)]
    # weeks from Monday: 03-02 (I1, I2), 03-09 (I3, I4), 03-16 (I5), 03-23 (nothing; I6 is cancelled)
    trend = [(r.key, r.incidents, r.mtta.seconds, r.mttr.seconds) for r in report.trend]
    assert trend == [
        ("2026-03-02", 2, 450.0, 5400.0),  # MTTA (300 + 600) / 2, MTTR (3600 + 7200) / 2
        ("2026-03-09", 2, 1800.0, None),
        ("2026-03-16", 1, 3000.0, 3000.0),
        ("2026-03-23", 0, None, None),
    ]


def test_incidents_by_priority_team_category_and_service_per_week(data: Data) -> None:
    report = selectors.volume_report(data.world.alice, scope(data.world.alice))
    assert report.buckets == [date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 16), date(2026, 3, 23)]
    assert (report.total, report.cancelled, report.per_bucket) == (5, 1, [2, 2, 1, 0])

    def counts(dimension: str) -> dict[str, tuple[int, list[int]]]:
        return {s.label: (s.total, s.counts) for s in report.breakdown(dimension).series}

    assert counts("priority") == {
        "1 - Critical": (1, [1, 0, 0, 0]),
        "2 - High": (2, [1, 0, 1, 0]),
        "3 - Moderate": (2, [0, 2, 0, 0]),
    }
    assert counts("team") == {"Team A": (5, [2, 2, 1, 0])}
    # I1, I2 Network; I4 Software; I3 and I5 none
    assert counts("category") == {
        "Network": (2, [2, 0, 0, 0]),
        "Software": (1, [0, 1, 0, 0]),
        "(no category)": (2, [0, 1, 1, 0]),
    }
    # I4 is on both services, so it counts under each: Checkout I1 I2 I4 I5, Search I3 I4
    assert counts("service") == {"Checkout": (4, [2, 1, 1, 0]), "Search": (2, [0, 2, 0, 0])}


def test_monthly_buckets(data: Data) -> None:
    report = selectors.volume_report(data.world.alice, scope(data.world.alice, bucket="month"))
    assert (report.buckets, report.per_bucket) == ([date(2026, 3, 1)], [5])


def test_mean_time_between_failures_per_service(data: Data) -> None:
    report = selectors.reliability_report(data.world.alice, scope(data.world.alice))
    rows = {r.label: r for r in report.services}
    # Checkout: I1 03-02 10:00 … I5 03-20 08:00 = 17 d 22 h = 1,548,000 s over 3 gaps = 516,000 s
    assert (rows["Checkout"].incidents, rows["Checkout"].mtbf_seconds) == (4, 516000.0)
    # its MTTR: (3600 + 7200 + 3000) / 3 = 4600 s (I4 open)
    assert rows["Checkout"].mttr.seconds == 4600.0
    # Search: I3 03-10 09:00 → I4 03-11 22:00 = 37 h = 133,200 s, one gap; nothing resolved
    assert (rows["Search"].incidents, rows["Search"].mtbf_seconds, rows["Search"].mttr.seconds) == (
        2,
        133200.0,
        None,
    )
    assert [r.label for r in report.services] == ["Search", "Checkout"]  # shortest MTBF first


def test_sla_compliance(data: Data) -> None:
    report = selectors.sla_report(data.world.alice, scope(data.world.alice), at=NOW)
    total = report.total
    # response: I1 met (5 of 10 min); I2 (10 of 5 min) and I5 (50 of 5 min) breached → 1 / 3 = 33.3 %
    assert (total.response.met, total.response.breached, total.response.in_progress) == (1, 2, 0)
    assert total.response.compliance == 33.3
    # resolution: I1 met (60 of 120 min), I5 met (50 of 60 min), I2 breached (120 of 60 min) → 2 / 3 = 66.7 %
    assert (total.resolution.met, total.resolution.breached, total.resolution.compliance) == (2, 1, 66.7)
    rows = {r.key: r for r in report.by_priority}
    assert (rows["1"].response.compliance, rows["1"].resolution.compliance) == (100.0, 100.0)
    assert (rows["2"].response.compliance, rows["2"].resolution.compliance) == (0.0, 50.0)
    assert [r.label for r in report.by_team] == ["Team A"]


def test_alert_noise(data: Data) -> None:
    report = selectors.noise_report(data.world.alice, scope(data.world.alice))
    t = report.totals
    # Prometheus: cpu, mem, cpu, latency + 4 × flap = 8; Grafana: disk + 3 × slow + maint = 5 → 13 alerts
    assert t.alerts == 13
    # the first cpu alert was seen 5 times: 13 + 4 = 17 triggers; maint was suppressed
    assert (t.triggers, t.suppressed) == (17, 1)
    # cpu, mem, cpu, disk, latency on I1, I1, I2, I4, I5: 5 alerts on 4 incidents = 1.25 per incident
    assert (t.on_incidents, t.incidents, t.alerts_per_incident) == (5, 4, 1.25)
    # resolved before anyone acknowledged them or their incident: 4 × flap, 3 × slow, maint = 8 of 13 = 61.5 %.
    # mem was never acknowledged itself, but I1 was acknowledged (10:05) before it resolved (11:00); latency
    # resolved with I5, which was acted on when resolved.
    assert (t.unacted, t.unacted_percent) == (8, 61.5)
    # flap: 01:00, 01:20, 01:50 within an hour → one burst; slow: 10:00 … 11:01 is 61 minutes → none
    assert (t.flapping_keys, t.flapping_alerts) == (1, 1)
    assert [(r.name, r.alerts, r.share_percent, r.unacted, r.flapping_keys) for r in report.integrations] == [
        ("Prometheus", 8, 61.5, 4, 1),  # 8 / 13
        ("Grafana", 5, 38.5, 4, 0),  # 5 / 13
    ]
    [flap] = report.flapping
    assert (flap.integration, flap.dedup_key, flap.alerts, flap.flaps) == ("Prometheus", "flap", 4, 1)
    assert (flap.first_at, flap.last_at) == (at("03-12", "01:00"), at("03-12", "03:30"))


def test_flapping_boundary_is_one_hour(data: Data) -> None:
    """Exactly 60 minutes from the first to the third alert is flapping; 61 (the 'slow' key) is not."""
    for minutes in (0, 30, 60):
        opened = at("03-27", "10:00") + timedelta(minutes=minutes)
        alert(data.grafana, "edge", opened, resolved=opened + timedelta(minutes=1))
    summarize()
    report = selectors.noise_report(data.world.alice, scope(data.world.alice))
    assert {k.dedup_key for k in report.flapping} == {"flap", "edge"}


def test_on_call_load(data: Data) -> None:
    report = selectors.oncall_report(data.world.alice, scope(data.world.alice))
    people = {p.name: p for p in report.people}
    assert list(people) == ["Bob Responder", "Alice Admin", "Dave Observer"]  # most pages first
    bob = people["Bob Responder"]
    # Paris is UTC+1 until 03-29: Mon 11:00 in; Tue 15:00 in; Wed 23:00 out+night; Thu 06:30 out+night;
    # Sat 13:00 out (weekend), unreachable. The page of 03-01 is before the period.
    assert (bob.pages, bob.unreachable, bob.outside_hours, bob.night, bob.time_zone) == (
        5,
        1,
        3,
        2,
        "Europe/Paris",
    )
    alice = people["Alice Admin"]
    # no profile zone, so her working hours' zone judges the night. New York is UTC-4 from 03-08:
    # Tue 03-10 09:00 UTC = 05:00 (out, night); Fri 03-20 13:00 UTC = 09:00 (in)
    assert (alice.pages, alice.outside_hours, alice.night, alice.time_zone) == (2, 1, 1, "America/New_York")
    dave = people["Dave Observer"]
    # no working hours: outside hours is not known; 03:00 UTC is night in UTC
    assert (dave.pages, dave.outside_hours, dave.night, dave.time_zone) == (1, None, 1, "UTC")
    # 5 + 2 + 1 = 8 pages; outside 3 + 1 = 4; night 2 + 1 + 1 = 4
    assert (report.pages, report.unreachable, report.outside_hours, report.night) == (8, 1, 4, 4)


def test_postmortem_and_action_item_completion(data: Data) -> None:
    report = selectors.reviews_report(data.world.alice, scope(data.world.alice), today=NOW.date())
    assert report.priorities == [1, 2]
    pm = {r.key: r for r in report.postmortems}
    # resolved P1/P2 of team A in the period: I1 (published), I2 (draft), I5 (none)
    assert (pm["1"].incidents, pm["1"].published, pm["1"].completion_percent) == (1, 1, 100.0)
    assert (pm["2"].incidents, pm["2"].draft, pm["2"].missing, pm["2"].completion_percent) == (2, 1, 1, 0.0)
    total = report.postmortems_total
    assert (total.incidents, total.published, total.in_review, total.draft, total.missing) == (3, 1, 0, 1, 1)
    assert total.completion_percent == 33.3  # 1 / 3
    ai = report.actions_total
    # ai1 done on time, ai2 done late (I1's postmortem); ai3 open and overdue, ai4 won't do (I2); ai5 in
    # progress (I5); ai6 hangs off the P3 incident I3 and does not count. Completion 2 / (2 + 2) = 50 %
    assert (ai.total, ai.done, ai.done_on_time, ai.open, ai.overdue, ai.wont_do) == (5, 2, 1, 2, 1, 1)
    assert ai.completion_percent == 50.0
    rows = {r.key: r for r in report.actions}
    assert (rows["1"].total, rows["1"].completion_percent) == (2, 100.0)
    assert (rows["2"].total, rows["2"].completion_percent) == (3, 0.0)


def test_a_major_incidents_published_postmortem_covers_its_children(data: Data) -> None:
    """I5 becomes a child of I1, whose published postmortem covers its children: I5 counts as published."""
    Incident.objects.filter(pk=data.incidents["I5"].pk).update(parent=data.incidents["I1"])
    Postmortem.objects.filter(incident=data.incidents["I1"]).update(covers_children=True)
    summarize()
    report = selectors.reviews_report(data.world.alice, scope(data.world.alice), today=NOW.date())
    assert (report.postmortems_total.published, report.postmortems_total.missing) == (2, 0)


def test_filters_narrow_every_figure(data: Data) -> None:
    alice = data.world.alice
    # service Search: I3 and I4
    assert selectors.response_report(alice, scope(alice, service="search")).total.incidents == 2
    # its alerts: disk, 3 × slow, maint
    assert selectors.noise_report(alice, scope(alice, service="search")).totals.alerts == 5
    # P2: I2 and I5
    assert selectors.response_report(alice, scope(alice, priority=2)).total.incidents == 2
    # pages for P2 incidents: bob on I2 and I5, alice on I5, dave on I2
    assert selectors.oncall_report(alice, scope(alice, priority=2)).pages == 4
    # the review figures follow a priority filter: P3 has I3 and I4, neither resolved
    assert (
        selectors.reviews_report(
            alice, scope(alice, priority=3), today=NOW.date()
        ).postmortems_total.incidents
        == 0
    )
    # a period of one day: 03-02 holds only I1
    one_day = filters.resolve(alice, today=NOW.date(), start=FIRST, end=FIRST)
    assert selectors.response_report(alice, one_day).total.incidents == 1


@pytest.mark.parametrize(
    ("zone", "days", "start", "end"),
    [
        ("Europe/Paris", 0b0011111, time(9), time(17)),
        ("America/New_York", 0b1111111, time(22), time(6)),  # overnight, every day
        ("Europe/London", 0b0000001, time(1, 30), time(1, 15)),  # opens inside the autumn fall-back hour
        ("Australia/Lord_Howe", 0b1010101, time(2, 0), time(2, 15)),  # a 30-minute DST shift
        ("Asia/Kolkata", 0b0111110, time(0), time(0)),  # whole days
    ],
)
def test_the_fast_working_hours_check_agrees_with_the_notification_rule(
    zone: str, days: int, start: time, end: time
) -> None:
    """The on-call report checks each page against working hours with a fast local-time test; it must say what
    the notification rule says (next_working_instant(at) == at), DST changes included: a year in 13-minute
    steps."""
    window = Window(zone=ZoneInfo(zone), days=days_from_mask(days), start=start, end=end)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    while at.year == 2026:
        assert selectors.in_working_hours(window, at) == (next_working_instant(window, at) == at), at
        at += timedelta(minutes=13)


def test_a_burst_over_midnight_flaps(data: Data) -> None:
    """Summaries are per day, but a burst that starts before midnight still counts on the day it closes."""
    for day, hhmm in (("03-14", "23:30"), ("03-14", "23:50"), ("03-15", "00:10")):
        opened = at(day, hhmm)
        alert(data.grafana, "midnight", opened, resolved=opened + timedelta(minutes=1))
    summarize()
    report = selectors.noise_report(data.world.alice, scope(data.world.alice))
    midnight = next(k for k in report.flapping if k.dedup_key == "midnight")
    assert (midnight.flaps, midnight.alerts) == (1, 1)  # closed at 00:10 on 03-15, the day's one alert of it
    assert report.totals.flapping_keys == 2  # flap and midnight
