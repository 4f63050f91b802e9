"""The generic JSON webhook, and the grouping modes: per alert, by group key, by time window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.alerts.conftest import Hooked, cycle, make_integration, pd_trigger, post
from tests.conftest import World
from warroom.alerts.models import Alert, IntakeEvent
from warroom.incidents import services as incidents
from warroom.incidents.models import Incident
from warroom.lib import clock

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_webhook_trigger_with_documented_fields(hook: Hooked) -> None:
    body = {
        "summary": "Queue depth above 10k",
        "severity": "error",
        "dedup_key": "queue/orders",
        "source": "rabbitmq-1",
        "details": {"depth": 12000},
        "links": [{"href": "https://grafana.example.com/d/queues", "text": "Dashboard"}],
    }
    response = post("/integrations/webhook", body, key=hook.key)
    assert response.status_code == 202
    assert response.json() == {"status": "success", "dedup_key": "queue/orders"}
    cycle()
    alert = Alert.objects.get()
    assert (alert.severity, alert.source, alert.details) == ("error", "rabbitmq-1", {"depth": 12000})
    incident = Incident.objects.get()
    assert (incident.impact, incident.urgency) == (2, 1)

    assert (
        post(
            f"/integrations/webhook/{hook.key}", {"action": "acknowledge", "dedup_key": "queue/orders"}
        ).status_code
        == 202
    )
    cycle()
    assert Alert.objects.get().status == "acknowledged"
    assert (
        post(
            f"/integrations/webhook/{hook.key}", {"action": "resolve", "dedup_key": "queue/orders"}
        ).status_code
        == 202
    )
    cycle()
    assert Alert.objects.get().status == "resolved"
    assert Incident.objects.get().state == "resolved"


def test_webhook_defaults(hook: Hooked) -> None:
    response = post("/integrations/webhook", {"summary": "Something odd"}, key=hook.key)
    assert response.status_code == 202
    cycle()
    alert = Alert.objects.get()
    assert alert.severity == "warning" and alert.dedup_key == response.json()["dedup_key"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "summary"),
        ({"summary": "   "}, "summary"),
        ({"summary": 5}, "summary"),
        ({"summary": "x", "severity": "fatal"}, "severity"),
        ({"summary": "x", "action": "close"}, "action"),
        ({"action": "resolve"}, "dedup_key"),
        ({"summary": "x", "details": [1]}, "details"),
        ({"summary": "x", "links": [{"text": "no href"}]}, "links[0]"),
        ({"summary": "x", "links": "https://x"}, "links"),
        ({"summary": "x", "dedup_key": "k" * 256}, "dedup_key"),
        ({"summary": "s" * 1025}, "summary"),
    ],
)
def test_webhook_refuses_bad_fields_naming_them(hook: Hooked, body: dict[str, object], field: str) -> None:
    response = post("/integrations/webhook", body, key=hook.key)
    assert response.status_code == 400
    data = response.json()
    assert data["code"] == "invalid"
    assert field in [e["field"] for e in data["errors"]]
    assert IntakeEvent.objects.get().status == "rejected"


def test_group_key_mode_groups_webhook_alerts_and_splits_groups(world: World) -> None:
    hooked = make_integration(world, "webhook", grouping="group_key")
    for dedup, group in [("a", "g1"), ("b", "g1"), ("c", "g2"), ("d", "")]:
        post(
            "/integrations/webhook",
            {"summary": dedup, "dedup_key": dedup, "group_key": group},
            key=hooked.key,
        )
    cycle()
    by_key = {a.dedup_key: a for a in Alert.objects.all()}
    assert by_key["a"].incident == by_key["b"].incident
    assert by_key["c"].incident != by_key["a"].incident
    assert by_key["d"].group_reason == "grouping by group key, but the alert has none: new incident"
    assert Incident.objects.count() == 3


def test_group_key_mode_opens_a_new_incident_once_the_old_one_is_resolved(world: World) -> None:
    hooked = make_integration(world, "webhook", grouping="group_key")
    post("/integrations/webhook", {"summary": "a", "dedup_key": "a", "group_key": "g"}, key=hooked.key)
    post("/integrations/webhook", {"action": "resolve", "dedup_key": "a"}, key=hooked.key)
    post("/integrations/webhook", {"summary": "b", "dedup_key": "b", "group_key": "g"}, key=hooked.key)
    cycle()
    assert Incident.objects.count() == 2


def test_window_mode_groups_all_alerts_of_the_service_within_the_window(world: World) -> None:
    webhook = make_integration(world, "webhook", grouping="window", window_minutes=10)
    pd = make_integration(world, "pagerduty", grouping="window", window_minutes=10)
    other = make_integration(world, "webhook", grouping="window", service=world.service_b, name="billing")
    with clock.frozen(T0):
        post("/integrations/webhook", {"summary": "first", "dedup_key": "1"}, key=webhook.key)
        cycle()
        clock.advance(timedelta(minutes=9))
        post("/v2/enqueue", pd_trigger(pd.key, "2"))  # another integration of the same service
        post("/integrations/webhook", {"summary": "elsewhere", "dedup_key": "x"}, key=other.key)
        cycle()
        clock.advance(timedelta(minutes=2))  # 11 minutes after the incident's first alert
        post("/integrations/webhook", {"summary": "later", "dedup_key": "3"}, key=webhook.key)
        cycle()
    alerts = {a.dedup_key: a for a in Alert.objects.all()}
    assert alerts["2"].incident == alerts["1"].incident
    assert alerts["2"].group_reason.startswith("within 10 min of alert")
    assert alerts["x"].incident != alerts["1"].incident
    assert alerts["3"].incident not in (alerts["1"].incident, alerts["x"].incident)
    assert Incident.objects.count() == 3
    first = alerts["1"].incident
    assert first is not None and first.team == world.team_a


def test_window_mode_resolves_the_incident_only_when_every_alert_resolved(world: World) -> None:
    hooked = make_integration(world, "webhook", grouping="window")
    post("/integrations/webhook", {"summary": "a", "dedup_key": "a"}, key=hooked.key)
    post("/integrations/webhook", {"summary": "b", "dedup_key": "b"}, key=hooked.key)
    post("/integrations/webhook", {"action": "resolve", "dedup_key": "a"}, key=hooked.key)
    cycle()
    assert Incident.objects.get().state == "new"
    post("/integrations/webhook", {"action": "resolve", "dedup_key": "b"}, key=hooked.key)
    cycle()
    assert Incident.objects.get().state == "resolved"


def test_an_incident_a_human_resolved_is_left_alone(world: World, pd: Hooked) -> None:
    post("/v2/enqueue", pd_trigger(pd.key, "k"))
    cycle()
    incident = Incident.objects.get()
    incidents.transition_incident(
        incident=incident, actor=world.alice, source="web", to="canceled", note="false alarm"
    )
    post("/v2/enqueue", {"routing_key": pd.key, "event_action": "resolve", "dedup_key": "k"})
    cycle()
    incident.refresh_from_db()
    assert incident.state == "canceled"
    assert Alert.objects.get().status == "resolved"


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/vnd.acme+json"])
def test_json_content_types_with_parameters_or_suffix(hook: Hooked, content_type: str) -> None:
    response = post("/integrations/webhook", {"summary": "x"}, key=hook.key, content_type=content_type)
    assert response.status_code == 202
