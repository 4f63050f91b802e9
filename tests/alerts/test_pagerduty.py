"""PagerDuty Events API v2, drop-in: the same answers as PagerDuty and its dedup rules."""

from __future__ import annotations

import pytest

from tests.alerts.conftest import Hooked, cycle, make_integration, pd_follow_up, pd_trigger, post
from tests.conftest import World
from warroom.alerts.models import Alert, AlertStatus, IntakeEvent, Integration
from warroom.incidents.models import Incident, TimelineEntry

pytestmark = pytest.mark.django_db


def test_trigger_answers_like_pagerduty_and_opens_an_incident(pd: Hooked, world: World) -> None:
    response = post("/v2/enqueue", pd_trigger(pd.key, "srv01/HTTP"))
    assert response.status_code == 202
    assert response.json() == {"status": "success", "message": "Event processed", "dedup_key": "srv01/HTTP"}
    event = IntakeEvent.objects.get()
    assert (event.status, event.action, event.dedup_key) == ("pending", "trigger", "srv01/HTTP")
    assert not Alert.objects.exists()  # intake only records; the engine does the rest

    cycle()
    alert = Alert.objects.get()
    assert (alert.status, alert.severity, alert.count) == ("triggered", "critical", 1)
    assert alert.summary == "DISK at 99% on machine prod-datapipe03.example.com"
    assert alert.source == "prod-datapipe03.example.com"
    assert alert.details["custom_details"]["free space"] == "1%"
    assert alert.links == [{"href": "https://example.com/", "text": "Link text"}]
    incident = alert.incident
    assert incident is not None and alert.opened_incident
    assert incident.title == alert.summary
    assert (incident.team, incident.impact, incident.urgency) == (world.team_a, 1, 1)
    assert list(incident.services.all()) == [world.service_a]
    assert incident.reporter is None
    assert alert.group_reason == "one incident per alert"
    assert TimelineEntry.objects.filter(incident=incident, field="alert").count() == 1
    event.refresh_from_db()
    assert (event.status, event.alert) == ("processed", alert)
    assert list(alert.events.all()) == [event]


def test_trigger_without_dedup_key_gets_one(pd: Hooked) -> None:
    response = post("/v2/enqueue", pd_trigger(pd.key))
    assert response.status_code == 202
    dedup_key = response.json()["dedup_key"]
    assert len(dedup_key) == 32
    assert IntakeEvent.objects.get().dedup_key == dedup_key


def test_dedup_edge_cases(pd: Hooked) -> None:
    assert post("/v2/enqueue", pd_trigger(pd.key, "k1")).status_code == 202
    assert post("/v2/enqueue", pd_trigger(pd.key, "k1")).status_code == 202
    cycle()
    alert = Alert.objects.get()
    assert alert.count == 2
    assert Incident.objects.count() == 1

    assert post("/v2/enqueue", pd_follow_up(pd.key, "acknowledge", "k1")).status_code == 202
    cycle()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED

    assert post("/v2/enqueue", pd_follow_up(pd.key, "resolve", "k1")).status_code == 202
    cycle()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED and alert.resolved_at is not None
    first_incident = Incident.objects.get()
    assert first_incident.state == "resolved"
    assert first_incident.resolution_code == "resolved_by_caller"

    # After resolve the same key opens a new alert, and in "alert" mode a new incident.
    assert post("/v2/enqueue", pd_trigger(pd.key, "k1")).status_code == 202
    cycle()
    assert Alert.objects.count() == 2
    newest = Alert.objects.exclude(pk=alert.pk).get()
    assert (newest.status, newest.count) == ("triggered", 1)
    assert newest.incident is not None and newest.incident != first_incident
    assert Incident.objects.count() == 2


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_follow_up_for_unknown_key_is_accepted_and_logged_as_ignored(pd: Hooked, action: str) -> None:
    response = post("/v2/enqueue", pd_follow_up(pd.key, action, "never-seen"))
    assert response.status_code == 202
    assert response.json()["dedup_key"] == "never-seen"
    cycle()
    event = IntakeEvent.objects.get()
    assert event.status == "ignored"
    assert "no open alert with dedup key 'never-seen'" in event.reason
    assert not Alert.objects.exists()


