"""The engine module ``incidents.sla`` announces each warning and the breach once: one timeline line, one audit
row and one notification per person (the assignee and the assignment group) — also when it runs twice, after a
crash before commit, across holds and across a reopen.

A P3 definition around the clock: response 10 minutes, resolution 100 minutes (so the 50/75/90 % warnings fall
at 50, 75 and 90 minutes), an incident opened at T0 and assigned to bob. Alice and bob have a verified webhook;
dave (observer in team A) has no contact method.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import World
from tests.incidents_sla.conftest import (
    at,
    clocks,
    declare,
    define,
    move,
    run,
    sla_lines,
    sla_messages,
    sla_values,
    webhook,
)
from warroom.audit.models import AuditEvent
from warroom.engine import registry
from warroom.engine.loop import run_cycle
from warroom.incidents import sla_services
from warroom.incidents.models import Incident, SlaClock
from warroom.notify.models import Status

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


@pytest.fixture
def incident(world: World) -> Incident:
    define(priority=3, response_minutes=10, resolution_minutes=100)
    webhook(world.alice)
    webhook(world.bob)
    return declare(world, T0, assignee=world.bob)


def test_each_warning_and_the_breach_fire_once(world: World, incident: Incident) -> None:
    steps = [4, 5, 5, 7, 8, 9, 9.5, 10, 10, 11, 30]
    for minutes in steps:
        run(T0 + minutes * MIN)
        run(T0 + minutes * MIN)  # twice: nothing more
    assert sla_values(incident, "response") == ["50%", "75%", "90%", "breached"]
    lines = sla_lines(incident, "response")
    assert lines[0] == (
        "Response SLA at 50%: 5m of 10m used, 5m left, due Mon 02 Mar 09:10 UTC. Notified Alice Admin, "
        "Bob Responder. Not reachable: Dave Observer."
    )
    assert lines[3] == (
        "Response SLA breached: 10m of 10m used; it was due Mon 02 Mar 09:10 UTC. Notified Alice Admin, "
        "Bob Responder. Not reachable: Dave Observer."
    )
    response = clocks(incident)["response"]
    assert (response.warnings_sent, response.breached_at, response.next_check_at) == (
        [50, 75, 90],
        T0 + 10 * MIN,
        None,
    )
    assert response.state == "running"  # still not acknowledged: it keeps counting, breached
    # The resolution clock passed 25 %: nothing yet.
    assert sla_values(incident, "resolution") == []
    # Two people reachable × four events; each a webhook row, keyed so a redo inserts nothing.
    messages = sla_messages()
    assert len(messages) == 8
    assert sorted({m.user.email for m in messages}) == ["alice@example.com", "bob@example.com"]
    assert [m.urgency for m in messages if m.user_id == world.bob.pk] == ["low", "low", "low", "high"]
    assert messages[-1].subject == f"{incident.ref} Response SLA breached: Checkout returns 500"
    assert messages[-1].context["event"] == "breach"
    assert messages[-1].context["url"].endswith(f"/incidents/{incident.ref}/")
    assert AuditEvent.objects.filter(action="incident.sla.warning").count() == 3
    assert AuditEvent.objects.filter(action="incident.sla.breach").count() == 1


def test_an_engine_that_was_down_sends_only_the_most_advanced_event(incident: Incident) -> None:
    run(T0 + 95 * MIN)
    assert sla_values(incident, "response") == ["breached"]
    assert sla_values(incident, "resolution") == ["90%"]
    assert clocks(incident)["resolution"].warnings_sent == [50, 75, 90]
    run(T0 + 200 * MIN)
    assert sla_values(incident, "resolution") == ["90%", "breached"]
    assert clocks(incident)["resolution"].breached_at == T0 + 100 * MIN
    assert len(sla_messages()) == 2 * 3


def test_acknowledging_stops_the_response_clock_and_withdraws_its_pending_pages(
    world: World, incident: Incident
) -> None:
    webhook(world.bob, "slow")  # a second rule…
    rule = world.bob.notification_rules.get(contact_method__name="slow", urgency="low")
    rule.delay_minutes = 30  # …that would go out half an hour later
    rule.save()
    run(T0 + 5 * MIN)
    later = [m for m in sla_messages(world.bob) if m.contact_method.name == "slow"]
    assert [m.status for m in later] == [Status.PENDING]
    move(incident, T0 + 6 * MIN, "in_progress", actor=world.bob)
    later[0].refresh_from_db()
    assert later[0].status == Status.CANCELLED
    run(T0 + 60 * MIN)
    assert sla_values(incident, "response") == ["50%", "met"]
    assert sla_values(incident, "resolution") == ["50%"]


def test_paused_clocks_stay_silent_and_resume_where_they_were(world: World, incident: Incident) -> None:
    incident = move(incident, T0 + 5 * MIN, "in_progress")
    incident = move(incident, T0 + 40 * MIN, "on_hold", hold_reason="awaiting_vendor")
    for minutes in (60, 100, 150):
        run(T0 + minutes * MIN)
    assert sla_values(incident, "resolution") == []
    incident = move(incident, T0 + 200 * MIN, "in_progress")  # 40 used, 60 left
    resolution = clocks(incident)["resolution"]
    assert resolution.due_at == T0 + 260 * MIN
    assert resolution.next_check_at == T0 + 210 * MIN  # the 50 % mark
    for minutes in (209, 210, 211, 235, 250, 259, 260, 261):
        run(T0 + minutes * MIN)
    assert sla_values(incident, "resolution") == ["50%", "75%", "90%", "breached"]
    assert clocks(incident)["resolution"].breached_at == T0 + 260 * MIN
    # Breached while On Hold a second time: nothing more.
    incident = move(incident, T0 + 270 * MIN, "on_hold", hold_reason="awaiting_vendor")
    incident = move(incident, T0 + 280 * MIN, "in_progress")
    run(T0 + 400 * MIN)
    assert sla_values(incident, "resolution") == ["50%", "75%", "90%", "breached"]


def test_reopening_never_repeats_an_announcement(world: World, incident: Incident) -> None:
    incident = move(incident, T0 + 2 * MIN, "in_progress")
    run(T0 + 60 * MIN)
    incident = move(incident, T0 + 70 * MIN, "resolved")  # 70 used: met
    assert sla_values(incident, "resolution") == ["50%", "met"]
    incident = move(incident, T0 + 300 * MIN, "in_progress")
    run(T0 + 300 * MIN)
    assert sla_values(incident, "resolution") == ["50%", "met", "resumed"]
    run(T0 + 306 * MIN)  # 76 used
    run(T0 + 331 * MIN)  # 101 used
    incident = move(incident, T0 + 335 * MIN, "resolved")
    incident = move(incident, T0 + 400 * MIN, "in_progress")
    run(T0 + 500 * MIN)
    assert sla_values(incident, "resolution") == [
        "50%",
        "met",
        "resumed",
        "75%",
        "breached",
        "breached",
        "resumed",
    ]
    assert AuditEvent.objects.filter(action="incident.sla.breach", after__kind="resolution").count() == 1
    assert SlaClock.objects.filter(incident=incident, kind="resolution").count() == 1


def test_a_crash_before_commit_is_redone_once(monkeypatch: pytest.MonkeyPatch, incident: Incident) -> None:
    calls: list[str] = []
    real = sla_services._announce

    def crash_once(row: SlaClock, **kwargs: Any) -> None:
        real(row, **kwargs)  # the timeline line and outbox rows are written…
        if not calls:
            calls.append("crashed")
            raise RuntimeError("engine killed")  # …and rolled back with the clock's new state

    monkeypatch.setattr(sla_services, "_announce", crash_once)
    with pytest.raises(RuntimeError):
        run(T0 + 5 * MIN)
    assert sla_values(incident, "response") == []
    assert sla_messages() == []
    assert clocks(incident)["response"].warnings_sent == []
    run(T0 + 5 * MIN)  # the next cycle (or another engine after a restart) does it
    run(T0 + 5 * MIN)
    assert sla_values(incident, "response") == ["50%"]
    assert len(sla_messages()) == 2


def test_the_module_is_registered_and_runs_in_the_cycle(world: World) -> None:
    define(priority=3, response_minutes=10)
    incident = declare(world, T0)
    registry.discover()
    assert "incidents.sla" in [m.name for m in registry.modules()]
    names = [m.name for m in registry.modules()]
    if "notify.send" in names:
        assert names.index("incidents.sla") < names.index("notify.send")
    with at(T0 + 11 * MIN):
        report = run_cycle()
    assert "incidents.sla" in report.ran, report.failed
    assert sla_values(incident, "response") == ["breached"]
