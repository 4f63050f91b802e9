"""SLA compliance on a small hand-built data set, with the answers worked out by hand.

Definitions (around the clock): P1 respond 15 m / resolve 60 m; P3 respond 30 m / resolve 240 m; P3 on service
Payments: resolve 120 m only. The report covers March 2026 and is read on 5 March at 12:00 UTC.

=====  ======  ===================  ====  ===========================================  ==========  ===========
inc    team    services             prio  what happened                                response    resolution
=====  ======  ===================  ====  ===========================================  ==========  ===========
I1     A       Checkout             P1    2 Mar 10:00, ack 10:10, resolved 10:50        met         met
I2     A       Checkout             P1    3 Mar 10:00, ack 10:20, resolved 11:30        breached    breached
I3     A       Payments             P3*   4 Mar 09:00, resolved 10:00                   —           met
I4     B       Billing              P3    5 Mar 09:00, ack 09:10, open (3 h of 4 h)      met         in progress
I5     B       Billing              P3    5 Mar 06:00, nothing yet (live, past due)     breached    breached
I6     A       —                    P3    5 Mar 11:00, cancelled 11:30                  (not counted: cancelled)
I7     A       Checkout             P1    27 Feb 10:00 (before the period)              (not counted)
I8     A       Checkout + Payments  P3*   4 Mar 12:00, resolved 15:00 (3 h of 2 h)       —           breached
I9     A       —                    P3    5 Mar 10:00, ack 10:05, resolved 11:00        met         met
=====  ======  ===================  ====  ===========================================  ==========  ===========
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import World
from tests.incidents_sla.conftest import declare, define, move
from warroom.accounts.models import User
from warroom.catalog import services as catalog
from warroom.incidents import sla_selectors
from warroom.incidents.sla_selectors import ComplianceReport, ReportRow

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2026, 4, 1, tzinfo=UTC)
NOW = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)


def t(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def data(world: World) -> None:
    payments = catalog.create_service(team=world.team_a, name="Payments", tier=1, actor=None, source="system")
    define(priority=1, response_minutes=15, resolution_minutes=60)
    define(priority=3, response_minutes=30, resolution_minutes=240)
    define(priority=3, name="Payments P3", service=payments, resolution_minutes=120)
    p1: dict[str, Any] = {"impact": 1, "urgency": 1}
    b: dict[str, Any] = {"team": world.team_b, "services": [world.service_b], "actor": world.charlie}

    i1 = declare(world, t(2, 10), **p1)
    i1 = move(i1, t(2, 10, 10), "in_progress")
    move(i1, t(2, 10, 50), "resolved")
    i2 = declare(world, t(3, 10), **p1)
    i2 = move(i2, t(3, 10, 20), "in_progress")
    move(i2, t(3, 11, 30), "resolved")
    i3 = declare(world, t(4, 9), services=[payments])
    move(i3, t(4, 10), "resolved")
    i4 = declare(world, t(5, 9), **b)
    move(i4, t(5, 9, 10), "in_progress")
    declare(world, t(5, 6), **b)
    i6 = declare(world, t(5, 11), services=[])
    move(i6, t(5, 11, 30), "canceled")
    declare(world, datetime(2026, 2, 27, 10, tzinfo=UTC), **p1)
    i8 = declare(world, t(4, 12), services=[world.service_a, payments])
    move(i8, t(4, 15), "resolved")
    i9 = declare(world, t(5, 10), services=[])
    i9 = move(i9, t(5, 10, 5), "in_progress")
    move(i9, t(5, 11), "resolved")


def report_for(user: User) -> ComplianceReport:
    return sla_selectors.compliance_report(user, start=START, end=END, at=NOW)


def cells(row: ReportRow) -> tuple[tuple[int, int, int, float | None], tuple[int, int, int, float | None]]:
    r, s = row.response, row.resolution
    return (r.met, r.breached, r.in_progress, r.compliance), (s.met, s.breached, s.in_progress, s.compliance)


def table(rows: list[ReportRow]) -> dict[str, Any]:
    return {row.label: cells(row) for row in rows}


def test_compliance_by_priority_team_and_service(world: World, data: None) -> None:
    report = report_for(world.olivia)
    assert cells(report.total) == ((3, 2, 0, 60.0), (3, 3, 1, 50.0))
    assert table(report.by_priority) == {
        "1 - Critical": ((1, 1, 0, 50.0), (1, 1, 0, 50.0)),
        "3 - Moderate": ((2, 1, 0, 66.7), (2, 2, 1, 50.0)),
    }
    assert table(report.by_team) == {
        "Team A": ((2, 1, 0, 66.7), (3, 2, 0, 60.0)),
        "Team B": ((1, 1, 0, 50.0), (0, 1, 1, 0.0)),
    }
    assert table(report.by_service) == {
        "Billing": ((1, 1, 0, 50.0), (0, 1, 1, 0.0)),
        "Checkout": ((1, 1, 0, 50.0), (1, 2, 0, 33.3)),
        "Payments": ((0, 0, 0, None), (1, 1, 0, 50.0)),
        "(no service)": ((1, 0, 0, 100.0), (1, 0, 0, 100.0)),
    }
    assert [r.label for r in report.by_service][-1] == "(no service)"


def test_the_report_counts_only_incidents_the_user_may_see(world: World, data: None) -> None:
    report = report_for(world.charlie)
    assert cells(report.total) == ((1, 1, 0, 50.0), (0, 1, 1, 0.0))
    assert [r.label for r in report.by_team] == ["Team B"]
    assert [r.label for r in report.by_service] == ["Billing"]


def test_the_period_bounds_are_opened_at(world: World, data: None) -> None:
    report = sla_selectors.compliance_report(world.olivia, start=t(5, 0), end=t(5, 10), at=NOW)
    # I4 and I5 (09:00 and 06:00); I9 opened at 10:00 is outside [00:00, 10:00).
    assert cells(report.total) == ((1, 1, 0, 50.0), (0, 1, 1, 0.0))
    empty = sla_selectors.compliance_report(world.olivia, start=END, end=END + timedelta(days=1), at=NOW)
    assert cells(empty.total) == ((0, 0, 0, None), (0, 0, 0, None))
    assert empty.by_priority == [] and empty.by_service == []


def test_a_paused_clock_past_its_target_counts_as_breached(world: World) -> None:
    define(priority=3, resolution_minutes=60)
    incident = declare(world, t(10, 9))
    move(incident, t(10, 11), "on_hold", hold_reason="awaiting_vendor")
    report = sla_selectors.compliance_report(world.olivia, start=START, end=END, at=t(10, 12))
    assert cells(report.total)[1] == (0, 1, 0, 0.0)


def test_csv(world: World, data: None) -> None:
    text = sla_selectors.report_csv(report_for(world.olivia))
    lines = text.splitlines()
    assert lines[0] == "dimension,key,label,kind,met,breached,in_progress,compliance_percent"
    assert lines[1:3] == ["total,all,All,response,3,2,0,60.0", "total,all,All,resolution,3,3,1,50.0"]
    assert "priority,1,1 - Critical,response,1,1,0,50.0" in lines
    assert "team,team-b,Team B,resolution,0,1,1,0.0" in lines
    assert "service,payments,Payments,response,0,0,0," in lines
    assert "service,,(no service),resolution,1,0,0,100.0" in lines
    assert len(lines) == 1 + 2 * (1 + 2 + 2 + 4)
