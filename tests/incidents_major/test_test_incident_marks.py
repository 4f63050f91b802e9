"""Major-incident messages about a test incident (opened by an integration's "Send test alert") begin with
"[TEST]", in the subject and on the first line, as its pages do: the overdue-update reminder to the
Communications Lead, and the group's promote and demote notices. A real major incident's stay unmarked.

P1 incidents of team A are reminded every 30 minutes; alice and bob have a verified webhook, and the
major-incident group is olivia (nothing is sent: the tests read the outbox)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.alerts.conftest import make_integration
from tests.conftest import World
from tests.incidents_major.conftest import T0, declare, messages, run, webhook
from warroom.alerts import actions
from warroom.alerts import engine as alerts_engine
from warroom.alerts.models import IntakeEvent
from warroom.incidents import major
from warroom.incidents import services as incidents
from warroom.incidents.models import TEST_MARK, Incident, RoleType
from warroom.lib import clock

pytestmark = pytest.mark.django_db


def drill_incident(world: World) -> Incident:
    """The test incident a critical test alert from bob opens at T0 (P1, team A), through the alerts engine."""
    integration = make_integration(world, "pagerduty", name="Datadog prod").integration
    with clock.frozen(T0):
        event = actions.send_test_alert(integration=integration, actor=world.bob, source="test")
        alerts_engine.process(T0)
    event = IntakeEvent.objects.select_related("alert__incident").get(pk=event.pk)
    assert event.alert is not None and event.alert.incident is not None
    incident = event.alert.incident
    assert incident.is_test and incident.priority == 1
    return incident


def make_major_with_comms_lead(world: World, incident: Incident) -> Incident:
    with clock.frozen(T0):
        incident = major.promote_to_major(incident=incident, actor=world.alice, source="test")
        incidents.assign_role(
            incident=incident,
            role_type=RoleType.objects.get(slug="communications-lead"),
            user=world.bob,
            actor=None,
            source="test",
        )
    return incident


@pytest.fixture
def people(world: World) -> World:
    for person in (world.alice, world.bob, world.olivia):
        webhook(person)
    major.configure(actor=None, source="test", group_users=[world.olivia])
    return world


def test_the_overdue_update_reminder_of_a_test_incident_says_test_first(people: World) -> None:
    incident = make_major_with_comms_lead(people, drill_incident(people))
    assert run(T0 + timedelta(minutes=30)) == 1

    (reminder,) = messages(f"major-update:{incident.pk}:")
    assert reminder.user_id == people.bob.pk
    assert reminder.subject.startswith(f"{TEST_MARK}{incident.ref} update overdue (30 min since the last")
    assert reminder.body.splitlines()[0].startswith(f"{TEST_MARK}{incident.ref} {incident.title} is a major")


def test_the_group_s_promote_and_demote_notices_of_a_test_incident_say_test_first(people: World) -> None:
    incident = make_major_with_comms_lead(people, drill_incident(people))
    with clock.frozen(T0 + timedelta(minutes=5)):
        major.demote(incident=incident, actor=people.alice, source="test")

    notices = messages(f"major:{incident.pk}:", people.olivia)
    assert [m.subject for m in notices] == [
        f"[TEST] {incident.ref} is now a MAJOR incident: {incident.title}",
        f"[TEST] {incident.ref} is no longer a major incident: {incident.title}",
    ]
    assert [m.body.splitlines()[0][: len(TEST_MARK) + len(incident.ref)] for m in notices] == [
        f"{TEST_MARK}{incident.ref}"
    ] * 2


def test_a_real_major_incident_s_messages_are_not_marked(people: World) -> None:
    incident = make_major_with_comms_lead(people, declare(people))
    assert not incident.is_test
    assert run(T0 + timedelta(minutes=30)) == 1

    sent = messages(f"major-update:{incident.pk}:") + messages(f"major:{incident.pk}:")
    assert len(sent) == 2
    assert all(m.subject.startswith(incident.ref) and m.body.startswith(incident.ref) for m in sent)
