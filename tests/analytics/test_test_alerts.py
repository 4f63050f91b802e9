"""Test alerts (sent from Warroom to check an integration) and the test incidents they open count in no report:
MTTA, MTTR, volume, reliability, SLA compliance (stopped clocks from the summaries, live ones from the clocks),
alert noise, on-call load and postmortem completion all read as if only the real alert had come."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.alerts.conftest import cycle, make_integration, pd_trigger, post
from tests.conftest import World
from warroom.alerts import actions
from warroom.alerts.models import Alert
from warroom.analytics import filters, rollup, selectors
from warroom.incidents import services as incidents
from warroom.incidents import sla_services
from warroom.incidents.models import Incident
from warroom.incidents.sla_selectors import Tally
from warroom.lib import clock
from warroom.oncall import services as oncall
from warroom.oncall.services import StepSpec, TargetSpec
from warroom.paging.models import Page

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)


def _work(incident: Incident, world: World) -> None:
    """Bob acknowledges after 5 minutes and resolves after 30."""
    with clock.frozen(T0 + timedelta(minutes=5)):
        incidents.transition_incident(incident=incident, actor=world.bob, source="test", to="in_progress")
    with clock.frozen(T0 + timedelta(minutes=30)):
        incidents.transition_incident(
            incident=Incident.objects.get(pk=incident.pk),
            actor=world.bob,
            source="test",
            to="resolved",
            resolution_code="permanent_fix",
            resolution_notes="Fixed.",
        )


def test_reports_count_only_the_real_alert_and_incident(world: World) -> None:
    sla_services.create_definition(
        actor=None, source="system", name="P1", priority=1, response_minutes=10, resolution_minutes=120
    )
    policy = oncall.create_policy(
        team=world.team_a,
        name="Primary",
        repeat=0,
        steps=[StepSpec(5, [TargetSpec("user", world.bob.pk)])],
        actor=None,
        source="system",
    )
    oncall.set_service_policy(service=world.service_a, policy=policy, actor=None, source="system")
    hooked = make_integration(world, "pagerduty")
    with clock.frozen(T0):
        assert post("/v2/enqueue", pd_trigger(hooked.key, "disk-1")).status_code == 202
        worked = actions.send_test_alert(integration=hooked.integration, actor=world.bob, source="test")
        left_open = actions.send_test_alert(integration=hooked.integration, actor=world.bob, source="test")
        cycle()
    real = Alert.objects.get(dedup_key="disk-1").incident
    worked_test = Alert.objects.get(events=worked).incident
    open_test = Alert.objects.get(events=left_open).incident
    assert real is not None and worked_test is not None and open_test is not None
    assert [i.is_test for i in (real, worked_test, open_test)] == [False, True, True]
    assert all(i.priority == 1 for i in (real, worked_test, open_test))
    assert Page.objects.filter(user=world.bob).count() == 3  # Bob was paged for each, tests included
    _work(real, world)
    _work(worked_test, world)  # the other test incident stays open: its live SLA clocks are past due by NOW

    with clock.frozen(NOW):
        rollup.rebuild_all(NOW)
    alice = world.alice
    flt = filters.resolve(alice, today=NOW.date(), start=date(2026, 3, 1), end=date(2026, 3, 31))

    response = selectors.response_report(alice, flt)
    assert (response.total.incidents, response.total.unacknowledged, response.total.unresolved) == (1, 0, 0)
    assert (response.total.mtta.count, response.total.mtta.seconds) == (1, 300.0)
    assert (response.total.mttr.count, response.total.mttr.seconds) == (1, 1800.0)
    assert selectors.volume_report(alice, flt).total == 1
    assert [s.incidents for s in selectors.reliability_report(alice, flt).services] == [1]

    sla = selectors.sla_report(alice, flt, at=NOW)
    assert sla.total.response == Tally(met=1)
    assert sla.total.resolution == Tally(met=1)

    noise = selectors.noise_report(alice, flt)
    assert (noise.totals.alerts, noise.totals.incidents) == (1, 1)
    assert [row.alerts for row in noise.integrations] == [1]

    load = selectors.oncall_report(alice, flt)
    assert load.pages == 1
    assert [(p.name, p.pages) for p in load.people] == [("Bob Responder", 1)]

    reviews = selectors.reviews_report(alice, flt, today=NOW.date())
    assert reviews.postmortems_total.incidents == 1  # the real P1; the resolved test P1 needs none

    # an organisation admin's figures (no team scope at all) leave them out too
    everything = filters.resolve(
        world.olivia, today=NOW.date(), start=date(2026, 3, 1), end=date(2026, 3, 31)
    )
    assert selectors.response_report(world.olivia, everything).total.incidents == 1
    assert selectors.sla_report(world.olivia, everything, at=NOW).total.response == Tally(met=1)
