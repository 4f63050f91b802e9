"""An integration's "Send test alert": the whole path (intake event → engine → test incident → page to whoever
is on call → acknowledge) without polluting the record. A test alert opens a test incident of its own, never joins
a real one and is never joined by a real alert, whatever its dedup key; the page says "[TEST]"; a test incident
is never merged with a real one and never shows on a status page."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client

from tests.alerts.conftest import Hooked, cycle, make_integration, pd_follow_up, pd_trigger, post
from tests.api.conftest import client_with_token
from tests.comms_pages.conftest import make_site, status_cycle
from tests.conftest import World
from tests.smoke_paging.conftest import h, policy, wired  # noqa: F401 (the paging harness fixtures)
from tests.smoke_paging.harness import Harness
from warroom.alerts import actions
from warroom.alerts.models import Alert, AlertStatus, EventStatus, HeartbeatMonitor, IntakeEvent, Integration
from warroom.comms import services as comms
from warroom.comms.models import Component
from warroom.incidents import services as incidents
from warroom.incidents import sla_services
from warroom.incidents.models import Incident
from warroom.incidents.sla_selectors import report_clocks
from warroom.lib import clock
from warroom.lib.errors import Conflict, PermissionDenied, ValidationFailed
from warroom.oncall.services import StepSpec, TargetSpec
from warroom.paging.models import EscalationStatus, IncidentEscalation

pytestmark = pytest.mark.django_db


def integration_url(integration: Integration, tail: str = "") -> str:
    return f"/services/{integration.service.slug}/integrations/{integration.pk}/{tail}"


def send_test(integration: Integration, world: World, **options: Any) -> IntakeEvent:
    return actions.send_test_alert(integration=integration, actor=world.bob, source="test", **options)


def applied(event: IntakeEvent) -> Alert:
    """The alert the engine made of (or added) ``event``, after a cycle."""
    event.refresh_from_db()
    assert event.status == EventStatus.PROCESSED, event.reason
    assert event.alert is not None
    return Alert.objects.select_related("incident").get(pk=event.alert_id)


def last_event(integration: Integration) -> IntakeEvent:
    return IntakeEvent.objects.filter(integration=integration).latest("id")


# ---------------------------------------------------------------------------------------------------------------
# end to end, through the console and the real channels


def test_a_test_alert_pages_whoever_is_on_call_marked_test_and_is_acknowledged_from_the_page(
    h: Harness,  # noqa: F811
    world: World,
    client_for: Any,
) -> None:
    h.ladder(world.bob, "high", ("email", 0), ("sms", 0))
    policy(world, [StepSpec(5, [TargetSpec("user", world.bob.pk)])])
    integration = make_integration(world, "pagerduty", name="Datadog prod").integration
    bob = client_for(world.bob)

    page = bob.get(integration_url(integration)).content.decode()
    assert 'id="test-alert"' in page and "Send test alert" in page
    sent = bob.post(integration_url(integration, "test-alert/"), {"severity": "critical"}, follow=True)
    assert sent.status_code == 200
    assert "Test alert sent as event" in sent.content.decode()

    event = last_event(integration)
    assert (event.is_test, event.status, event.action) == (True, EventStatus.PENDING, "trigger")
    log = bob.get(integration_url(integration, "events/")).content.decode()
    assert f'id="event-{event.pk}"' in log and 'class="badge test"' in log and event.dedup_key in log

    h.cycle()
    alert = applied(event)
    incident = alert.incident
    assert incident is not None
    assert (alert.is_test, alert.opened_incident, incident.is_test) == (True, True, True)
    assert incident.title == "Test alert from Datadog prod sent by Bob Responder"
    assert incident.priority == 1  # critical → impact 1 × urgency 1 by the default severity map

    mail = h.expect("email", world.bob, containing="[TEST]")[0]
    assert f"[TEST] {incident.ref} Test alert from Datadog prod" in mail.text
    sms = h.expect("sms", world.bob)[0]
    assert f"[TEST] {incident.ref}" in sms.text
    h.expect_nothing()

    detail = bob.get(f"/incidents/{incident.ref}/").content.decode()
    assert 'id="incident-test"' in detail
    listed = bob.get("/incidents/").content.decode()
    assert 'class="badge test"' in listed and incident.title in listed
    alert_page = bob.get(f"/alerts/{alert.pk}/").content.decode()
    assert 'id="alert-test"' in alert_page

    link = re.search(r"Acknowledge: (\S+)", mail.text)
    assert link, mail.text
    assert Client().post(urlsplit(link.group(1)).path).status_code == 200
    assert Incident.objects.get(pk=incident.pk).acknowledged_at is not None
    assert IncidentEscalation.objects.get(incident=incident).status == EscalationStatus.ACKNOWLEDGED
    assert Alert.objects.get(pk=alert.pk).status == AlertStatus.ACKNOWLEDGED
    h.advance(minutes=10)
    h.expect_nothing()


def test_the_severity_chosen_sets_the_priority_as_the_severity_map_says(world: World) -> None:
    integration = make_integration(world, "pagerduty").integration
    event = send_test(integration, world, severity="info")
    cycle()
    incident = applied(event).incident
    assert incident is not None
    assert (incident.impact, incident.urgency, incident.priority) == (3, 3, 5)


# ---------------------------------------------------------------------------------------------------------------
# never mixed with real alerts


@pytest.fixture(params=["window", "fields"])
def grouped(request: pytest.FixtureRequest, world: World) -> Hooked:
    """A PagerDuty integration that groups every alert of the service within 10 minutes, or every alert of the
    same severity: a test alert (critical) would join a real critical one under either rule, were it real."""
    if request.param == "window":
        return make_integration(world, "pagerduty", grouping="window", window_minutes=10)
    return make_integration(world, "pagerduty", grouping="fields", group_fields=["severity"])


def test_a_test_alert_never_joins_an_open_real_incident(world: World, grouped: Hooked) -> None:
    assert post("/v2/enqueue", pd_trigger(grouped.key, "disk-1")).status_code == 202
    cycle()
    real = Alert.objects.get(dedup_key="disk-1").incident
    assert real is not None and not real.is_test

    event = send_test(grouped.integration, world)
    cycle()
    test = applied(event)
    assert test.incident is not None and test.incident.pk != real.pk and test.incident.is_test
    assert test.group_reason == "a test alert: always an incident of its own"

    # the real grouping still works: a second real alert joins the real incident
    assert post("/v2/enqueue", pd_trigger(grouped.key, "disk-2")).status_code == 202
    cycle()
    assert Alert.objects.get(dedup_key="disk-2").incident_id == real.pk
    assert list(Alert.objects.filter(incident=test.incident)) == [test]


def test_a_real_alert_never_joins_a_test_incident_whatever_its_dedup_key(
    world: World, grouped: Hooked
) -> None:
    event = send_test(grouped.integration, world)
    cycle()
    test = applied(event)
    test_incident = test.incident
    assert test_incident is not None and test_incident.is_test

    # the sender resolving "the test's key" finds no alert of its own with that key: nothing happens to the test
    assert post("/v2/enqueue", pd_follow_up(grouped.key, "resolve", test.dedup_key)).status_code == 202
    cycle()
    resolve = last_event(grouped.integration)
    assert resolve.status == EventStatus.IGNORED and "no open alert" in resolve.reason
    assert Alert.objects.get(pk=test.pk).status == AlertStatus.TRIGGERED

    # a real trigger with the test's own dedup key: a real alert, in a real incident of its own
    assert post("/v2/enqueue", pd_trigger(grouped.key, test.dedup_key)).status_code == 202
    cycle()
    real = applied(last_event(grouped.integration))
    assert real.pk != test.pk and not real.is_test
    assert real.incident is not None and real.incident.pk != test_incident.pk and not real.incident.is_test
    # and another real alert joins that real incident, not the test one
    assert post("/v2/enqueue", pd_trigger(grouped.key, "cpu-1")).status_code == 202
    cycle()
    assert Alert.objects.get(dedup_key="cpu-1").incident_id == real.incident.pk
    assert list(Alert.objects.filter(incident=test_incident)) == [Alert.objects.get(pk=test.pk)]
    assert Alert.objects.get(pk=test.pk).count == 1


def test_test_and_real_events_in_one_batch_stay_apart(world: World, grouped: Hooked) -> None:
    """The engine's batch path: a real trigger, a test alert, a real trigger with the test's key and another
    real trigger, all pending together, applied in one cycle."""
    assert post("/v2/enqueue", pd_trigger(grouped.key, "disk-1")).status_code == 202
    test_event = send_test(grouped.integration, world)
    assert post("/v2/enqueue", pd_trigger(grouped.key, test_event.dedup_key)).status_code == 202
    assert post("/v2/enqueue", pd_trigger(grouped.key, "disk-2")).status_code == 202
    cycle()
    test = applied(test_event)
    first = Alert.objects.get(dedup_key="disk-1")
    same_key = Alert.objects.get(dedup_key=test.dedup_key, is_test=False)
    assert first.incident is not None and not first.incident.is_test
    assert test.incident is not None and test.incident.is_test
    # the real alerts group together (same window, or same severity); the test stays alone
    assert same_key.incident_id == first.incident_id
    assert Alert.objects.get(dedup_key="disk-2").incident_id == first.incident_id
    assert Alert.objects.filter(incident=test.incident).count() == 1
    assert Incident.objects.filter(is_test=True).count() == 1
    assert Incident.objects.filter(is_test=False).count() == 1


def test_a_test_incident_and_a_real_one_are_never_merged(world: World) -> None:
    hooked = make_integration(world, "pagerduty")
    assert post("/v2/enqueue", pd_trigger(hooked.key, "disk-1")).status_code == 202
    event = send_test(hooked.integration, world)
    cycle()
    real = Alert.objects.get(dedup_key="disk-1").incident
    test = applied(event).incident
    assert real is not None and test is not None
    for dup, into in ((test, real), (real, test)):
        with pytest.raises(Conflict, match="test incident"):
            incidents.merge_incident(incident=dup, into=into, actor=world.alice, source="test")
    assert Incident.objects.get(pk=test.pk).state == "new" and Incident.objects.get(pk=real.pk).state == "new"
    assert Alert.objects.get(dedup_key="disk-1").incident_id == real.pk


def test_heartbeat_and_email_integrations_send_test_alerts_too(world: World) -> None:
    heartbeat = make_integration(world, "heartbeat", heartbeat_interval_seconds=300).integration
    email = make_integration(world, "email").integration
    for integration in (heartbeat, email):
        event = send_test(integration, world)
        cycle()
        alert = applied(event)
        assert alert.is_test and alert.incident is not None and alert.incident.is_test
        assert alert.incident.title == f"Test alert from {integration.name} sent by Bob Responder"
    # the heartbeat itself is untouched: still waiting for its first ping
    assert HeartbeatMonitor.objects.get(integration=heartbeat).state == "new"


# ---------------------------------------------------------------------------------------------------------------
# who may send one, and bad input


def test_observers_get_403_and_other_teams_404(world: World, client_for: Any) -> None:
    integration = make_integration(world, "pagerduty").integration
    url = integration_url(integration, "test-alert/")

    observer = client_for(world.dave)
    assert 'id="test-alert"' not in observer.get(integration_url(integration)).content.decode()
    refused = observer.post(url, {"severity": "critical"})
    assert refused.status_code == 403
    assert "send test alerts" in refused.content.decode()
    with pytest.raises(PermissionDenied):
        actions.send_test_alert(integration=integration, actor=world.dave, source="test")

    assert client_for(world.charlie).post(url, {"severity": "critical"}).status_code == 404
    assert not IntakeEvent.objects.filter(integration=integration).exists()

    # a manager or admin may, as a responder may
    assert client_for(world.alice).post(url, {"severity": "critical"}).status_code == 302
    assert IntakeEvent.objects.filter(integration=integration, is_test=True).count() == 1


def test_an_unknown_integration_is_404_and_a_bad_severity_400(world: World, client_for: Any) -> None:
    integration = make_integration(world, "pagerduty").integration
    other = make_integration(world, "pagerduty", service=world.service_b).integration
    bob = client_for(world.bob)
    slug = world.service_a.slug
    assert bob.post(f"/services/{slug}/integrations/999999/test-alert/").status_code == 404
    # another team's integration, and one of another service than the URL's
    assert bob.post(f"/services/{slug}/integrations/{other.pk}/test-alert/").status_code == 404
    assert (
        bob.post(f"/services/{world.service_b.slug}/integrations/{integration.pk}/test-alert/").status_code
        == 404
    )
    assert bob.get(integration_url(integration, "test-alert/")).status_code == 405

    bad = bob.post(integration_url(integration, "test-alert/"), {"severity": "apocalyptic"})
    assert bad.status_code == 400
    assert "unknown severity" in bad.content.decode()
    with pytest.raises(ValidationFailed) as refused:
        send_test(integration, world, severity="apocalyptic")
    assert refused.value.field == "severity"
    assert not IntakeEvent.objects.exists()


# ---------------------------------------------------------------------------------------------------------------
# never on a status page


def test_a_test_incident_never_shows_on_a_status_page(world: World) -> None:
    with clock.frozen(clock.now() - timedelta(hours=1)):
        site = make_site(world)
    integration = make_integration(world, "pagerduty").integration
    event = send_test(integration, world)  # critical: a real one would be a major outage of Checkout
    cycle()
    test = applied(event).incident
    assert test is not None
    status_cycle()
    assert Component.objects.get(pk=site.checkout.pk).status == "operational"
    update = {
        "status": "investigating",
        "message": "Testing our paging, please ignore",
        "components": [site.cdn],
    }
    with pytest.raises(
        ValidationFailed, match="is a test incident: its updates are internal only"
    ) as refused:
        comms.post_update(incident=test, audience="public", actor=world.alice, source="test", **update)
    assert refused.value.field == "audience"
    with pytest.raises(ValidationFailed, match="set no component's status") as refused:
        comms.post_update(
            incident=test,
            audience="internal",
            component_status="major_outage",
            actor=world.alice,
            source="test",
            **update,
        )
    assert refused.value.field == "component_status"
    assert Component.objects.get(pk=site.cdn.pk).status == "operational"  # a manual component, untouched
    comms.post_update(incident=test, audience="internal", actor=world.alice, source="test", **update)
    status_cycle()
    assert Component.objects.get(pk=site.checkout.pk).status == "operational"
    html = Client().get(f"/status/{site.page.slug}/").content.decode()
    assert "All systems operational" in html
    assert "please ignore" not in html and test.title not in html
    summary = Client().get(f"/status/{site.page.slug}/summary.json").json()
    assert summary["incidents"] == [] and summary["status"]["indicator"] == "operational"

    # a real incident on the same service does show (the page works)
    incidents.declare_incident(
        actor=world.alice,
        source="test",
        title="Checkout down",
        team=world.team_a,
        services=[world.service_a],
        impact=1,
        urgency=1,
    )
    status_cycle()
    assert Component.objects.get(pk=site.checkout.pk).status == "major_outage"


# ---------------------------------------------------------------------------------------------------------------
# the API and the SLA report


def test_the_api_sends_a_test_alert_and_marks_what_it_made(world: World) -> None:
    hooked = make_integration(world, "webhook")
    path = f"/integrations/{hooked.integration.pk}/test-alert"
    assert client_with_token(world.dave).post(path).status_code == 403  # an observer
    assert client_with_token(world.charlie).post(path).status_code == 404  # another team's integration
    bob = client_with_token(world.bob)
    bad = bob.post(path, {"severity": "urgent"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "severity"
    assert not IntakeEvent.objects.exists()

    sent = bob.post(path, {"severity": "warning"})
    assert sent.status_code == 202, sent.content
    assert sent.json()["is_test"] is True and sent.json()["status"] == "pending"
    cycle()
    alert = bob.get("/alerts").json()["items"][0]
    assert alert["is_test"] is True and alert["summary"].startswith("Test alert from")
    incident = bob.get(f"/incidents/{alert['incident']['ref']}").json()
    assert incident["is_test"] is True
    assert bob.post(path).status_code == 202  # no body: critical


def test_the_sla_report_leaves_test_incidents_out(world: World) -> None:
    for priority in range(1, 6):
        sla_services.create_definition(
            actor=None, source="test", name=f"P{priority}", priority=priority, response_minutes=30
        )
    hooked = make_integration(world, "webhook")
    post("/integrations/webhook", {"summary": "Queue depth above 10k", "dedup_key": "q"}, key=hooked.key)
    send_test(hooked.integration, world)
    cycle()
    assert Incident.objects.filter(is_test=True).count() == 1 and Incident.objects.count() == 2
    now = clock.now()
    clocks = report_clocks(world.alice, now - timedelta(days=1), now + timedelta(minutes=1))
    assert clocks.exists()
    assert set(clocks.values_list("incident__is_test", flat=True)) == {False}
