"""The alerts REST API: integrations and keys, the event log, alerts with acknowledge/resolve, maintenance
windows and change events. Each endpoint; charlie gets 404 for team A's objects; dave (observer) gets 403 on
writes; bad input is a 4xx naming the field, never a 500."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.alerts.conftest import Hooked, cycle, make_integration, post
from tests.api.conftest import ApiClient, Clients, client_with_token, error
from tests.conftest import World
from warroom.alerts.models import Alert, Integration, IntegrationKey, MaintenanceWindow
from warroom.audit.models import AuditEvent
from warroom.incidents.models import Incident, TimelineEntry
from warroom.lib import clock

pytestmark = pytest.mark.django_db

BASE = "http://127.0.0.1:8000"


@pytest.fixture(autouse=True)
def _urls(settings: object) -> None:
    settings.WARROOM_BASE_URL = BASE  # type: ignore[attr-defined]
    settings.WARROOM_EMAIL_DOMAIN = "alerts.example.com"  # type: ignore[attr-defined]


@pytest.fixture
def api(world: World) -> Clients:
    return Clients(
        alice=client_with_token(world.alice),
        bob=client_with_token(world.bob),
        charlie=client_with_token(world.charlie),
        dave=client_with_token(world.dave),
        olivia=client_with_token(world.olivia),
    )


def _fire(hooked: Hooked, summary: str = "Queue depth above 10k", dedup_key: str = "queue/orders") -> Alert:
    body = {"summary": summary, "severity": "error", "dedup_key": dedup_key, "source": "rabbitmq-1"}
    assert post("/integrations/webhook", body, key=hooked.key).status_code == 202
    cycle()
    alert = Alert.objects.filter(dedup_key=dedup_key, integration=hooked.integration).order_by("-id").first()
    assert alert is not None
    return alert


VALID_WINDOW = {"title": "Upgrade", "starts_at": "2026-03-02T09:00:00Z", "ends_at": "2026-03-02T10:00:00Z"}


def _field(response: Any) -> str:
    body = error(response)
    assert body["errors"], body
    field: str = body["errors"][0]["field"]
    return field


# ---------------------------------------------------------------------------------------------------------------
# integrations and keys


def test_create_integration_returns_the_key_once(api: Clients, world: World) -> None:
    response = api.alice.post(
        "/integrations",
        {
            "service": "checkout",
            "kind": "alertmanager",
            "name": "Prometheus prod",
            "grouping": "fields",
            "group_fields": ["alertname", "cluster"],
            "severity_map": {"warning": [3, 2]},
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["kind"] == "alertmanager" and body["service"]["slug"] == "checkout"
    assert body["endpoint"] == f"{BASE}/integrations/alertmanager"
    assert body["severity_map"]["warning"] == [3, 2] and body["severity_map"]["critical"] == [1, 1]
    assert body["group_fields"] == ["alertname", "cluster"]
    assert body["signed"] is False  # Alertmanager does not sign (test_integration_options.py: who does)
    assert body["active_keys"] == 1
    key = body["key"]
    assert key["key"].startswith("wr_ik_") and key["key"].startswith(key["prefix"])
    assert key["endpoint"] == f"{BASE}/integrations/alertmanager"
    # it works at the intake
    group = {"version": "4", "groupKey": "g", "alerts": []}
    assert post("/integrations/alertmanager", group, key=key["key"]).status_code == 202
    # and is never shown again
    again = api.alice.get(f"/integrations/{body['id']}")
    assert again.status_code == 200 and key["key"] not in again.content.decode()
    keys = api.alice.get(f"/integrations/{body['id']}/keys").json()
    assert [k["prefix"] for k in keys] == [key["prefix"]] and "key" not in keys[0]
    assert AuditEvent.objects.filter(action="integration.key.create", source="api").count() == 1


@pytest.mark.parametrize(
    ("kind", "grouping"),
    [("alertmanager", "group_key"), ("grafana", "group_key"), ("pagerduty", "alert"), ("webhook", "alert")],
)
def test_an_integration_groups_as_its_sender_does_unless_told(
    api: Clients, world: World, kind: str, grouping: str
) -> None:
    """One Alertmanager notification of 50 alerts is one problem: by default it opens one incident, not 50."""
    made = api.alice.post("/integrations", {"service": "checkout", "kind": kind, "name": f"{kind} prod"})
    assert made.status_code == 201, made.json()
    assert made.json()["grouping"] == grouping
    told = api.alice.post(
        "/integrations", {"service": "checkout", "kind": kind, "name": f"{kind} 2", "grouping": "window"}
    )
    assert told.status_code == 201 and told.json()["grouping"] == "window"
    if kind == "alertmanager":
        alerts = [
            {"status": "firing", "labels": {"alertname": f"A{i}"}, "fingerprint": f"f{i}"} for i in range(50)
        ]
        group = {"version": "4", "groupKey": '{}:{alertname=~".*"}', "status": "firing", "alerts": alerts}
        assert post("/integrations/alertmanager", group, key=made.json()["key"]["key"]).status_code == 202
        cycle()
        assert Incident.objects.count() == 1 and Alert.objects.count() == 50


def test_create_variants(api: Clients, world: World) -> None:
    email = api.alice.post("/integrations", {"service": world.service_a.pk, "kind": "email", "name": "Mail"})
    assert email.status_code == 201
    assert email.json()["key"] is None
    assert email.json()["email_address"].endswith("@alerts.example.com")
    assert email.json()["endpoint"] == email.json()["email_address"]
    bare = api.alice.post(
        "/integrations", {"service": "checkout", "kind": "webhook", "name": "No key", "create_key": False}
    )
    assert bare.status_code == 201 and bare.json()["key"] is None and bare.json()["active_keys"] == 0
    heartbeat = api.alice.post(
        "/integrations",
        {"service": "checkout", "kind": "heartbeat", "name": "Backup", "heartbeat_interval_seconds": 3600},
    )
    assert heartbeat.status_code == 201
    hb = heartbeat.json()
    assert hb["heartbeat"]["interval_seconds"] == 3600 and hb["heartbeat"]["state"] == "new"
    assert hb["endpoint"] == f"{BASE}/integrations/heartbeat/wr_ik_..."
    assert hb["key"]["endpoint"] == f"{BASE}/integrations/heartbeat/{hb['key']['key']}"


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"kind": "nagios"}, "kind", 400),
        ({"name": ""}, "name", 400),
        ({"grouping": "sometimes"}, "grouping", 400),
        ({"grouping": "fields"}, "group_fields", 400),
        ({"window_minutes": 0}, "window_minutes", 400),
        ({"severity_map": {"critical": [9, 9]}}, "severity_map", 400),
        ({"severity_map": {"panic": [1, 1]}}, "severity_map", 400),
        ({"field_mapping": {"colour": "a.b"}}, "field_mapping", 400),
        ({"rate_limit_per_minute": -1}, "rate_limit_per_minute", 400),
        ({"email_dedup_pattern": "("}, "email_dedup_pattern", 400),
        ({"heartbeat_interval_seconds": 3600}, "heartbeat_interval_seconds", 400),
        ({"kind": "heartbeat"}, "heartbeat_interval_seconds", 400),
        ({"service": "nowhere"}, "service", 400),
        ({"service": "billing"}, "service", 400),  # team B's: alice cannot see it
        ({"window_minutes": "ten"}, "window_minutes", 422),
        ({"group_fields": "alertname"}, "group_fields", 422),
    ],
)
def test_create_refuses_bad_input_naming_the_field(
    api: Clients, world: World, body: dict[str, Any], field: str, status: int
) -> None:
    payload = {"service": "checkout", "kind": "webhook", "name": "Hook", **body}
    response = api.alice.post("/integrations", payload)
    assert response.status_code == status, response.json()
    assert _field(response) == field
    assert not Integration.objects.exists()


def test_malformed_json_is_a_400(api: Clients) -> None:
    response = api.alice.post("/integrations", raw=b'{"service": ')
    assert response.status_code == 400
    error(response)


def test_list_get_patch(api: Clients, world: World) -> None:
    hooked = make_integration(world, "webhook")
    make_integration(world, "pagerduty", service=world.service_b)
    listing = api.bob.get("/integrations")
    assert listing.status_code == 200
    assert [i["name"] for i in listing.json()["items"]] == ["webhook main"]
    assert api.olivia.get("/integrations").json()["count"] == 2
    assert api.olivia.get("/integrations", service="billing").json()["count"] == 1
    assert api.bob.get("/integrations", service="billing").status_code == 400  # a filter: 400, not 404
    one = api.dave.get(f"/integrations/{hooked.integration.pk}")
    assert one.status_code == 200 and one.json()["endpoint"] == f"{BASE}/integrations/webhook"

    patched = api.alice.patch(
        f"/integrations/{hooked.integration.pk}",
        {"name": "Webhook prod", "grouping": "window", "window_minutes": 30, "auto_resolve_incident": False},
    )
    assert patched.status_code == 200, patched.json()
    assert (patched.json()["name"], patched.json()["grouping"], patched.json()["window_minutes"]) == (
        "Webhook prod",
        "window",
        30,
    )
    assert patched.json()["auto_resolve_incident"] is False
    assert (
        api.alice.patch(f"/integrations/{hooked.integration.pk}", {"signing_secret": "x" * 300}).status_code
        == 400
    )
    bad = api.alice.patch(f"/integrations/{hooked.integration.pk}", {"name": None})
    assert bad.status_code == 400 and _field(bad) == "name"
    hb = api.alice.patch(f"/integrations/{hooked.integration.pk}", {"heartbeat_interval_seconds": 600})
    assert hb.status_code == 400 and _field(hb) == "heartbeat_interval_seconds"
    assert api.alice.get("/integrations/999999").status_code == 404


def test_keys_rotate_and_revoke(api: Clients, world: World) -> None:
    hooked = make_integration(world, "webhook")
    iid = hooked.integration.pk
    made = api.alice.post(f"/integrations/{iid}/keys")
    assert made.status_code == 201
    second = made.json()
    assert second["key"].startswith("wr_ik_") and second["is_active"]
    first = IntegrationKey.objects.exclude(pk=second["id"]).get()
    # both keys work during the switch-over
    assert post("/integrations/webhook", {"summary": "a"}, key=hooked.key).status_code == 202
    assert post("/integrations/webhook", {"summary": "b"}, key=second["key"]).status_code == 202
    revoked = api.alice.delete(f"/integrations/{iid}/keys/{first.pk}")
    assert revoked.status_code == 200 and revoked.json()["is_active"] is False
    assert post("/integrations/webhook", {"summary": "c"}, key=hooked.key).status_code == 404
    again = api.alice.delete(f"/integrations/{iid}/keys/{first.pk}")
    assert again.status_code == 409 and error(again)["code"] == "conflict"
    assert api.alice.delete(f"/integrations/{iid}/keys/999999").status_code == 404
    other = make_integration(world, "webhook", service=world.service_b)
    other_key = IntegrationKey.objects.get(integration=other.integration)
    # a key of another integration through this integration's URL: 404
    assert api.olivia.delete(f"/integrations/{iid}/keys/{other_key.pk}").status_code == 404


def test_event_log(api: Clients, world: World) -> None:
    hooked = make_integration(world, "webhook")
    assert post("/integrations/webhook", {"severity": "loud"}, key=hooked.key).status_code == 400
    assert (
        post("/integrations/webhook", {"action": "resolve", "dedup_key": "nope"}, key=hooked.key).status_code
        == 202
    )
    _fire(hooked)
    path = f"/integrations/{hooked.integration.pk}/events"
    page = api.dave.get(path).json()
    assert page["count"] == 3
    assert [e["status"] for e in page["items"]] == ["processed", "ignored", "rejected"]  # newest first
    rejected = api.dave.get(path, status="rejected").json()["items"]
    assert len(rejected) == 1
    assert "summary is required" in rejected[0]["reason"] and rejected[0]["payload"] == {"severity": "loud"}
    ignored = api.dave.get(path, status="ignored").json()["items"]
    assert "no open alert with dedup key 'nope'" in ignored[0]["reason"]
    processed = api.dave.get(path, status="processed").json()["items"]
    assert processed[0]["alert"] is not None
    assert api.dave.get(path, limit=1, offset=1).json()["items"][0]["status"] == "ignored"
    bad = api.dave.get(path, status="weird")
    assert bad.status_code == 400 and _field(bad) == "status"
    assert api.dave.get(path, limit=0).status_code == 422


def test_observer_and_responder_may_not_manage(api: Clients, world: World) -> None:
    hooked = make_integration(world, "webhook")
    key = IntegrationKey.objects.get()
    iid = hooked.integration.pk
    for client in (api.bob, api.dave):
        created = client.post("/integrations", {"service": "checkout", "kind": "webhook", "name": "x"})
        assert created.status_code == 403 and error(created)["code"] == "forbidden"
        assert client.patch(f"/integrations/{iid}", {"name": "x"}).status_code == 403
        assert client.post(f"/integrations/{iid}/keys").status_code == 403
        assert client.delete(f"/integrations/{iid}/keys/{key.pk}").status_code == 403
    assert Integration.objects.count() == 1 and IntegrationKey.objects.count() == 1


def test_charlie_gets_404_for_team_a(api: Clients, world: World) -> None:
    hooked = make_integration(world, "webhook")
    alert = _fire(hooked)
    key = IntegrationKey.objects.get()
    iid = hooked.integration.pk
    window = MaintenanceWindow.objects.create(
        service=world.service_a,
        title="Upgrade",
        starts_at=clock.now() + timedelta(days=1),
        ends_at=clock.now() + timedelta(days=2),
        created_at=clock.now(),
    )
    charlie = api.charlie
    for method, path in [
        ("GET", f"/integrations/{iid}"),
        ("PATCH", f"/integrations/{iid}"),
        ("GET", f"/integrations/{iid}/keys"),
        ("POST", f"/integrations/{iid}/keys"),
        ("DELETE", f"/integrations/{iid}/keys/{key.pk}"),
        ("GET", f"/integrations/{iid}/events"),
        ("GET", f"/alerts/{alert.pk}"),
        ("POST", f"/alerts/{alert.pk}/acknowledge"),
        ("POST", f"/alerts/{alert.pk}/resolve"),
        ("GET", "/services/checkout/maintenance"),
        ("POST", "/services/checkout/maintenance"),
        ("GET", f"/services/checkout/maintenance/{window.pk}"),
        ("PATCH", f"/services/checkout/maintenance/{window.pk}"),
        ("DELETE", f"/services/checkout/maintenance/{window.pk}"),
        ("GET", "/services/checkout/changes"),
    ]:
        body = None
        if method in ("PATCH", "POST"):
            body = VALID_WINDOW if path.endswith("/maintenance") else {}
        response = charlie.call(method, path, body)
        assert response.status_code == 404, (method, path, response.content)
        assert error(response)["code"] == "not_found"
    assert charlie.get("/integrations").json()["count"] == 0
    assert charlie.get("/alerts").json()["count"] == 0
    assert charlie.get("/integrations", service="checkout").status_code == 400  # a filter: as if unknown
    # team B's own service, with team A's window id: still a 404
    assert charlie.get(f"/services/billing/maintenance/{window.pk}").status_code == 404
    assert Alert.objects.get().status == "triggered"
    assert MaintenanceWindow.objects.count() == 1 and IntegrationKey.objects.get().is_active


def test_unauthenticated(world: World) -> None:
    response = ApiClient(None).get("/alerts")
    assert response.status_code == 401
    assert error(response)["code"] == "unauthenticated"


# ---------------------------------------------------------------------------------------------------------------
# alerts


def test_list_and_filter_alerts(api: Clients, world: World) -> None:
    hooked = make_integration(world, "webhook")
    queue = _fire(hooked, "Queue depth above 10k", "queue/orders")
    disk = _fire(hooked, "Disk full on db-1", "disk/db-1")
    other = make_integration(world, "webhook", service=world.service_b)
    _fire(other, "Billing export failed", "billing/export")
    page = api.bob.get("/alerts").json()
    assert page["count"] == 2
    assert [a["id"] for a in page["items"]] == [disk.pk, queue.pk]  # newest first
    item = page["items"][0]
    assert item["service"]["slug"] == "checkout" and item["integration"]["kind"] == "webhook"
    assert disk.incident is not None and item["incident"]["ref"] == disk.incident.ref
    assert item["group_reason"] == "one incident per alert"
    assert api.bob.get("/alerts", q="queue").json()["count"] == 1
    assert api.bob.get("/alerts", q=str(disk.pk)).json()["items"][0]["id"] == disk.pk
    assert api.bob.get("/alerts", severity="critical").json()["count"] == 0
    assert api.bob.get("/alerts", service="checkout", integration=hooked.integration.pk).json()["count"] == 2
    assert api.bob.get("/alerts", status="resolved").json()["count"] == 0
    assert api.olivia.get("/alerts").json()["count"] == 3
    by_incident = api.bob.get("/alerts", incident=disk.incident.ref).json()
    assert [a["id"] for a in by_incident["items"]] == [disk.pk]
    unknown = api.bob.get("/alerts", incident="INC9999999")
    assert unknown.status_code == 400 and _field(unknown) == "incident"
    bad = api.bob.get("/alerts", status="sleeping")
    assert bad.status_code == 400 and _field(bad) == "status"
    assert api.bob.get("/alerts", integration="abc").status_code == 422


def test_get_alert_with_raw_events(api: Clients, world: World) -> None:
    hooked = make_integration(world, "webhook")
    alert = _fire(hooked)
    _fire(hooked)  # a repeat of the same dedup key: added to the open alert
    body = api.dave.get(f"/alerts/{alert.pk}").json()
    assert body["count"] == 2 and body["status"] == "triggered"
    assert [e["status"] for e in body["events"]] == ["processed", "processed"]
    assert body["events"][0]["payload"]["dedup_key"] == "queue/orders"
    assert body["suppressed"] is False and body["suppressed_by"] is None
    assert api.dave.get("/alerts/999999").status_code == 404


def test_private_incident_is_not_linked(api: Clients, world: World) -> None:
    alert = _fire(make_integration(world, "webhook"))
    assert alert.incident is not None
    Incident.objects.filter(pk=alert.incident.pk).update(is_private=True)
    assert api.dave.get(f"/alerts/{alert.pk}").json()["incident"] is None  # a member, not a participant
    assert api.alice.get(f"/alerts/{alert.pk}").json()["incident"]["ref"] == alert.incident.ref  # team admin


def test_acknowledge_and_resolve(api: Clients, world: World) -> None:
    hooked = make_integration(world, "webhook")
    alert = _fire(hooked)
    incident = alert.incident
    assert incident is not None
    assert api.dave.post(f"/alerts/{alert.pk}/acknowledge").status_code == 403
    acked = api.bob.post(f"/alerts/{alert.pk}/acknowledge", headers={"X-Warroom-Client": "cli"})
    assert acked.status_code == 200 and acked.json()["status"] == "acknowledged"
    assert acked.json()["acknowledged_at"] is not None
    entry = TimelineEntry.objects.filter(incident=incident, field="alert").order_by("-id").first()
    assert entry is not None and entry.source == "cli" and "Bob Responder (cli)" in entry.message
    again = api.bob.post(f"/alerts/{alert.pk}/acknowledge")
    assert again.status_code == 409 and _field(again) == "status"
    assert api.dave.post(f"/alerts/{alert.pk}/resolve").status_code == 403
    resolved = api.bob.post(f"/alerts/{alert.pk}/resolve")
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    assert resolved.json()["incident"]["state"] == "resolved"
    assert api.bob.post(f"/alerts/{alert.pk}/resolve").status_code == 409
    audit = AuditEvent.objects.filter(action="alert.resolve").get()
    assert (audit.actor, audit.source, audit.before["status"], audit.after["status"]) == (
        world.bob,
        "api",
        "acknowledged",
        "resolved",
    )


def test_resolving_one_of_two_alerts_keeps_the_incident_open(api: Clients, world: World) -> None:
    hooked = make_integration(world, "webhook", grouping="window", window_minutes=30)
    first = _fire(hooked, "Queue depth above 10k", "queue/orders")
    second = _fire(hooked, "Consumers down", "queue/consumers")
    assert first.incident_id == second.incident_id and first.incident is not None
    api.bob.post(f"/alerts/{first.pk}/resolve")
    assert Incident.objects.get(pk=first.incident.pk).state == "new"
    api.bob.post(f"/alerts/{second.pk}/resolve")
    assert Incident.objects.get(pk=first.incident.pk).state == "resolved"


# ---------------------------------------------------------------------------------------------------------------
# maintenance windows and change events


def test_maintenance_window_crud(api: Clients, world: World) -> None:
    now = clock.now()
    created = api.alice.post(
        "/services/checkout/maintenance",
        {
            "title": "Database upgrade",
            "starts_at": (now - timedelta(minutes=5)).isoformat(),
            "ends_at": (now + timedelta(hours=1)).replace(tzinfo=None).isoformat(),  # naive: UTC
        },
    )
    assert created.status_code == 201, created.json()
    window = created.json()
    assert window["active"] is True and window["created_by"]["email"] == "alice@example.com"
    assert window["recurrence"] == "none"
    alert = _fire(make_integration(world, "webhook"))
    assert alert.suppressed and alert.incident is None
    shown = api.bob.get(f"/alerts/{alert.pk}").json()
    assert shown["suppressed_by"] == {"id": window["id"], "title": "Database upgrade"}
    assert "suppressed by maintenance window" in shown["group_reason"]

    assert api.bob.get("/services/checkout/maintenance").json()["count"] == 1
    assert api.bob.get(f"/services/{world.service_a.pk}/maintenance").json()["count"] == 1
    assert api.bob.get(f"/services/checkout/maintenance/{window['id']}").json()["title"] == "Database upgrade"
    ended = api.alice.patch(
        f"/services/checkout/maintenance/{window['id']}", {"ends_at": clock.now().isoformat()}
    )
    assert ended.status_code == 200 and ended.json()["active"] is False
    bad = api.alice.patch(f"/services/checkout/maintenance/{window['id']}", {"recurrence": "hourly"})
    assert bad.status_code == 400 and _field(bad) == "recurrence"
    assert api.bob.patch(f"/services/checkout/maintenance/{window['id']}", {"title": "x"}).status_code == 403
    assert api.dave.delete(f"/services/checkout/maintenance/{window['id']}").status_code == 403
    assert api.alice.delete(f"/services/checkout/maintenance/{window['id']}").status_code == 204
    assert api.alice.get(f"/services/checkout/maintenance/{window['id']}").status_code == 404
    assert Alert.objects.get(pk=alert.pk).suppressed  # stays suppressed


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"title": ""}, "title", 400),
        ({"ends_at": "2026-03-01T08:00:00Z"}, "ends_at", 400),
        ({"recurrence": "hourly"}, "recurrence", 400),
        ({"repeat_until": "2026-04-01T00:00:00Z"}, "repeat_until", 400),
        ({"starts_at": "tomorrow"}, "starts_at", 422),
    ],
)
def test_window_bad_input(api: Clients, world: World, body: dict[str, Any], field: str, status: int) -> None:
    payload = {
        "title": "Upgrade",
        "starts_at": "2026-03-02T09:00:00Z",
        "ends_at": "2026-03-02T10:00:00Z",
        **body,
    }
    response = api.alice.post("/services/checkout/maintenance", payload)
    assert response.status_code == status, response.json()
    assert _field(response) == field
    assert not MaintenanceWindow.objects.exists()


def test_window_writes_need_a_manager(api: Clients, world: World) -> None:
    body = {
        "title": "Upgrade",
        "starts_at": "2026-03-02T09:00:00Z",
        "ends_at": "2026-03-02T10:00:00Z",
        "recurrence": "weekly",
    }
    assert api.bob.post("/services/checkout/maintenance", body).status_code == 403
    assert api.dave.post("/services/checkout/maintenance", body).status_code == 403
    assert api.olivia.post("/services/checkout/maintenance", body).status_code == 201
    assert api.alice.post("/services/billing/maintenance", body).status_code == 404


def test_change_events(api: Clients, world: World) -> None:
    pd = make_integration(world, "pagerduty")
    for n in (1, 2):
        body = {
            "routing_key": pd.key,
            "payload": {
                "summary": f"Deployed 4.2.{n}",
                "source": "ci",
                "timestamp": f"2026-03-02T09:0{n}:00Z",
            },
            "links": [{"href": f"https://ci.example.com/{n}", "text": "Build"}],
        }
        assert post("/v2/change/enqueue", body).status_code == 202
    cycle()
    page = api.dave.get("/services/checkout/changes").json()
    assert [c["summary"] for c in page["items"]] == ["Deployed 4.2.2", "Deployed 4.2.1"]
    assert page["items"][0]["integration"]["kind"] == "pagerduty"
    assert page["items"][0]["links"][0]["href"] == "https://ci.example.com/2"
    assert api.dave.get("/services/nowhere/changes").status_code == 404
