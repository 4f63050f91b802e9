"""Bad input gets its 4xx, never a 500, and nothing is written except the rejected-event log line (only when
the key is known)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from django.test import Client

from tests.alerts.conftest import Hooked, cycle, pd_trigger, post
from warroom.alerts.intake import MAX_BODY
from warroom.alerts.models import Alert, IntakeEvent
from warroom.incidents.models import Incident

pytestmark = pytest.mark.django_db


def nothing_pending() -> None:
    assert not IntakeEvent.objects.exclude(status="rejected").exists()
    cycle()
    assert not Alert.objects.exists()
    assert not Incident.objects.exists()


def without(data: dict[str, Any], name: str) -> dict[str, Any]:
    payload = dict(data["payload"])
    payload.pop(name)
    return {**data, "payload": payload}


def pd_cases(key: str) -> list[tuple[str, Any, int, str]]:
    good = pd_trigger(key, "k")
    huge = {**good, "payload": {**good["payload"], "custom_details": {"blob": "x" * MAX_BODY}}}
    return [
        ("missing summary", without(good, "summary"), 400, "payload.summary is required"),
        ("missing source", without(good, "source"), 400, "payload.source is required"),
        ("missing severity", without(good, "severity"), 400, "payload.severity must be one of"),
        (
            "bad severity",
            {**good, "payload": {**good["payload"], "severity": "fatal"}},
            400,
            "payload.severity",
        ),
        (
            "summary not text",
            {**good, "payload": {**good["payload"], "summary": 42}},
            400,
            "payload.summary must be a string",
        ),
        (
            "summary too long",
            {**good, "payload": {**good["payload"], "summary": "s" * 1025}},
            400,
            "at most 1024",
        ),
        ("payload not object", {**good, "payload": "disk full"}, 400, "payload is required"),
        ("no payload", {k: v for k, v in good.items() if k != "payload"}, 400, "payload is required"),
        ("bad action", {**good, "event_action": "close"}, 400, "event_action must be one of"),
        ("dedup too long", {**good, "dedup_key": "d" * 256}, 400, "dedup_key is at most 255"),
        ("dedup not text", {**good, "dedup_key": 7}, 400, "dedup_key must be a string"),
        (
            "ack without key",
            {"routing_key": key, "event_action": "acknowledge"},
            400,
            "dedup_key is required",
        ),
        (
            "resolve without key",
            {"routing_key": key, "event_action": "resolve"},
            400,
            "dedup_key is required",
        ),
        ("links wrong type", {**good, "links": {"href": "x"}}, 400, "links must be a list"),
        ("huge", huge, 413, ""),
    ]


@pytest.mark.parametrize("case", range(15))
def test_pagerduty_refusals(pd: Hooked, case: int) -> None:
    name, body, status, message = pd_cases(pd.key)[case]
    response = post("/v2/enqueue", body)
    assert response.status_code == status, (name, response.content)
    data = response.json()
    if status == 400:
        assert data["status"] == "invalid event" and data["message"] == "Event object is invalid"
        assert any(message in error for error in data["errors"]), (name, data)
        assert IntakeEvent.objects.get().status == "rejected"
    nothing_pending()


@pytest.mark.parametrize(
    ("raw", "content_type", "status"),
    [
        (b'{"routing_key": "wr_ik_x", "event_action": "trig', "application/json", 400),  # truncated
        (b" ", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b'{"a": NaN}', "application/json", 400),
        (b'{"a": 1e400}', "application/json", 400),  # infinity in Python, refused by PostgreSQL's jsonb
        (b'{"a": [-1E+999]}', "application/json", 400),
        (b'{"routing_key": "\xff\xfe"}', "application/json", 400),  # invalid UTF-8
        (b'{"summary": "\\u0000"}', "application/json", 400),
        (b'{"summary": "\\ud800"}', "application/json", 400),
        (b'{"payload": {"custom_details": {"a\\u0000b": 1}}}', "application/json", 400),  # NUL in a key
        (b'{"summary": "ok \\\\\\u0000"}', "application/json", 400),  # an escaped backslash, then NUL
        (b'{"summary": "ok", "x": ["\\udfff"]}', "application/json", 400),
        (b'{"summary": "tab\tinside"}', "application/json", 400),  # a raw control character in a string
        (b"routing_key=abc&event_action=trigger", "application/x-www-form-urlencoded", 415),
        (b'{"routing_key": "x"}', "text/plain", 415),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 400),
    ],
)
def test_unreadable_bodies(pd: Hooked, raw: bytes, content_type: str, status: int) -> None:
    response = Client().post("/v2/enqueue", data=raw, content_type=content_type)
    assert response.status_code == status, response.content
    assert response.json()["status"] == "invalid event" if status == 400 else True
    assert not IntakeEvent.objects.exists()
    nothing_pending()


def test_a_number_too_large_for_a_float_is_refused_naming_it(pd: Hooked, hook: Hooked) -> None:
    event = pd_trigger(pd.key, "huge")
    raw = json.dumps(event).replace(
        '"severity": "critical"', '"severity": "critical", "custom_details": {"k": 1e400}'
    )
    assert "1e400" in raw
    response = Client().post("/v2/enqueue", data=raw, content_type="application/json")
    assert response.status_code == 400, response.content
    assert any("the number 1e400 is too large to store" in error for error in response.json()["errors"])
    webhook = Client().post(
        "/integrations/webhook",
        data='{"summary": "x", "details": {"ratio": 2e308}}',
        content_type="application/json",
        headers={"Authorization": f"Bearer {hook.key}"},
    )
    assert webhook.status_code == 400
    assert not Alert.objects.exists()
    nothing_pending()


def test_escapes_that_are_text_are_accepted_as_text(pd: Hooked) -> None:
    """A backslash written before u0000 (a Windows path), and ordinary escapes, are text, not NUL."""
    raw = (
        b'{"routing_key": "%s", "event_action": "trigger", "dedup_key": "escapes", "payload": '
        b'{"summary": "C:\\\\u0000\\\\backup caf\\u00e9 \\ud83d\\udd25", "source": "db1", "severity": "error"}}'
        % pd.key.encode()
    )
    response = Client().post("/v2/enqueue", data=raw, content_type="application/json")
    assert response.status_code == 202, response.content
    assert IntakeEvent.objects.get().fields["summary"] == "C:\\u0000\\backup caf\u00e9 \U0001f525"


def test_unknown_routing_key_is_404_without_saying_more(pd: Hooked) -> None:
    for key in ["wr_ik_" + "A" * 43, "R0123456789abcdef0123456789abcde", pd.key + "x"]:
        response = post("/v2/enqueue", pd_trigger(key, "k"))
        assert response.status_code == 404
        assert response.json()["errors"] == ["routing_key is not an active integration key"]
    missing = pd_trigger(pd.key)
    missing.pop("routing_key")
    response = post("/v2/enqueue", missing)
    assert response.status_code == 400
    assert "routing_key is required (a string)" in response.json()["errors"]
    assert not IntakeEvent.objects.exists()


def test_key_of_another_kind_is_refused_and_logged(pd: Hooked, am: Hooked) -> None:
    response = post("/v2/enqueue", pd_trigger(am.key, "k"))
    assert response.status_code == 400
    assert IntakeEvent.objects.get(integration=am.integration).status == "rejected"
    response = post("/integrations/webhook", {"summary": "x"}, key=pd.key)
    assert response.status_code == 400
    nothing_pending()


@pytest.mark.parametrize("path", ["/integrations/alertmanager", "/integrations/webhook"])
def test_keyed_endpoints_refusals(am: Hooked, hook: Hooked, path: str) -> None:
    key = am.key if "alertmanager" in path else hook.key
    response = post(path, {"summary": "x"})
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert post(path, {"summary": "x"}, key="wr_ik_nope").status_code == 404
    assert post(path + "/wr_ik_nope", {"summary": "x"}).status_code == 404
    assert post(path, {"summary": "x"}, key="Basic abc").status_code == 404
    assert not IntakeEvent.objects.exists()

    # With a known key, refusals are kept in the event log with the reason (and a capped copy of the body).
    response = post(path, b'{"version": "4", "alerts": [', key=key)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    response = post(path, "x" * (MAX_BODY + 1), key=key)
    assert response.status_code == 413
    response = post(path, '{"a": 1}', key=key, content_type="text/plain")
    assert response.status_code == 415
    rejected = list(IntakeEvent.objects.order_by("id"))
    assert [e.status for e in rejected] == ["rejected"] * 3
    assert rejected[0].payload == {"raw": '{"version": "4", "alerts": ['}
    assert rejected[1].reason.startswith("HTTP 413")
    nothing_pending()


def test_get_is_not_allowed(pd: Hooked) -> None:
    assert Client().get("/v2/enqueue").status_code == 405
    assert Client().get("/integrations/alertmanager").status_code == 405


def test_a_key_in_the_path_never_reaches_the_logs(am: Hooked, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    post(f"/integrations/alertmanager/{am.key}", b"{nope")
    post(f"/integrations/alertmanager/{am.key}x", json.dumps({"version": "4"}))
    Client().get(f"/integrations/alertmanager/{am.key}")
    Client().post(f"/integrations/webhook/{am.key}", data="{}", content_type="application/json")
    assert caplog.records, "the refusals are logged"
    assert am.key not in caplog.text
    assert am.key[6:20] not in caplog.text
    assert "/integrations/alertmanager/… -> 405" in caplog.text


def test_intake_needs_no_csrf_token(pd: Hooked, am: Hooked) -> None:
    client = Client(enforce_csrf_checks=True)
    body = json.dumps(pd_trigger(pd.key, "k"))
    assert client.post("/v2/enqueue", data=body, content_type="application/json").status_code == 202
    response = client.post(
        f"/integrations/alertmanager/{am.key}",
        data=json.dumps({"version": "4", "groupKey": "{}:{}", "alerts": []}),
        content_type="application/json",
    )
    assert response.status_code == 202
