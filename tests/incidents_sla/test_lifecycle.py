"""Clocks follow the incident: they start at declaration, pause On Hold for the definition's hold reasons,
stop at acknowledgement and resolution, resume on reopen, are cancelled with the incident, and are re-picked
(with the business time used carried over) when priority, team or services change.

Unless said otherwise: a London office calendar (09:00–17:00 Monday to Friday), a P3 definition with a 30-minute
response and a 4-hour resolution target, and an incident opened Monday 9 March 2026 at 09:00 (GMT = UTC).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.conftest import World
from tests.incidents_sla.conftest import (
    LONDON,
    at,
    clocks,
    declare,
    define,
    move,
    office_calendar,
    sla_lines,
    sla_values,
    update,
)
from warroom.catalog import services as catalog
from warroom.incidents import sla_services
from warroom.incidents.models import BusinessCalendar, SlaClock, SlaDefinition

pytestmark = pytest.mark.django_db

MON = datetime(2026, 3, 9, 9, 0, tzinfo=LONDON)
H = timedelta(hours=1)
MIN = timedelta(minutes=1)


@pytest.fixture
def office() -> BusinessCalendar:
    return office_calendar()


@pytest.fixture
def p3(office: BusinessCalendar) -> SlaDefinition:
    return define(priority=3, response_minutes=30, resolution_minutes=240, calendar=office)


def test_declaring_starts_both_clocks_with_their_due_times(world: World, p3: SlaDefinition) -> None:
    incident = declare(world, MON)
    response, resolution = clocks(incident)["response"], clocks(incident)["resolution"]
    assert (response.state, response.started_at, response.running_since) == ("running", MON, MON)
    assert response.due_at == MON + 30 * MIN
    assert response.next_check_at == MON + 15 * MIN  # the 50 % warning
    assert resolution.due_at == MON + 4 * H
    assert resolution.next_check_at == MON + 2 * H
    assert (resolution.target, resolution.priority, resolution.name) == (4 * H, 3, "P3 SLA")
    assert resolution.thresholds == [50, 75, 90] and resolution.warnings_sent == []
    assert sla_lines(incident) == [
        "SLA 'P3 SLA', London office: respond within 30m (due Mon 09 Mar 09:30 GMT); "
        "resolve within 4h (due Mon 09 Mar 13:00 GMT)."
    ]


def test_a_backdated_incident_starts_its_clocks_when_it_opened(world: World, p3: SlaDefinition) -> None:
    with at(MON + 5 * H):
        incident = declare(world, MON + 5 * H, opened_at=MON)
    assert clocks(incident)["resolution"].started_at == MON


def test_no_definition_no_clocks(world: World, office: BusinessCalendar) -> None:
    define(priority=1, resolution_minutes=60)
    incident = declare(world, MON)  # P3
    assert clocks(incident) == {}
    assert sla_lines(incident) == []


def test_the_most_specific_definition_wins(world: World) -> None:
    define(priority=3, name="Everyone", resolution_minutes=480)
    define(priority=3, name="Team A", team=world.team_a, resolution_minutes=240)
    define(priority=3, name="Checkout", service=world.service_a, resolution_minutes=120)
    payments = catalog.create_service(team=world.team_a, name="Payments", tier=1, actor=None, source="system")
    define(priority=3, name="Payments", service=payments, resolution_minutes=60)
    assert clocks(declare(world, MON))["resolution"].name == "Checkout"
    assert clocks(declare(world, MON, services=[]))["resolution"].name == "Team A"
    other = declare(world, MON, team=world.team_b, services=[world.service_b], actor=world.charlie)
    assert clocks(other)["resolution"].name == "Everyone"
    # Two services with their own definitions: the strictest.
    assert clocks(declare(world, MON, services=[world.service_a, payments]))["resolution"].name == "Payments"
    # An inactive definition does not apply.
    sla_services.update_definition(
        definition=SlaDefinition.objects.get(name="Payments"), actor=None, source="test", is_active=False
    )
    assert clocks(declare(world, MON, services=[world.service_a, payments]))["resolution"].name == "Checkout"


def test_on_hold_pauses_only_for_the_named_reasons(world: World, office: BusinessCalendar) -> None:
    define(
        priority=3, response_minutes=30, resolution_minutes=240, calendar=office, pause_on=["awaiting_vendor"]
    )
    incident = declare(world, MON)
    incident = move(incident, MON + 20 * MIN, "in_progress")
    assert clocks(incident)["response"].state == "met"
    assert clocks(incident)["response"].elapsed == 20 * MIN
    incident = move(incident, MON + H, "on_hold", hold_reason="awaiting_vendor")
    resolution = clocks(incident)["resolution"]
    assert (resolution.state, resolution.elapsed, resolution.paused_since) == ("paused", H, MON + H)
    assert resolution.due_at is None and resolution.next_check_at is None
    incident = move(incident, MON + 5 * H, "in_progress")  # 14:00: four paused hours never count
    resolution = clocks(incident)["resolution"]
    assert (resolution.state, resolution.elapsed, resolution.running_since) == ("running", H, MON + 5 * H)
    assert resolution.due_at == MON + 8 * H  # 14:00 + the 3 h left = 17:00
    incident = move(incident, MON + 7 * H, "resolved")
    resolution = clocks(incident)["resolution"]
    assert (resolution.state, resolution.elapsed, resolution.stop_reason) == ("met", 3 * H, "resolved")
    assert sla_values(incident, "resolution") == ["met"]

    other = declare(world, MON)
    other = move(other, MON + 10 * MIN, "on_hold", hold_reason="awaiting_caller")
    assert clocks(other)["resolution"].state == "running"
    assert clocks(other)["response"].state == "met"  # going on hold acknowledges


def test_resolution_stops_and_reopening_resumes_without_the_resolved_time(
    world: World, p3: SlaDefinition
) -> None:
    incident = declare(world, MON)
    incident = move(incident, MON + 10 * MIN, "in_progress")
    incident = move(incident, MON + 2 * H, "resolved")
    resolution = clocks(incident)["resolution"]
    assert (resolution.state, resolution.elapsed, resolution.stopped_at) == ("met", 2 * H, MON + 2 * H)
    tuesday = MON + 24 * H
    incident = move(incident, tuesday, "in_progress")  # reopen: Tuesday 09:00
    resolution = clocks(incident)["resolution"]
    assert (resolution.state, resolution.elapsed, resolution.running_since) == ("running", 2 * H, tuesday)
    assert resolution.due_at == tuesday + 2 * H
    assert resolution.stopped_at is None and resolution.stop_reason == ""
    assert sla_lines(incident, "resolution")[-1] == (
        "Resolution SLA resumes (reopened): 2h used, 2h left, due Tue 10 Mar 11:00 GMT."
    )
    assert clocks(incident)["response"].state == "met"  # untouched
    incident = move(incident, tuesday + H, "resolved")
    assert (clocks(incident)["resolution"].state, clocks(incident)["resolution"].elapsed) == ("met", 3 * H)
    assert SlaClock.objects.filter(incident=incident).count() == 2


def test_cancelling_cancels_live_clocks_and_keeps_stopped_ones(world: World, p3: SlaDefinition) -> None:
    incident = declare(world, MON)
    incident = move(incident, MON + 10 * MIN, "in_progress")
    incident = move(incident, MON + H, "canceled")
    everything = {c.kind: c for c in SlaClock.objects.filter(incident=incident)}
    assert everything["response"].state == "met"
    assert (everything["resolution"].state, everything["resolution"].elapsed) == ("cancelled", H)
    assert everything["resolution"].stop_reason == "incident cancelled"


def test_acknowledging_late_records_the_breach_once(world: World, p3: SlaDefinition) -> None:
    """The engine never ran: the breach is recorded at acknowledgement, dated when it was due."""
    incident = declare(world, MON)
    incident = move(incident, MON + 45 * MIN, "in_progress")
    response = clocks(incident)["response"]
    assert (response.state, response.elapsed, response.breached_at) == ("breached", 45 * MIN, MON + 30 * MIN)
    assert sla_lines(incident, "response") == [
        "Response SLA breached (acknowledged): 45m of 30m used; it was due Mon 09 Mar 09:30 GMT."
    ]


def test_resolved_by_its_alerts_before_anyone_responded_is_not_a_response_met(
    world: World, p3: SlaDefinition
) -> None:
    """The system resolving a New incident (its alerts resolved) is no acknowledgement: the incident stays never
    acknowledged (MTTA leaves it out) and its response clock counts neither as met nor, in time, as breached."""
    quick = move(declare(world, MON), MON + 10 * MIN, "resolved")
    assert quick.acknowledged_at is None
    response = clocks(quick, cancelled=True)
    (row,) = [c for c in response.values() if c.kind == "response"]
    assert (row.state, row.stop_reason) == ("cancelled", "resolved before anyone acknowledged")
    assert clocks(quick)["resolution"].state == "met"

    late = move(declare(world, MON), MON + 45 * MIN, "resolved")
    assert late.acknowledged_at is None
    assert clocks(late)["response"].state == "breached", "a breach that happened stands"

    by_hand = move(declare(world, MON), MON + 10 * MIN, "resolved", actor=world.alice)
    assert by_hand.acknowledged_at == MON + 10 * MIN, "a person resolving is a response"
    assert clocks(by_hand)["response"].state == "met"


def test_reaching_the_target_exactly_is_a_breach(world: World, p3: SlaDefinition) -> None:
    incident = declare(world, MON)
    incident = move(incident, MON + 30 * MIN, "in_progress")
    assert clocks(incident)["response"].state == "breached"


def test_a_priority_change_repicks_and_carries_the_used_time_over(
    world: World, office: BusinessCalendar
) -> None:
    define(priority=3, response_minutes=30, resolution_minutes=480, calendar=office)
    define(priority=1, response_minutes=15, resolution_minutes=240)  # around the clock
    incident = declare(world, MON)
    incident = move(incident, MON + 10 * MIN, "in_progress")
    incident = update(incident, MON + 3 * H, impact=1, urgency=1)  # 12:00, 3 h used → P1
    assert incident.priority == 1
    everything = list(SlaClock.objects.filter(incident=incident).order_by("pk"))
    assert [(c.kind, c.state) for c in everything] == [
        ("response", "met"),
        ("resolution", "cancelled"),
        ("resolution", "running"),
    ]
    old, new = everything[1], everything[2]
    assert (old.elapsed, old.stop_reason) == (3 * H, "replaced by 'P1 SLA'")
    assert (new.name, new.priority, new.target, new.calendar) == ("P1 SLA", 1, 4 * H, None)
    assert (new.elapsed, new.started_at, new.running_since) == (3 * H, MON + 3 * H, MON + 3 * H)
    assert new.due_at == MON + 4 * H  # 24×7: the hour left from 12:00
    assert new.warnings_sent == [50, 75]  # already crossed when it took over: not announced
    assert new.next_check_at == MON + 3 * H + 36 * MIN  # 90 % of 4 h is 3 h 36 m
    assert sla_lines(incident, "resolution")[-1] == (
        "Resolution SLA now 'P1 SLA', 24×7, 4h (was 'P3 SLA', London office, 8h): 3h used carries over, 1h left."
    )
    # A change that keeps the definition leaves the clock alone.
    incident = update(incident, MON + 3 * H + 5 * MIN, title="Checkout down")
    assert SlaClock.objects.filter(incident=incident).count() == 3


def test_a_repick_past_the_new_target_is_due_at_once(world: World, office: BusinessCalendar) -> None:
    define(priority=3, resolution_minutes=480, calendar=office)
    define(priority=1, resolution_minutes=240, calendar=office)
    incident = declare(world, MON)
    incident = update(incident, MON + 5 * H, impact=1, urgency=1)
    new = clocks(incident)["resolution"]
    assert (new.elapsed, new.due_at, new.next_check_at, new.breached_at) == (
        5 * H,
        MON + 5 * H,
        MON + 5 * H,
        None,
    )
    assert new.warnings_sent == [50, 75, 90]
    assert "already 1h past the target" in sla_lines(incident, "resolution")[-1]


def test_no_definition_after_the_change_stops_the_clock(world: World, p3: SlaDefinition) -> None:
    incident = declare(world, MON)
    incident = update(incident, MON + H, impact=3, urgency=3)  # P5: no definition
    assert clocks(incident) == {}
    assert SlaClock.objects.filter(incident=incident, state="cancelled").count() == 2
    assert sla_lines(incident, "resolution")[-1] == (
        "Resolution SLA stopped: no definition applies any more ('P3 SLA', London office, 4h)."
    )


def test_a_definition_that_applies_after_a_change_starts_from_the_change(
    world: World, office: BusinessCalendar
) -> None:
    define(priority=1, response_minutes=15, resolution_minutes=60)
    incident = declare(world, MON)  # P3: none applies
    assert clocks(incident) == {}
    incident = update(incident, MON + H, impact=1, urgency=1)
    started = clocks(incident)
    assert {k: (c.started_at, c.elapsed) for k, c in started.items()} == {
        "response": (MON + H, timedelta(0)),
        "resolution": (MON + H, timedelta(0)),
    }


def test_moving_to_another_team_or_service_repicks(world: World, p3: SlaDefinition) -> None:
    define(priority=3, name="Team B", team=world.team_b, resolution_minutes=60)
    incident = declare(world, MON, services=[])
    incident = move(incident, MON + 5 * MIN, "in_progress")
    incident = update(incident, MON + 10 * MIN, team=world.team_b)
    assert clocks(incident)["resolution"].name == "Team B"
    assert clocks(incident)["resolution"].elapsed == 10 * MIN


def test_editing_a_calendar_applies_from_the_edit(world: World, office: BusinessCalendar) -> None:
    define(priority=3, resolution_minutes=480, calendar=office)
    incident = declare(world, MON)
    assert clocks(incident)["resolution"].due_at == MON + 8 * H
    with at(MON + 2 * H):  # 11:00, 2 h used
        sla_services.update_calendar(
            calendar=office,
            actor=None,
            source="test",
            working_hours={d: [["10:00", "12:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
        )
    resolution = clocks(incident)["resolution"]
    assert (resolution.elapsed, resolution.running_since) == (2 * H, MON + 2 * H)
    # 6 h left at 2 h a day: Mon 11-12, Tue, Wed, Thu 10-11 → Thursday 11:00.
    assert resolution.due_at == datetime(2026, 3, 12, 11, 0, tzinfo=LONDON)


def test_editing_a_definition_leaves_running_clocks_alone(world: World, p3: SlaDefinition) -> None:
    incident = declare(world, MON)
    sla_services.update_definition(definition=p3, actor=None, source="test", resolution_minutes=60)
    assert clocks(incident)["resolution"].target == 4 * H
    assert clocks(declare(world, MON))["resolution"].target == H
    sla_services.delete_definition(definition=p3, actor=None, source="test")
    survivor = clocks(incident)["resolution"]
    assert (survivor.definition, survivor.state) == (None, "running")
