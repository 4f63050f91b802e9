"""Edges found by driving a live Warroom the way senders do: values of the wrong JSON type, dates past the end
of the calendar, aliases with slashes, chunked bodies, group notifications that mix resolved and firing alerts,
long rule URLs and bodies nested too deep to store. Each gets a clear answer and loses nothing it accepted."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.test import Client

from tests.alerts.conftest import Hooked, cycle, make_integration, pd_trigger, post
from tests.alerts.test_alertmanager import am_alert, am_group
from tests.alerts.test_grafana import gf_alert, gf_group
from tests.alerts.test_opsgenie import genie
from tests.conftest import World
from warroom.alerts import email
from warroom.alerts.fastpath import GroupCommitter, IntakeDispatcher
from warroom.alerts.models import Alert, AlertStatus, ChangeEvent, EventStatus, IntakeEvent, Integration
from warroom.incidents.models import Incident

pytestmark = pytest.mark.django_db


def _rejected(field: str) -> IntakeEvent:
    event = IntakeEvent.objects.get()
    assert event.status == EventStatus.REJECTED and field in event.reason, event.reason
    return event


@pytest.mark.parametrize("severity", [["critical"], {"level": 1}, 3, True])
def test_a_pagerduty_severity_of_the_wrong_type_is_a_400_naming_it(pd: Hooked, severity: Any) -> None:
    response = post("/v2/enqueue", pd_trigger(pd.key, "k1", severity=severity))
    assert response.status_code == 400, response.content
    assert response.json()["status"] == "invalid event"
    assert any("payload.severity" in message for message in response.json()["errors"])
    _rejected("payload.severity")
    assert not Alert.objects.exists()


@pytest.mark.parametrize("priority", [["P1"], {"p": 1}, 1])
def test_an_opsgenie_priority_of_the_wrong_type_is_a_422_naming_it(opsgenie: Hooked, priority: Any) -> None:
    response = genie(
        "/v2/alerts", {"message": "disk full", "alias": "a1", "priority": priority}, opsgenie.key
    )
    assert response.status_code == 422, response.content
    assert "priority" in response.json()["message"]
    _rejected("priority")


@pytest.mark.parametrize("severity", [["error"], {"a": 1}])
def test_a_webhook_severity_of_the_wrong_type_is_a_400_naming_it(hook: Hooked, severity: Any) -> None:
    response = post("/integrations/webhook", {"summary": "x", "severity": severity}, key=hook.key)
    assert response.status_code == 400, response.content
    assert [error["field"] for error in response.json()["errors"]] == ["severity"]
    _rejected("severity")


def test_a_mapped_value_of_the_wrong_type_is_refused_naming_its_path(world: World) -> None:
    mapped = make_integration(
        world,
        "webhook",
        field_mapping={"summary": "alert.title", "severity": "alert.level", "dedup_key": "alert.id"},
    )
    body = {"alert": {"title": "Disk full", "level": ["high"], "id": 4711}}
    response = post("/integrations/webhook", body, key=mapped.key)
    assert response.status_code == 400, response.content
    assert [error["field"] for error in response.json()["errors"]] == ["alert.level"]
    assert "a list" in response.json()["errors"][0]["message"]
    numeric = post(
        "/integrations/webhook", {"alert": {"title": "Disk full", "level": 3, "id": 1}}, key=mapped.key
    )
    assert numeric.status_code == 400 and numeric.json()["errors"][0]["field"] == "alert.level"
    flag = post(
        "/integrations/webhook",
        {"alert": {"title": "Disk full", "level": "high", "id": True}},
        key=mapped.key,
    )
    assert flag.status_code == 202, flag.content
    assert flag.json()["dedup_key"] == "true"  # as JSON spells it, not Python's "True"


@pytest.mark.parametrize("timestamp", ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+01:00"])
def test_a_change_event_dated_past_the_calendar_is_a_400(pd: Hooked, timestamp: str) -> None:
    body = {"routing_key": pd.key, "payload": {"summary": "deploy", "timestamp": timestamp}}
    response = post("/v2/change/enqueue", body)
    assert response.status_code == 400, response.content
    assert "payload.timestamp must be an ISO 8601 date-time" in response.json()["errors"]
    assert not ChangeEvent.objects.exists()


@pytest.mark.parametrize("timestamp", ["yesterday", "2026-13-01T00:00:00Z", "9999-12-31T23:59:59-12:00"])
def test_a_trigger_with_a_timestamp_that_is_no_date_is_a_400(pd: Hooked, timestamp: str) -> None:
    response = post("/v2/enqueue", pd_trigger(pd.key, "k1", timestamp=timestamp))
    assert response.status_code == 400, response.content
    assert "payload.timestamp must be an ISO 8601 date-time" in response.json()["errors"]
    _rejected("payload.timestamp")
    for written in ("2026-03-02T09:00:00.000+0000", "2026-03-02T09:00:00Z", "2026-03-02T10:00:00+01:00"):
        assert post("/v2/enqueue", pd_trigger(pd.key, written, timestamp=written)).status_code == 202


def test_an_opsgenie_alias_with_a_slash_can_be_acknowledged_and_closed(opsgenie: Hooked) -> None:
    assert genie("/v2/alerts", {"message": "web down", "alias": "web/01"}, opsgenie.key).status_code == 202
    cycle()
    alert = Alert.objects.get()
    assert alert.dedup_key == "web/01"
    acked = genie("/v2/alerts/web%2F01/acknowledge?identifierType=alias", {}, opsgenie.key)
    assert acked.status_code == 202, acked.content
    closed = genie("/v2/alerts/web%2F01/close?identifierType=alias", {"note": "fixed"}, opsgenie.key)
    assert closed.status_code == 202, closed.content
    cycle()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED


def test_a_chunked_body_is_read_whole(pd: Hooked) -> None:
    """``Transfer-Encoding: chunked`` and no Content-Length: the WSGI server hands on the de-chunked body."""
    app = IntakeDispatcher(lambda environ, start: [], GroupCommitter(threaded=False))
    raw = json.dumps(pd_trigger(pd.key, "chunked-1")).encode()

    # As granian hands on a chunked request: no CONTENT_LENGTH, the de-chunked body in wsgi.input.
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/v2/enqueue",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": "application/json",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.input": io.BytesIO(raw),
        "wsgi.url_scheme": "http",
    }
    started: dict[str, Any] = {}
    content = b"".join(app(environ, lambda status, headers: started.update(status=status)))
    assert started["status"].startswith("202"), content
    assert json.loads(content)["dedup_key"] == "chunked-1"
    assert IntakeEvent.objects.get().dedup_key == "chunked-1"
    huge = dict(environ, **{"wsgi.input": io.BytesIO(b'{"a": "' + b"x" * 600_000 + b'"}')})
    content = b"".join(app(huge, lambda status, headers: started.update(status=status)))
    assert started["status"].startswith("413"), content


def test_a_group_that_resolves_one_alert_and_fires_another_keeps_its_incident(am: Hooked) -> None:
    """Alertmanager orders a group's alerts by labels: the resolved one may come first. The group never stopped
    firing, so its incident stays open and the new alert joins it."""
    assert (
        post("/integrations/alertmanager", am_group([am_alert("web-a", "fp-a")]), key=am.key).status_code
        == 202
    )
    cycle()
    incident = Incident.objects.get()
    mixed = am_group(
        [
            am_alert("web-a", "fp-a", status="resolved", ends="2026-03-02T09:20:00Z"),
            am_alert("web-b", "fp-b"),
        ]
    )
    assert post("/integrations/alertmanager", mixed, key=am.key).status_code == 202
    cycle()
    assert Incident.objects.count() == 1
    incident.refresh_from_db()
    assert incident.resolved_at is None
    assert {a.dedup_key: (a.status, a.incident_id) for a in Alert.objects.all()} == {
        "fp-a": (AlertStatus.RESOLVED, incident.pk),
        "fp-b": (AlertStatus.TRIGGERED, incident.pk),
    }


def test_a_grafana_group_with_a_resolved_alert_first_keeps_its_incident(grafana: Hooked) -> None:
    first = gf_group([gf_alert("db-1", "gf-1")])
    assert post("/integrations/grafana", first, key=grafana.key).status_code == 202
    cycle()
    mixed = gf_group([gf_alert("db-1", "gf-1", status="resolved"), gf_alert("db-2", "gf-2")])
    assert post("/integrations/grafana", mixed, key=grafana.key).status_code == 202
    cycle()
    incident = Incident.objects.get()
    assert incident.resolved_at is None
    assert set(Alert.objects.values_list("incident_id", flat=True)) == {incident.pk}


def test_a_long_rule_url_does_not_cost_the_group(am: Hooked) -> None:
    """A long PromQL expression makes a long generatorURL; Alertmanager does not retry a 400, so refusing it
    would lose every alert of the group. It is kept in the raw payload and left out of the links."""
    long_url = "http://prometheus:9090/graph?g0.expr=" + "sum(rate(x%5B5m%5D))+or+" * 150
    assert len(long_url) > 3000
    alerts = [am_alert("web-a", "fp-a"), {**am_alert("web-b", "fp-b"), "generatorURL": long_url}]
    response = post("/integrations/alertmanager", am_group(alerts), key=am.key)
    assert response.status_code == 202, response.content
    cycle()
    long_one = Alert.objects.get(dedup_key="fp-b")
    assert [link["text"] for link in long_one.links] == ["Alertmanager"]
    assert long_one.events.get().payload["alert"]["generatorURL"] == long_url
    assert [link["text"] for link in Alert.objects.get(dedup_key="fp-a").links] == ["Source", "Alertmanager"]


def test_a_body_nested_too_deep_to_store_is_a_400_not_a_retry(am: Hooked) -> None:
    nested: dict[str, Any] = {"leaf": "x"}
    for _ in range(2000):
        nested = {"a": nested}
    alert = {**am_alert("web-a", "fp-a"), "annotations": {"summary": "deep", "x": nested}}
    response = post("/integrations/alertmanager", am_group([alert]), key=am.key)
    assert response.status_code == 400, response.content
    assert "deeper than 64 levels" in response.json()["detail"]
    _rejected("deeper")
    shallow = {
        **am_alert("web-b", "fp-b"),
        "annotations": {"summary": "ok", "x": {"a": {"b": {"c": [1, [2]]}}}},
    }
    assert post("/integrations/alertmanager", am_group([shallow]), key=am.key).status_code == 202


def test_other_methods_get_a_405_that_says_so(am: Hooked) -> None:
    response = Client().get("/integrations/alertmanager", headers={"Authorization": f"Bearer {am.key}"})
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert "send the event with POST" in response.json()["detail"]


def test_the_mail_log_hides_the_address_but_not_its_tag() -> None:
    local = "checkout-0469ae05e061c130"
    assert email.redacted(f"{local}+backup-nightly-job@alerts.example.com") == (
        "checkout-0469…+backup-nightly-job@alerts.example.com"
    )
    assert email.hide_local(f"{local}+db1") == "checkout-0469…+db1"
    assert "0469ae05e061c130" not in email.hide_local(f"{local.upper()}+x")


@pytest.mark.parametrize("path", ["/integrations/alertmanager/", "/v2/enqueue/", "/integrations/nosuchkind"])
def test_a_path_near_an_endpoint_gets_a_json_404(path: str) -> None:
    response = Client().post(path, data="{}", content_type="application/json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "no intake endpoint" in response.json()["detail"]


def test_a_key_in_a_mistyped_path_stays_out_of_the_answer_and_the_log(
    am: Hooked, caplog: pytest.LogCaptureFixture
) -> None:
    response = Client().post(
        f"/integrations/alertmanager/{am.key}/", data="{}", content_type="application/json"
    )
    assert response.status_code == 404
    assert am.key not in response.content.decode()
    assert am.key not in caplog.text


def test_a_nul_in_an_opsgenie_identifier_is_refused_not_retried(opsgenie: Hooked) -> None:
    """The fast path serves intake without Django's middleware: the view refuses a %00 itself (PostgreSQL cannot
    store it, and a failed commit would be a 503 the sender retries for ever)."""
    response = genie("/v2/alerts/web%0001/close?identifierType=alias", {}, opsgenie.key)
    assert response.status_code == 422, response.content
    assert "NUL" in response.json()["message"]
    event = _rejected("NUL")
    assert "\x00" not in event.reason
    kind = genie("/v2/alerts/web01/close?identifierType=al%00ias", {}, opsgenie.key)
    assert kind.status_code == 422


def test_a_stored_pattern_python_cannot_compile_does_not_stop_email_intake(world: World) -> None:
    """Patterns are checked when saved; one stored before that check (or by hand) is ignored, not a crash."""
    mail = make_integration(world, "email")
    Integration.objects.filter(pk=mail.integration.pk).update(email_dedup_pattern="x{99999999999}")
    mail.integration.refresh_from_db()
    assert email.classify("Disk full on db1", mail.integration) == ("trigger", "disk full on db1")
