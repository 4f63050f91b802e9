"""Request bodies are read strictly: a field the endpoint does not know is refused (422 naming it) instead of
being silently ignored (a typo such as ``delay_minuts`` used to answer 200 and change nothing), and ``true`` or
``false`` where a number is expected is refused instead of being read as 1 or 0. Nothing is written either way.

One representative create and update body of every app; the accounts bodies are another engineer's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db.models import Model

from tests.api.conftest import ApiClient, Clients, declare, error
from tests.conftest import World
from warroom.alerts.models import Integration
from warroom.audit.models import AuditEvent
from warroom.catalog.models import Service
from warroom.comms.models import Maintenance, StatusPage
from warroom.incidents.models import Incident, MajorIncidentSettings, SlaDefinition, Task
from warroom.notify.models import NotificationRule
from warroom.oncall.models import EscalationPolicy, EscalationStep
from warroom.paging.models import IncidentEscalation
from warroom.reviews.models import ActionItem


@dataclass
class Call:
    """A request that succeeds as it is: ``number`` names a field of ``body`` that takes a number."""

    client: ApiClient
    method: str
    path: str
    body: dict[str, Any]
    number: str
    rows: list[type[Model]]


def _service_create(api: Clients, world: World) -> Call:
    body = {"team": "team-a", "name": "Search", "tier": 2}
    return Call(api.alice, "POST", "/services", body, "tier", [Service])


def _service_update(api: Clients, world: World) -> Call:
    return Call(api.alice, "PATCH", "/services/checkout", {"tier": 2}, "tier", [Service])


def _incident_create(api: Clients, world: World) -> Call:
    body = {"title": "Disk full", "team": "team-a", "impact": 2}
    return Call(api.bob, "POST", "/incidents", body, "impact", [Incident])


def _incident_update(api: Clients, world: World) -> Call:
    incident = declare(world)
    return Call(api.bob, "PATCH", f"/incidents/{incident.ref}", {"impact": 1}, "impact", [Incident])


def _task_create(api: Clients, world: World) -> Call:
    incident = declare(world)
    # owner is an email or an id: true would have been user id 1
    body = {"title": "Roll back", "owner": world.bob.pk}
    return Call(api.bob, "POST", f"/incidents/{incident.ref}/tasks", body, "owner", [Task])


def _integration_create(api: Clients, world: World) -> Call:
    body = {"service": "checkout", "kind": "webhook", "name": "Hook", "rate_limit_per_minute": 30}
    return Call(api.alice, "POST", "/integrations", body, "rate_limit_per_minute", [Integration])


def _integration_update(api: Clients, world: World) -> Call:
    made = api.alice.post("/integrations", {"service": "checkout", "kind": "webhook", "name": "Hook"})
    assert made.status_code == 201, made.content
    path = f"/integrations/{made.json()['id']}"
    return Call(
        api.alice, "PATCH", path, {"rate_limit_per_minute": 30}, "rate_limit_per_minute", [Integration]
    )


def _contact_method(api: Clients) -> int:
    made = api.bob.post(
        "/me/contact-methods",
        {"kind": "webhook", "name": "Hook", "address": "https://hooks.example.com/bob", "send_code": False},
    )
    assert made.status_code == 201, made.content
    method_id: int = made.json()["id"]
    return method_id


def _rule_create(api: Clients, world: World) -> Call:
    body = {"contact_method": _contact_method(api), "urgency": "high", "delay_minutes": 5}
    return Call(api.bob, "POST", "/me/notification-rules", body, "delay_minutes", [NotificationRule])


def _rule_update(api: Clients, world: World) -> Call:
    made = api.bob.post("/me/notification-rules", {"contact_method": _contact_method(api), "urgency": "high"})
    assert made.status_code == 201, made.content
    path = f"/me/notification-rules/{made.json()['id']}"
    return Call(api.bob, "PATCH", path, {"delay_minutes": 5}, "delay_minutes", [NotificationRule])


def _steps(world: World) -> list[dict[str, Any]]:
    return [{"delay_minutes": 5, "targets": [{"kind": "user", "id": world.bob.pk}]}]


def _policy_create(api: Clients, world: World) -> Call:
    body = {"team": "team-a", "name": "Checkout", "repeat": 1, "steps": _steps(world)}
    return Call(api.alice, "POST", "/escalation-policies", body, "repeat", [EscalationPolicy, EscalationStep])


def _policy_update(api: Clients, world: World) -> Call:
    made = api.alice.post(
        "/escalation-policies", {"team": "team-a", "name": "Checkout", "steps": _steps(world)}
    )
    assert made.status_code == 201, made.content
    path = f"/escalation-policies/{made.json()['id']}"
    return Call(api.alice, "PATCH", path, {"repeat": 2}, "repeat", [EscalationPolicy, EscalationStep])


def _reassign(api: Clients, world: World) -> Call:
    incident = declare(world)
    body = {"user": world.bob.pk}
    path = f"/incidents/{incident.ref}/escalation/reassign"
    return Call(api.alice, "POST", path, body, "user", [IncidentEscalation])


def _sla_create(api: Clients, world: World) -> Call:
    body = {"name": "P1", "priority": 1, "response_minutes": 15, "warning_thresholds": [50, 90]}
    return Call(api.olivia, "POST", "/sla/definitions", body, "response_minutes", [SlaDefinition])


def _sla_update(api: Clients, world: World) -> Call:
    made = api.olivia.post("/sla/definitions", {"name": "P1", "priority": 1, "resolution_minutes": 240})
    assert made.status_code == 201, made.content
    path = f"/sla/definitions/{made.json()['id']}"
    return Call(api.olivia, "PATCH", path, {"resolution_minutes": 120}, "resolution_minutes", [SlaDefinition])


def _major_settings(api: Clients, world: World) -> Call:
    body = {"update_minutes": {"1": 30, "2": 60}}
    return Call(
        api.olivia, "PUT", "/major-incidents/settings", body, "update_minutes", [MajorIncidentSettings]
    )


def _action_item_create(api: Clients, world: World) -> Call:
    incident = declare(world)
    body = {"title": "Add an alert on disk", "incident": incident.ref, "priority": 2}
    return Call(api.bob, "POST", "/action-items", body, "priority", [ActionItem])


def _action_item_update(api: Clients, world: World) -> Call:
    incident = declare(world)
    made = api.bob.post("/action-items", {"title": "Add an alert on disk", "incident": incident.ref})
    assert made.status_code == 201, made.content
    path = f"/action-items/{made.json()['id']}"
    return Call(api.bob, "PATCH", path, {"priority": 1}, "priority", [ActionItem])


def _status_page_create(api: Clients, world: World) -> Call:
    body = {"team": "team-a", "name": "Acme status", "history_days": 30}
    return Call(api.alice, "POST", "/status-pages", body, "history_days", [StatusPage])


def _status_page_update(api: Clients, world: World) -> Call:
    made = api.alice.post("/status-pages", {"team": "team-a", "name": "Acme status", "slug": "acme"})
    assert made.status_code == 201, made.content
    return Call(api.alice, "PATCH", "/status-pages/acme", {"history_days": 30}, "history_days", [StatusPage])


def _page_maintenance_create(api: Clients, world: World) -> Call:
    made = api.alice.post("/status-pages", {"team": "team-a", "name": "Acme status", "slug": "acme"})
    assert made.status_code == 201, made.content
    component = api.alice.post("/status-pages/acme/components", {"name": "API"})
    assert component.status_code == 201, component.content
    body = {
        "title": "Database upgrade",
        "scheduled_start": "2030-01-01T10:00:00Z",
        "scheduled_end": "2030-01-01T11:00:00Z",
        "components": [component.json()["id"]],
    }
    return Call(api.alice, "POST", "/status-pages/acme/maintenance", body, "components", [Maintenance])


CALLS: dict[str, Callable[[Clients, World], Call]] = {
    "catalog create": _service_create,
    "catalog update": _service_update,
    "incidents create": _incident_create,
    "incidents update": _incident_update,
    "incident task create": _task_create,
    "alerts create": _integration_create,
    "alerts update": _integration_update,
    "notify create": _rule_create,
    "notify update": _rule_update,
    "oncall create": _policy_create,
    "oncall update": _policy_update,
    "paging reassign": _reassign,
    "sla create": _sla_create,
    "sla update": _sla_update,
    "major settings": _major_settings,
    "reviews create": _action_item_create,
    "reviews update": _action_item_update,
    "status page create": _status_page_create,
    "status page update": _status_page_update,
    "status page maintenance create": _page_maintenance_create,
}


def _snapshot(call: Call) -> list[Any]:
    """What a refused request must leave as it was: the rows it would write and the audit log."""
    rows: list[Any] = [list(model._default_manager.order_by("pk").values()) for model in call.rows]
    return [*rows, AuditEvent.objects.count()]


def _with_boolean(value: Any) -> Any:
    """``value`` with its number (or the first number inside it) replaced by ``true``."""
    if isinstance(value, list):
        return [True, *value[1:]]
    if isinstance(value, dict):
        first, *rest = value
        return {first: True, **{key: value[key] for key in rest}}
    return True


@pytest.mark.parametrize("name", list(CALLS))
def test_an_unknown_field_is_refused_naming_it_and_nothing_is_written(
    api: Clients, world: World, name: str
) -> None:
    call = CALLS[name](api, world)
    before = _snapshot(call)
    typo = call.number[:-1] + "x"  # delay_minutes → delay_minutex: the value the user meant to set
    body = {
        **{key: value for key, value in call.body.items() if key != call.number},
        typo: call.body[call.number],
    }
    response = call.client.call(call.method, call.path, body)
    assert response.status_code == 422, response.content
    errors = error(response)["errors"]
    assert [e["field"] for e in errors] == [typo]
    assert errors[0]["message"].startswith("unknown field")
    assert error(response)["detail"].startswith(f"{typo}: unknown field")
    assert _snapshot(call) == before


@pytest.mark.parametrize("name", list(CALLS))
def test_true_where_a_number_is_expected_is_refused_and_nothing_is_written(
    api: Clients, world: World, name: str
) -> None:
    call = CALLS[name](api, world)
    before = _snapshot(call)
    body = {**call.body, call.number: _with_boolean(call.body[call.number])}
    response = call.client.call(call.method, call.path, body)
    assert response.status_code == 422, response.content
    assert error(response)["errors"] == [
        {"field": call.number, "message": "a number is expected here, not true or false"}
    ]
    assert _snapshot(call) == before


@pytest.mark.parametrize("name", list(CALLS))
def test_the_same_body_without_the_mistake_is_taken(api: Clients, world: World, name: str) -> None:
    """The control of the two tests above: what they refuse is the mistake, not the rest of the body."""
    call = CALLS[name](api, world)
    before = _snapshot(call)
    response = call.client.call(call.method, call.path, call.body)
    assert response.status_code in (200, 201), response.content
    assert _snapshot(call) != before


def test_an_unknown_field_inside_a_list_item_is_named_with_its_place(api: Clients, world: World) -> None:
    step = {"delay_minuts": 5, "targets": [{"kind": "user", "id": world.bob.pk}]}
    response = api.alice.post("/escalation-policies", {"team": "team-a", "name": "P", "steps": [step]})
    assert response.status_code == 422, response.content
    assert [e["field"] for e in error(response)["errors"]] == ["steps.0.delay_minuts"]
    assert not EscalationPolicy.objects.exists()


def test_false_is_refused_in_an_optional_number_and_null_still_clears_it(api: Clients, world: World) -> None:
    made = api.olivia.post("/sla/definitions", {"name": "P1", "priority": 1, "response_minutes": 15})
    path = f"/sla/definitions/{made.json()['id']}"
    refused = api.olivia.patch(path, {"response_minutes": False, "resolution_minutes": 60})
    assert refused.status_code == 422
    assert [e["field"] for e in error(refused)["errors"]] == ["response_minutes"]
    assert SlaDefinition.objects.get().response_minutes == 15
    cleared = api.olivia.patch(path, {"response_minutes": None, "resolution_minutes": 60})
    assert cleared.status_code == 200, cleared.content
    assert SlaDefinition.objects.get().response_minutes is None


def test_numbers_written_as_text_are_still_read(api: Clients, world: World) -> None:
    """Only true and false are ambiguous: "2" for a tier is read as 2, as before."""
    response = api.alice.patch("/services/checkout", {"tier": "2"})
    assert response.status_code == 200, response.content
    assert Service.objects.get(slug="checkout").tier == 2


def test_booleans_are_still_booleans(api: Clients, world: World) -> None:
    response = api.bob.post("/incidents", {"title": "Disk full", "team": "team-a", "is_major": True})
    assert response.status_code == 201, response.content
    assert Incident.objects.get().is_major is True


@pytest.mark.parametrize("value", [1, 0, "yes", "true", "off"])
def test_a_boolean_field_takes_only_true_or_false(api: Clients, world: World, value: object) -> None:
    response = api.bob.post("/incidents", {"title": "Disk full", "team": "team-a", "is_private": value})
    assert response.status_code == 422, response.content
    assert response.json()["errors"] == [{"field": "is_private", "message": "true or false is expected here"}]
    assert not Incident.objects.exists()


def test_a_body_that_is_not_an_object_is_refused_everywhere(api: Clients, world: World) -> None:
    before = list(Service.objects.values())
    response = api.alice.patch("/services/checkout", [1, 2])
    assert response.status_code == 422, response.content
    assert error(response)["errors"] == [{"field": "body", "message": "the body must be a JSON object"}]
    assert list(Service.objects.values()) == before


def test_incident_patch_keeps_naming_read_only_fields_and_where_they_change(
    api: Clients, world: World
) -> None:
    incident = declare(world)
    response = api.bob.patch(f"/incidents/{incident.ref}", {"state": "closed", "titel": "x"})
    assert response.status_code == 422
    messages = {e["field"]: e["message"] for e in error(response)["errors"]}
    assert messages["state"].startswith("state cannot be changed with PATCH: move the incident with POST")
    assert messages["titel"].startswith("unknown field; PATCH changes title")


def test_query_parameters_the_endpoint_does_not_know_are_still_ignored(api: Clients, world: World) -> None:
    """Bodies only: a cache-busting ``?_=...`` on a list stays harmless."""
    response = api.bob.get("/incidents", _="1700000000", open="true")
    assert response.status_code == 200, response.content
    assert api.alice.get("/sla/definitions", _="1").status_code == 200
    assert api.alice.get("/alerts", _="1", status="triggered").status_code == 200


def test_the_openapi_document_says_bodies_take_no_other_fields(api: Clients) -> None:
    schemas = api.bob.get("/openapi.json").json()["components"]["schemas"]
    for name in (
        "ServiceIn",
        "RulePatch",
        "PolicyIn",
        "StepIn",
        "TargetIn",
        "DefinitionPatch",
        "IncidentPatch",
    ):
        assert schemas[name]["additionalProperties"] is False, name
    assert "additionalProperties" not in schemas["IncidentOut"]
