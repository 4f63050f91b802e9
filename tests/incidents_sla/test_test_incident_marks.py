"""SLA warnings and breach notices about a test incident (opened by an integration's "Send test alert") begin
with "[TEST]", in the subject and on the first line, as its pages do, so nobody takes a drill for a real breach.
A real incident's notices stay unmarked.

A P1 definition around the clock (response 10 minutes, warnings at 50/75/90 %); alice and bob have a verified
webhook (nothing is sent: the tests read the outbox)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.alerts.conftest import make_integration
from tests.conftest import World
from tests.incidents_sla.conftest import declare, define, run, sla_messages, webhook
from warroom.alerts import actions
from warroom.alerts import engine as alerts_engine
from warroom.alerts.models import IntakeEvent
from warroom.incidents.models import TEST_MARK, Incident
from warroom.lib import clock

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def drill_incident(world: World, when: datetime) -> Incident:
    """The test incident a critical test alert from bob opens at ``when`` (P1, team A), through the alerts engine."""
    integration = make_integration(world, "pagerduty", name="Datadog prod").integration
    with clock.frozen(when):
        event = actions.send_test_alert(integration=integration, actor=world.bob, source="test")
        alerts_engine.process(when)
    event = IntakeEvent.objects.select_related("alert__incident").get(pk=event.pk)
    assert event.alert is not None and event.alert.incident is not None
    incident = event.alert.incident
    assert incident.is_test and incident.priority == 1
    return incident


@pytest.fixture
def people(world: World) -> World:
    define(priority=1, response_minutes=10, resolution_minutes=100)
    webhook(world.alice)
    webhook(world.bob)
    return world


def test_warnings_and_the_breach_of_a_test_incident_say_test_first(people: World) -> None:
    incident = drill_incident(people, T0)
    run(T0 + 5 * MIN)  # 50 %
    run(T0 + 10 * MIN)  # breached

    messages = sla_messages(people.bob)
    assert [m.subject for m in messages] == [
        f"[TEST] {incident.ref} Response SLA at 50%: {incident.title}",
        f"[TEST] {incident.ref} Response SLA breached: {incident.title}",
    ]
    for message in messages:
        assert message.subject.startswith(TEST_MARK)
        assert message.body.splitlines()[0].startswith(f"{TEST_MARK}Response SLA ")
    assert {m.user_id for m in sla_messages()} == {people.alice.pk, people.bob.pk}
    assert all(m.subject.startswith(TEST_MARK) for m in sla_messages())


def test_a_real_incident_s_notices_are_not_marked(people: World) -> None:
    incident = declare(people, T0, impact=1, urgency=1)
    assert not incident.is_test
    run(T0 + 10 * MIN)

    (breach,) = sla_messages(people.bob)
    assert breach.subject == f"{incident.ref} Response SLA breached: {incident.title}"
    assert breach.body.startswith(f"Response SLA breached on {incident.ref} ")
    assert "[TEST]" not in breach.subject + breach.body
