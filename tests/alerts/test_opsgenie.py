"""Opsgenie Alert API, drop-in: bodies and headers exactly as Opsgenie clients (and Alertmanager's
``opsgenie_configs``) send them, answers in Opsgenie's shape."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client

from tests.alerts.conftest import Hooked, cycle, post
from warroom.alerts.models import Alert, AlertStatus, IntakeEvent
from warroom.incidents.models import Incident

pytestmark = pytest.mark.django_db

ALIAS = "f2b6c0b4e1a7d5c3b9a8e7f6d5c4b3a2f1e0d9c8b7a6958473625140a9b8c7d6"  # AM: sha256 of the groupKey


def genie(path: str, body: Any, key: str, *, scheme: str = "GenieKey") -> HttpResponse:
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return Client().post(
        path, data=data, content_type="application/json", headers={"Authorization": f"{scheme} {key}"}
    )


def create_body(**extra: Any) -> dict[str, Any]:
    """As the Opsgenie docs' create-alert example (and Alertmanager's notifier) send it."""
    return {
        "message": "An example alert message",
        "alias": "Life is too short for no alias",
        "description": "Every alert needs a description",
        "responders": [{"id": "4513b7ea-3b91-438f-b7e4-e3e54af9147c", "type": "team"}],
        "visibleTo": [{"name": "rocket_team", "type": "team"}],
        "actions": ["Restart", "AnExampleAction"],
        "tags": ["OverwriteQuietHours", "Critical"],
        "details": {"key1": "value1", "key2": "value2"},
        "entity": "An example entity",
        "priority": "P1",
        "source": "prometheus",
        **extra,
    }


def accepted(response: HttpResponse) -> str:
    assert response.status_code == 202, response.content
    data = response.json()
    assert data["result"] == "Request will be processed" and data["took"] == 0.0
    return str(uuid.UUID(data["requestId"]))


def test_create_acknowledge_close_by_alias(opsgenie: Hooked) -> None:
    accepted(genie("/v2/alerts", create_body(), opsgenie.key))
    event = IntakeEvent.objects.get()
    assert (event.action, event.dedup_key, event.status) == (
        "trigger",
        "Life is too short for no alias",
        "pending",
    )
    cycle()
    alert = Alert.objects.get()
    assert (alert.summary, alert.severity, alert.source) == (
        "An example alert message",
        "critical",
        "prometheus",
    )
    assert alert.details["description"] == "Every alert needs a description"
    assert alert.details["details"] == {"key1": "value1", "key2": "value2"}
    assert alert.details["tags"] == ["OverwriteQuietHours", "Critical"]
    incident = Incident.objects.get()
    assert (incident.impact, incident.urgency) == (1, 1)

    alias = "Life%20is%20too%20short%20for%20no%20alias"
    body = {"user": "Monitoring Script", "source": "AWS Lambda", "note": "Action executed via Alert API"}
    accepted(genie(f"/v2/alerts/{alias}/acknowledge?identifierType=alias", body, opsgenie.key))
    cycle()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED

    accepted(genie(f"/v2/alerts/{alias}/close?identifierType=alias", body, opsgenie.key))
    cycle()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED
    incident.refresh_from_db()
    assert incident.state == "resolved"


def test_alertmanager_style_create_and_close(opsgenie: Hooked) -> None:
    body = {
        "alias": ALIAS,
        "message": "[FIRING:1] HighErrorRate checkout",
        "description": "Alerts Firing:\nLabels:\n - alertname = HighErrorRate\n",
        "details": {"alertname": "HighErrorRate", "team": "checkout"},
        "source": "http://alertmanager:9093",
        "responders": [],
        "tags": [],
        "note": "",
        "priority": "",
    }
    body["priority"] = "P3"
    accepted(genie("/v2/alerts", body, opsgenie.key))
    cycle()
    assert Alert.objects.get().severity == "warning"
    # Alertmanager closes with a small JSON body; other clients send none at all.
    accepted(
        genie(f"/v2/alerts/{ALIAS}/close?identifierType=alias", {"source": "Alertmanager"}, opsgenie.key)
    )
    cycle()
    assert Alert.objects.get().status == "resolved"


def test_close_without_a_body(opsgenie: Hooked) -> None:
    accepted(genie("/v2/alerts", create_body(alias="a1"), opsgenie.key))
    response = Client().generic(
        "POST",
        "/v2/alerts/a1/close?identifierType=alias",
        headers={"Authorization": f"GenieKey {opsgenie.key}"},
    )
    accepted(response)
    cycle()
    assert Alert.objects.get().status == "resolved"


def test_dedup_by_alias_and_generated_alias(opsgenie: Hooked) -> None:
    accepted(genie("/v2/alerts", create_body(alias="disk-full"), opsgenie.key))
    accepted(genie("/v2/alerts", create_body(alias="disk-full"), opsgenie.key))
    request_id = accepted(genie("/v2/alerts", create_body(alias=None), opsgenie.key))
    cycle()
    assert sorted(Alert.objects.values_list("dedup_key", "count")) == sorted(
        [("disk-full", 2), (request_id, 1)]
    )
    # Without an alias, the returned requestId is the alias to close it by.
    accepted(genie(f"/v2/alerts/{request_id}/close?identifierType=alias", {}, opsgenie.key))
    cycle()
    assert Alert.objects.get(dedup_key=request_id).status == "resolved"


def test_long_alias_is_kept_hashed_and_still_closes(opsgenie: Hooked) -> None:
    alias = "a" * 400
    accepted(genie("/v2/alerts", create_body(alias=alias), opsgenie.key))
    accepted(genie(f"/v2/alerts/{alias}/close?identifierType=alias", {}, opsgenie.key))
    cycle()
    alert = Alert.objects.get()
    assert alert.dedup_key.startswith("sha256:") and alert.status == "resolved"


@pytest.mark.parametrize(
    ("priority", "severity"),
    [("P1", "critical"), ("P2", "error"), ("P3", "warning"), ("P4", "info"), ("P5", "info")],
)
def test_priority_maps_to_severity(opsgenie: Hooked, priority: str, severity: str) -> None:
    accepted(genie("/v2/alerts", create_body(priority=priority), opsgenie.key))
    cycle()
    assert Alert.objects.get().severity == severity


def test_priority_defaults_to_p3(opsgenie: Hooked) -> None:
    accepted(genie("/v2/alerts", {"message": "just a message"}, opsgenie.key))
    cycle()
    assert (Alert.objects.get().severity, Alert.objects.get().source) == ("warning", "opsgenie")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({**create_body(), "message": None}, "message is required"),
        ({k: v for k, v in create_body().items() if k != "message"}, "message is required"),
        (create_body(message="m" * 131), "message is at most 130 characters"),
        (create_body(message=12), "message must be a string"),
        (create_body(alias="a" * 513), "alias is at most 512"),
        (create_body(priority="P6"), "priority must be one of"),
        (create_body(details=["a"]), "details must be an object"),
        (create_body(tags="critical"), "tags must be a list of strings"),
    ],
)
def test_validation_errors_are_422_in_opsgenie_shape(
    opsgenie: Hooked, body: dict[str, Any], message: str
) -> None:
    response = genie("/v2/alerts", body, opsgenie.key)
    assert response.status_code == 422, response.content
    data = response.json()
    assert message in data["message"] and data["took"] == 0.0
    uuid.UUID(data["requestId"])
    event = IntakeEvent.objects.get()
    assert event.status == "rejected" and event.reason.startswith("HTTP 422")
    cycle()
    assert not Alert.objects.exists()


@pytest.mark.parametrize(
    ("raw", "content_type", "status"),
    [
        (b'{"message": "trunc', "application/json", 400),
        (b'{"message": "\xff"}', "application/json", 400),
        (b"[]", "application/json", 400),
        (b"message=hi", "application/x-www-form-urlencoded", 415),
        (b'{"message": "' + b"x" * (512 * 1024) + b'"}', "application/json", 413),
    ],
)
def test_unreadable_bodies(opsgenie: Hooked, raw: bytes, content_type: str, status: int) -> None:
    response = Client().post(
        "/v2/alerts",
        data=raw,
        content_type=content_type,
        headers={"Authorization": f"GenieKey {opsgenie.key}"},
    )
    assert response.status_code == status, response.content
    assert set(response.json()) == {"message", "took", "requestId"}
    assert IntakeEvent.objects.get().status == "rejected"


def test_tiny_ids_are_422(opsgenie: Hooked) -> None:
    response = genie("/v2/alerts/1791/close?identifierType=tiny", {}, opsgenie.key)
    assert response.status_code == 422
    assert "identifierType=tiny is not supported" in response.json()["message"]


@pytest.mark.parametrize("identifier_type", ["", "id"])
def test_id_is_the_dedup_key_of_an_alert_created_without_alias(
    opsgenie: Hooked, identifier_type: str
) -> None:
    # Opsgenie's default identifierType is id; in Warroom an alert's id is the requestId its create answered.
    request_id = genie("/v2/alerts", {"message": "no alias"}, opsgenie.key).json()["requestId"]
    cycle()
    query = f"?identifierType={identifier_type}" if identifier_type else ""
    accepted(genie(f"/v2/alerts/{request_id}/close{query}", {}, opsgenie.key))
    cycle()
    assert IntakeEvent.objects.order_by("-id").first().status == "processed"  # type: ignore[union-attr]


def test_follow_up_for_an_unknown_alias_is_accepted_and_ignored(opsgenie: Hooked) -> None:
    accepted(genie("/v2/alerts/nothing-open/close?identifierType=alias", {}, opsgenie.key))
    cycle()
    assert IntakeEvent.objects.get().status == "ignored"


def test_auth(opsgenie: Hooked, grafana: Hooked) -> None:
    # No key, or another scheme (Bearer, a bare key): 401 naming the GenieKey scheme.
    response = Client().post("/v2/alerts", data=json.dumps(create_body()), content_type="application/json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("GenieKey")
    assert "GenieKey" in response.json()["message"]
    assert genie("/v2/alerts", create_body(), opsgenie.key, scheme="Bearer").status_code == 401
    response = Client().post(
        "/v2/alerts",
        data=json.dumps(create_body()),
        content_type="application/json",
        headers={"Authorization": opsgenie.key},
    )
    assert response.status_code == 401
    # An unknown or revoked key: 404, as on every intake endpoint.
    assert genie("/v2/alerts", create_body(), "wr_ik_" + "A" * 43).status_code == 404
    assert genie("/v2/alerts", create_body(), "eb243592-faa2-4ba2-a551q-1afdf565c889").status_code == 404
    assert genie("/v2/alerts/x/close?identifierType=alias", {}, "wr_ik_nope").status_code == 404
    assert not IntakeEvent.objects.exists()
    # A key of another integration kind: refused and logged on that integration.
    assert genie("/v2/alerts", create_body(), grafana.key).status_code == 400
    assert IntakeEvent.objects.get(integration=grafana.integration).status == "rejected"
    # And the Opsgenie key on a Bearer endpoint.
    assert post("/integrations/grafana", {"version": "1"}, key=opsgenie.key).status_code == 400


def test_get_is_not_allowed(opsgenie: Hooked) -> None:
    assert Client().get("/v2/alerts").status_code == 405
