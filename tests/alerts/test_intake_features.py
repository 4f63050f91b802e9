"""Rate limits, the webhook's signature and field mapping, change events, raw payload caps, grouping by fields,
maintenance windows, and what a person's action on an incident does to its alerts."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from tests.alerts.conftest import Hooked, cycle, make_integration, pd_trigger, post
from tests.conftest import World
from warroom.alerts import actions, services
from warroom.alerts.intake import PAYLOAD_KEEP
from warroom.alerts.models import Alert, ChangeEvent, IntakeEvent, MaintenanceWindow
from warroom.incidents import services as incidents
from warroom.incidents.models import Incident
from warroom.lib import clock
from warroom.lib.errors import PermissionDenied, ValidationFailed

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


# --- rate limits -------------------------------------------------------------------------------------------------


def test_a_key_over_its_rate_gets_429_with_retry_after_and_one_log_line(world: World) -> None:
    pd = make_integration(world, "pagerduty", rate_limit_per_minute=3)
    answers = [post("/v2/enqueue", pd_trigger(pd.key, f"k{i}")) for i in range(6)]
    assert [a.status_code for a in answers] == [202, 202, 202, 429, 429, 429]
    throttled = answers[3]
    assert throttled.json()["status"] == "throttle event"
    assert int(throttled["Retry-After"]) >= 1
    rejected = IntakeEvent.objects.filter(status="rejected")
    assert rejected.count() == 1  # the first refusal of the streak, not every one
    assert "HTTP 429" in rejected.get().reason
    assert IntakeEvent.objects.filter(status="pending").count() == 3


def test_rate_limit_answers_in_each_format(world: World) -> None:
    hook = make_integration(world, "webhook", rate_limit_per_minute=1)
    assert post("/integrations/webhook", {"summary": "one"}, key=hook.key).status_code == 202
    refused = post("/integrations/webhook", {"summary": "two"}, key=hook.key)
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert "Retry-After" in refused
    genie = make_integration(world, "opsgenie", rate_limit_per_minute=1)
    headers = {"Authorization": f"GenieKey {genie.key}"}
    client = Client()
    assert (
        client.post(
            "/v2/alerts", {"message": "a"}, content_type="application/json", headers=headers
        ).status_code
        == 202
    )
    refused = client.post("/v2/alerts", {"message": "b"}, content_type="application/json", headers=headers)
    assert refused.status_code == 429 and "Retry-After" in refused


def test_zero_means_no_limit(world: World) -> None:
    pd = make_integration(world, "pagerduty", rate_limit_per_minute=0)
    assert {post("/v2/enqueue", pd_trigger(pd.key, f"k{i}")).status_code for i in range(30)} == {202}


# --- the generic webhook: signature and field mapping ------------------------------------------------------------


def _signed(secret: str, body: bytes, at: datetime) -> dict[str, str]:
    stamp = str(int(at.timestamp()))
    digest = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-Warroom-Timestamp": stamp, "X-Warroom-Signature": f"sha256={digest}"}


def test_signed_webhook_accepts_a_good_signature_and_refuses_the_rest(world: World) -> None:
    hook = make_integration(world, "webhook", signing_secret="s3cret")
    body = json.dumps({"summary": "signed"}).encode()
    auth = {"Authorization": f"Bearer {hook.key}"}
    client = Client()

    def send(headers: dict[str, str]) -> int:
        return client.post(
            "/integrations/webhook", body, content_type="application/json", headers={**auth, **headers}
        ).status_code

    with clock.frozen(T0):
        assert send(_signed("s3cret", body, T0)) == 202
        assert send({}) == 401
        assert send(_signed("wrong", body, T0)) == 401
        assert send(_signed("s3cret", body, T0 - timedelta(minutes=6))) == 401  # a replay of an old request
    reasons = list(IntakeEvent.objects.filter(status="rejected").values_list("reason", flat=True))
    assert any("more than 5 minutes off" in reason for reason in reasons)
    assert any("does not match" in reason for reason in reasons)
    assert IntakeEvent.objects.filter(status="pending").count() == 1


def test_a_signed_webhook_checks_the_signature_before_the_body(world: World) -> None:
    """A sender without the secret learns nothing about its body: broken JSON unsigned is a 401, not a 400."""
    hook = make_integration(world, "webhook", signing_secret="s3cret")
    broken = b'{"summary": "trunc'
    auth = {"Authorization": f"Bearer {hook.key}"}
    client = Client()
    with clock.frozen(T0):
        unsigned = client.post("/integrations/webhook", broken, content_type="application/json", headers=auth)
        signed = client.post(
            "/integrations/webhook",
            broken,
            content_type="application/json",
            headers={**auth, **_signed("s3cret", broken, T0)},
        )
    assert unsigned.status_code == 401 and unsigned.json()["errors"][0]["field"] == "signature"
    assert signed.status_code == 400 and "not valid JSON" in signed.json()["errors"][0]["message"]
    assert not IntakeEvent.objects.filter(status="pending").exists()


def test_requests_with_a_bad_signature_take_none_of_the_senders_rate(world: World) -> None:
    hook = make_integration(world, "webhook", signing_secret="s3cret", rate_limit_per_minute=2)
    auth = {"Authorization": f"Bearer {hook.key}"}
    client = Client()

    def send(summary: str, secret: str) -> int:
        body = json.dumps({"summary": summary}).encode()
        headers = {**auth, **_signed(secret, body, T0)}
        return client.post(
            "/integrations/webhook", body, content_type="application/json", headers=headers
        ).status_code

    with clock.frozen(T0):
        assert [send(f"forged {i}", "guess") for i in range(5)] == [401] * 5
        assert [send(f"real {i}", "s3cret") for i in range(3)] == [202, 202, 429]
    assert IntakeEvent.objects.filter(status="pending").count() == 2


def test_field_mapping_reads_arbitrary_json(world: World) -> None:
    hook = make_integration(
        world,
        "webhook",
        field_mapping={
            "summary": "alert.title",
            "severity": "alert.level",
            "dedup_key": "alert.id",
            "action": "state",
            "source": "host.name",
            "details": "alert.context",
        },
    )
    body = {
        "state": "firing",
        "alert": {"title": "Disk full on db-1", "level": "HIGH", "id": 4711, "context": {"disk": "/var"}},
        "host": {"name": "db-1"},
    }
    assert post("/integrations/webhook", body, key=hook.key).status_code == 202
    cycle()
    alert = Alert.objects.get()
    assert (alert.summary, alert.severity, alert.dedup_key, alert.source) == (
        "Disk full on db-1",
        "critical",
        "4711",
        "db-1",
    )
    assert alert.details == {"disk": "/var"}
    body["state"] = "OK"
    assert post("/integrations/webhook", body, key=hook.key).status_code == 202
    cycle()
    assert Alert.objects.get().status == "resolved"


def test_field_mapping_refuses_an_unknown_word_naming_the_path(world: World) -> None:
    hook = make_integration(world, "webhook", field_mapping={"summary": "t", "action": "s"})
    response = post("/integrations/webhook", {"t": "x", "s": "exploded"}, key=hook.key)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "s"
    assert not IntakeEvent.objects.filter(status="pending").exists()


def test_field_mapping_is_validated(world: World) -> None:
    with pytest.raises(ValidationFailed, match="unknown field 'title'"):
        make_integration(world, "webhook", field_mapping={"title": "x"})


# --- change events, raw payload cap, Opsgenie ids ----------------------------------------------------------------


def test_change_event_goes_on_the_service_timeline_and_never_pages(world: World) -> None:
    pd = make_integration(world, "pagerduty")
    change = {
        "routing_key": pd.key,
        "payload": {
            "summary": "Build success: Increase snapshot create timeout to 30 seconds",
            "timestamp": "2026-03-01T10:00:00.000+0000",
            "source": "prod-build-agent-i-0b148d1040d565540",
            "custom_details": {"build_state": "passed", "build_number": "2"},
        },
        "links": [{"href": "https://github.com/PagerDuty/developer-docs/pull/34", "text": "View on GitHub"}],
    }
    response = post("/v2/change/enqueue", change)
    assert response.status_code == 202
    cycle()
    recorded = ChangeEvent.objects.get()
    assert recorded.service == world.service_a
    assert recorded.happened_at == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert recorded.details == {"build_state": "passed", "build_number": "2"}
    assert not Alert.objects.exists() and not Incident.objects.exists()
    change["payload"]["timestamp"] = "yesterday"  # type: ignore[index]
    assert post("/v2/change/enqueue", change).status_code == 400


def test_huge_payloads_are_kept_capped(world: World) -> None:
    pd = make_integration(world, "pagerduty")
    event = pd_trigger(pd.key, "big", custom_details={"blob": "x" * 200_000})
    assert post("/v2/enqueue", event).status_code == 202
    stored = IntakeEvent.objects.get()
    assert stored.payload["_truncated"] is True
    assert len(stored.payload["raw"]) == PAYLOAD_KEEP


def test_opsgenie_close_by_id_uses_the_request_id(world: World) -> None:
    genie = make_integration(world, "opsgenie")
    headers = {"Authorization": f"GenieKey {genie.key}"}
    client = Client()
    created = client.post(
        "/v2/alerts", {"message": "no alias"}, content_type="application/json", headers=headers
    )
    request_id = created.json()["requestId"]
    cycle()
    closed = client.post(
        f"/v2/alerts/{request_id}/close?identifierType=id",
        {"note": "fixed"},
        content_type="application/json",
        headers=headers,
    )
    assert closed.status_code == 202
    cycle()
    assert Alert.objects.get().status == "resolved"
    tiny = client.post(
        "/v2/alerts/42/close?identifierType=tiny", {}, content_type="application/json", headers=headers
    )
    assert tiny.status_code == 422


# --- grouping by fields ------------------------------------------------------------------------------------------


def _am(key: str, alerts: list[dict[str, str]]) -> dict[str, object]:
    return {
        "version": "4",
        "groupKey": '{}:{alertname="x"}',
        "status": "firing",
        "receiver": "warroom",
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "truncatedAlerts": 0,
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": {"summary": f"{labels['alertname']} on {labels['cluster']}"},
                "startsAt": "2026-03-02T09:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus:9090/graph",
                "fingerprint": hashlib.sha1(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:16],
            }
            for labels in alerts
        ],
    }


def test_grouping_by_chosen_labels(world: World) -> None:
    am = make_integration(world, "alertmanager", grouping="fields", group_fields=["alertname", "cluster"])
    alerts = [
        {"alertname": "HighLatency", "cluster": "eu", "instance": "a"},
        {"alertname": "HighLatency", "cluster": "eu", "instance": "b"},
        {"alertname": "HighLatency", "cluster": "us", "instance": "a"},
        {"alertname": "DiskFull", "cluster": "eu", "instance": "a"},
    ]
    assert post("/integrations/alertmanager", _am(am.key, alerts), key=am.key).status_code == 202
    cycle()
    assert Incident.objects.count() == 3
    a, b = Alert.objects.filter(
        details__labels__cluster="eu", details__labels__alertname="HighLatency"
    ).order_by("id")
    assert a.incident_id == b.incident_id
    assert "alertname=HighLatency, cluster=eu" in b.group_reason


def test_grouping_by_fields_needs_fields(world: World) -> None:
    with pytest.raises(ValidationFailed, match="group_fields"):
        make_integration(world, "webhook", grouping="fields")


# --- maintenance windows -----------------------------------------------------------------------------------------


def test_alerts_in_a_maintenance_window_are_suppressed_and_open_no_incident(world: World, pd: Hooked) -> None:
    with clock.frozen(T0):
        window = services.create_maintenance_window(
            service=world.service_a,
            title="DB upgrade",
            starts_at=T0 - timedelta(minutes=5),
            ends_at=T0 + timedelta(hours=1),
            actor=world.alice,
            source="test",
        )
        assert post("/v2/enqueue", pd_trigger(pd.key, "during")).status_code == 202
        cycle()
    alert = Alert.objects.get()
    assert alert.suppressed and alert.suppressed_by == window and alert.incident is None
    assert "DB upgrade" in alert.group_reason
    assert not Incident.objects.exists()
    with clock.frozen(T0 + timedelta(hours=2)):
        assert post("/v2/enqueue", pd_trigger(pd.key, "after")).status_code == 202
        cycle()
    assert Incident.objects.count() == 1


def test_a_weekly_window_repeats() -> None:
    window = MaintenanceWindow(
        starts_at=T0,
        ends_at=T0 + timedelta(hours=2),
        recurrence="weekly",
        repeat_until=T0 + timedelta(weeks=4),
    )
    assert window.is_active(T0 + timedelta(weeks=1, hours=1))
    assert not window.is_active(T0 + timedelta(weeks=1, hours=3))
    assert not window.is_active(T0 + timedelta(weeks=5, hours=1))  # past repeat_until
    assert not window.is_active(T0 - timedelta(hours=1))


def test_maintenance_windows_are_validated_and_team_scoped(world: World) -> None:
    with pytest.raises(ValidationFailed, match="after starts_at"):
        services.create_maintenance_window(
            service=world.service_a, title="x", starts_at=T0, ends_at=T0, actor=world.alice, source="test"
        )
    with pytest.raises(PermissionDenied):
        services.create_maintenance_window(
            service=world.service_a,
            title="x",
            starts_at=T0,
            ends_at=T0 + timedelta(hours=1),
            actor=world.charlie,
            source="test",
        )


# --- a person's action on the incident ---------------------------------------------------------------------------


def test_acknowledging_the_incident_acknowledges_its_alerts(world: World, pd: Hooked) -> None:
    post("/v2/enqueue", pd_trigger(pd.key, "disk"))
    cycle()
    incident = Incident.objects.get()
    incidents.transition_incident(incident=incident, actor=world.bob, source="test", to="in_progress")
    assert Alert.objects.get().status == "acknowledged"


def test_resolving_the_incident_resolves_its_alerts_so_the_next_trigger_opens_a_new_one(
    world: World, pd: Hooked
) -> None:
    post("/v2/enqueue", pd_trigger(pd.key, "disk"))
    cycle()
    first = Incident.objects.get()
    incidents.transition_incident(
        incident=first,
        actor=world.bob,
        source="test",
        to="resolved",
        resolution_code="workaround",
        resolution_notes="Freed space",
    )
    assert Alert.objects.get().status == "resolved"
    post("/v2/enqueue", pd_trigger(pd.key, "disk"))
    cycle()
    assert Alert.objects.count() == 2
    assert Incident.objects.count() == 2


def test_resolving_the_last_alert_by_hand_resolves_the_incident_naming_the_person(
    world: World, pd: Hooked
) -> None:
    post("/v2/enqueue", pd_trigger(pd.key, "disk"))
    cycle()
    actions.resolve_alert(alert=Alert.objects.get(), actor=world.bob, source="web")
    incident = Incident.objects.get()
    assert incident.state == "resolved"
    assert "by hand" in incident.resolution_notes and "Bob" in incident.resolution_notes