def test_resolve_twice_ignores_the_second(pd: Hooked) -> None:
    post("/v2/enqueue", pd_trigger(pd.key, "k2"))
    post("/v2/enqueue", pd_follow_up(pd.key, "resolve", "k2"))
    post("/v2/enqueue", pd_follow_up(pd.key, "resolve", "k2"))
    cycle()
    statuses = list(IntakeEvent.objects.order_by("id").values_list("status", flat=True))
    assert statuses == ["processed", "processed", "ignored"]


def test_follow_ups_apply_only_through_the_same_integration(pd: Hooked, world: World) -> None:
    other = make_integration(world, "pagerduty", name="second")
    post("/v2/enqueue", pd_trigger(pd.key, "shared"))
    post("/v2/enqueue", pd_follow_up(other.key, "resolve", "shared"))
    cycle()
    assert Alert.objects.get().status == "triggered"
    assert IntakeEvent.objects.filter(integration=other.integration).get().status == "ignored"


def test_keep_auto_resolve_off(world: World) -> None:
    hooked = make_integration(world, "pagerduty", auto_resolve_incident=False)
    post("/v2/enqueue", pd_trigger(hooked.key, "k"))
    post("/v2/enqueue", pd_follow_up(hooked.key, "resolve", "k"))
    cycle()
    assert Alert.objects.get().status == "resolved"
    assert Incident.objects.get().state == "new"


def test_severity_mapping_per_integration(world: World) -> None:
    hooked = make_integration(world, "pagerduty", severity_map={"info": [2, 2]})
    post("/v2/enqueue", pd_trigger(hooked.key, "i", severity="info"))
    post("/v2/enqueue", pd_trigger(hooked.key, "w", severity="warning"))
    cycle()
    assert (
        Incident.objects.get(alerts__dedup_key="i").priority
        == Incident.objects.get(alerts__dedup_key="w").priority
    )
    assert (
        Incident.objects.get(alerts__dedup_key="w").impact,
        Incident.objects.get(alerts__dedup_key="w").urgency,
    ) == (2, 2)


def test_change_event_is_recorded_and_never_pages(pd: Hooked) -> None:
    body = {
        "routing_key": pd.key,
        "payload": {
            "summary": "Build Success: Increase snapshot create timeout to 30 seconds",
            "timestamp": "2026-03-02T09:00:00.000+0000",
            "source": "prod-build-agent-i-0b148d1040d565540",
            "custom_details": {"build_state": "passed", "build_number": "2"},
        },
        "links": [{"href": "https://acme.pagerduty.dev/build/2", "text": "View more details in Acme!"}],
    }
    response = post("/v2/change/enqueue", body)
    assert response.status_code == 202
    assert response.json() == {"status": "success", "message": "Change event processed"}
    event = IntakeEvent.objects.get()
    assert (event.action, event.status) == ("change", "processed")
    cycle()
    assert not Alert.objects.exists() and not Incident.objects.exists()


def test_an_event_that_cannot_be_applied_is_logged_and_does_not_block_the_queue(world: World) -> None:
    broken = make_integration(world, "pagerduty", name="broken")
    healthy = make_integration(world, "pagerduty", name="healthy")
    # A mapping the service would refuse, written straight to the row: declaring the incident fails.
    Integration.objects.filter(pk=broken.integration.pk).update(severity_map={"critical": [9, 9]})
    post("/v2/enqueue", pd_trigger(broken.key, "a"))
    post("/v2/enqueue", pd_trigger(healthy.key, "b"))
    cycle()
    failed = IntakeEvent.objects.get(integration=broken.integration)
    assert failed.status == "ignored"
    assert failed.reason.startswith("error while processing: ValidationFailed")
    assert not Alert.objects.filter(integration=broken.integration).exists()  # its savepoint rolled back
    assert Alert.objects.get(integration=healthy.integration).incident is not None
