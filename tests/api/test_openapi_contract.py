"""/api/v1/openapi.json describes the bodies the endpoints take and the answers they give, errors included, and a
bug in an endpoint answers a JSON 500 of the house error shape.

The document declared no error at all (a schemathesis run called every 4xx "undocumented"): now every operation
declares the ones it can answer, with the one ``Error`` schema the API really answers, and a real bad request's
body is checked against it. Every date, date-time and time of day a request carries refuses a number, and no
time of day is documented as ``format: time`` (which requires an offset).

The document names a schema component after its class (``NoteIn``), so two classes of one name overwrite each
other there: POST /incidents/{ref}/notes was documented as taking ``{"note": ...}`` (the major-incident
``NoteIn``) while it takes ``{"text": ...}``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import date, datetime, time
from typing import Any, get_args

import pytest
from django.core.exceptions import BadRequest, PermissionDenied
from django.test import Client
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from tests.api.conftest import ApiClient, Clients, error
from tests.conftest import World
from tests.notify.receivers import smtp_server
from warroom import api as api_module
from warroom import urls
from warroom.api import api as ninja_api
from warroom.incidents import selectors as incident_selectors
from warroom.incidents.models import Incident
from warroom.lib import apitypes
from warroom.lib.apitypes import options_of


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    """The pydantic models an annotation refers to: itself, or inside ``list[...]``, ``X | None``, ``dict``..."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    for arg in get_args(annotation):
        yield from _models_in(arg)


def _operation_models() -> Iterator[type[BaseModel]]:
    """The models each documented operation reads its parameters and body with, and answers with: ninja's
    wrappers (``BodyParams``, ``NinjaResponseSchema``...) included, they are unwrapped below."""
    for router in ninja_api._get_bound_routers():
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                if not operation.include_in_schema:
                    continue
                yield from operation.models
                for model in operation.response_models.values():
                    if isinstance(model, type) and issubclass(model, BaseModel):
                        yield model


def _is_ninja_wrapper(model: type[BaseModel]) -> bool:
    return not model.__module__.startswith("warroom.")


def api_schema_classes() -> dict[str, set[type[BaseModel]]]:
    """Every schema class the API uses, reached from its operations through the fields, by class name."""
    by_name: dict[str, set[type[BaseModel]]] = {}
    seen: set[type[BaseModel]] = set()
    pending = list(_operation_models())
    while pending:
        model = pending.pop()
        if model in seen:
            continue
        seen.add(model)
        if not _is_ninja_wrapper(model):
            by_name.setdefault(model.__name__, set()).add(model)
        for field in model.model_fields.values():
            pending.extend(_models_in(field.annotation))
    return by_name


def _json_names(model: type[BaseModel]) -> set[str]:
    names = {field.alias or name for name, field in model.model_fields.items()}
    return names | set(model.model_computed_fields)


def _where(model: type[BaseModel]) -> str:
    return f"{model.__module__}.{model.__qualname__}"


def test_no_two_schema_classes_share_a_name() -> None:
    classes = api_schema_classes()
    assert "NoteIn" in classes and "IncidentOut" in classes  # the walk reaches bodies and answers
    shared = {name: sorted(_where(m) for m in models) for name, models in classes.items() if len(models) > 1}
    assert shared == {}, f"schema classes that overwrite each other in /api/v1/openapi.json: {shared}"


@pytest.fixture
def components(api: Clients) -> dict[str, Any]:
    response = api.bob.get("/openapi.json")
    assert response.status_code == 200
    schemas: dict[str, Any] = response.json()["components"]["schemas"]
    return schemas


def test_each_documented_schema_has_the_fields_of_its_class(components: dict[str, Any]) -> None:
    checked = 0
    for name, models in api_schema_classes().items():
        if name not in components:
            continue
        (model,) = models
        documented = set(components[name].get("properties", {}))
        assert documented == _json_names(model), (
            f"{name} documents the fields of another class ({_where(model)})"
        )
        checked += 1
    assert checked > 100


def _operation(api: Clients, path: str, method: str) -> dict[str, Any]:
    document = api.bob.get("/openapi.json").json()
    operation: dict[str, Any] = document["paths"]["/api/v1" + path][method]
    return operation


def _resolve(components: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """A schema with its ``$ref`` followed, and the non-null choice of an ``anyOf`` (``X | None``)."""
    options = [s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]
    (one,) = options
    if "$ref" in one:
        resolved: dict[str, Any] = components[one["$ref"].rsplit("/", 1)[-1]]
        return resolved
    return one


def test_adding_a_note_is_documented_with_the_field_it_takes(
    api: Clients, world: World, incident: Incident, components: dict[str, Any]
) -> None:
    operation = _operation(api, "/incidents/{ref}/notes", "post")
    body = _resolve(components, operation["requestBody"]["content"]["application/json"]["schema"])
    assert set(body["properties"]) == {"text"}
    assert body["required"] == ["text"]

    # what the document says is what the endpoint takes
    response = api.bob.post(f"/incidents/{incident.ref}/notes", {"text": "Rolled back the deploy"})
    assert response.status_code == 201, response.content
    refused = api.bob.post(f"/incidents/{incident.ref}/notes", {"note": "Rolled back the deploy"})
    assert refused.status_code == 422


def test_promoting_to_major_is_documented_with_its_own_note(api: Clients, components: dict[str, Any]) -> None:
    operation = _operation(api, "/incidents/{ref}/major", "post")
    body = _resolve(components, operation["requestBody"]["content"]["application/json"]["schema"])
    assert "note" in body["properties"] and "text" not in body["properties"]


def test_escalation_pages_are_documented_as_pages_sent_to_people(
    api: Clients, components: dict[str, Any]
) -> None:
    operation = _operation(api, "/incidents/{ref}/escalation", "get")
    escalation = _resolve(components, operation["responses"]["200"]["content"]["application/json"]["schema"])
    page = _resolve(components, escalation["properties"]["pages"]["items"])
    assert set(page["properties"]) == {"user", "name", "via", "step", "round", "reachable", "note", "at"}


def test_same_named_resources_are_documented_apart(api: Clients, components: dict[str, Any]) -> None:
    def answer(path: str, method: str = "get", status: str = "200") -> set[str]:
        operation = _operation(api, path, method)
        schema = _resolve(components, operation["responses"][status]["content"]["application/json"]["schema"])
        if "items" in schema.get("properties", {}):  # a page of a list
            schema = _resolve(components, schema["properties"]["items"]["items"])
        return set(schema["properties"])

    assert answer("/categories") == {"id", "name", "subcategories"}
    assert "slug" in answer("/factor-categories")
    assert "steps" in answer("/escalation-policies")
    assert "steps" in answer("/escalation-policies/{policy_id}", "patch")
    assert "due_days" in answer("/postmortem-policy")
    assert "sections" in answer("/postmortem-templates")
    assert "sections" not in answer("/update-templates")
    assert "sections" in answer("/postmortem-templates", "post", "201")


# ---------------------------------------------------------------------------------------------------------------
# 500s


def test_a_bug_in_an_endpoint_answers_json_and_is_logged(
    api: Clients, world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("role types exploded")

    # a bug in code the endpoint calls (simulated: the selector raises)
    monkeypatch.setattr(incident_selectors, "role_types", broken)
    api.bob.client = Client(raise_request_exception=False)  # answer as a server does, not raise into the test

    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = api.bob.get("/roles")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    body = error(response)
    assert body["code"] == "server_error"
    assert body["errors"] == []
    assert "logged" in body["detail"]
    assert "half-saved" not in body["detail"] and "role types exploded" not in body["detail"]

    logged = [r for r in caplog.records if r.name == "django.request" and r.levelno == logging.ERROR]
    assert len(logged) == 1, [r.getMessage() for r in logged]
    assert logged[0].getMessage() == "Internal Server Error: /api/v1/roles"
    assert logged[0].exc_info is not None and "role types exploded" in str(logged[0].exc_info[1])


def test_a_bug_after_a_change_was_saved_answers_json_without_promising_nothing_was_saved(
    api: Clients, world: World, incident: Incident, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("rendering the incident failed")

    # the service saves the new title; rendering the answer then fails (simulated: the selector raises)
    monkeypatch.setattr(incident_selectors, "incident_detail", broken)
    api.bob.client = Client(raise_request_exception=False)

    response = api.bob.patch(f"/incidents/{incident.ref}", {"title": "Checkout is down"})

    assert response.status_code == 500
    body = error(response)
    assert body["code"] == "server_error"
    assert "nothing" not in body["detail"].lower() and "half-saved" not in body["detail"]
    assert "check the current state" in body["detail"]
    incident.refresh_from_db()
    assert incident.title == "Checkout is down"  # why the answer cannot promise that nothing changed


@pytest.mark.parametrize(
    ("refusal", "status", "code"),
    [(PermissionDenied("not for you"), 403, "forbidden"), (BadRequest("bad header"), 400, "invalid")],
)
def test_django_refusals_keep_their_status_in_json(
    api: Clients,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    refusal: Exception,
    status: int,
    code: str,
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise refusal

    monkeypatch.setattr(incident_selectors, "role_types", refuse)
    api.bob.client = Client(raise_request_exception=False)

    response = api.bob.get("/roles")

    assert response.status_code == status
    assert error(response)["code"] == code


def test_an_error_outside_the_api_handlers_under_api_v1_is_json_too(rf: Any) -> None:
    """What the API's own handler cannot catch (a middleware, the URL map) reaches Django's handler500: under
    /api/v1/ it answers the API's JSON 500, elsewhere the console's page, which promises nothing it cannot."""
    api_answer = urls.server_error(rf.get("/api/v1/incidents"))
    assert api_answer.status_code == 500 and api_answer["Content-Type"] == "application/json"
    assert json.loads(api_answer.content)["code"] == "server_error"
    page = urls.server_error(rf.get("/incidents/"))
    assert page.status_code == 500 and b"logged it" in page.content and b"half-saved" not in page.content


# ---------------------------------------------------------------------------------------------------------------
# error answers: declared on every operation, with the one body the API really answers

CHANGES = {"post", "put", "patch", "delete"}


@pytest.fixture
def document(api: Clients) -> dict[str, Any]:
    response = api.bob.get("/openapi.json")
    assert response.status_code == 200
    answer: dict[str, Any] = response.json()
    return answer


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def test_every_operation_declares_the_errors_it_can_answer(document: dict[str, Any]) -> None:
    checked = 0
    for path, method, operation in _operations(document):
        declared = set(operation["responses"])
        where = f"{method.upper()} {path}"
        assert {"400", "401", "500"} <= declared, where
        if method in CHANGES:
            assert {"403", "409"} <= declared, where  # roles, read-only tokens; state, concurrent changes
        if "{" in path:
            assert "404" in declared, where
        elif method == "get" and path != "/api/v1/me/working-hours":
            assert "404" not in declared, f"{where}: a list answers a filter naming nothing with a 400"
        if "requestBody" in operation:
            assert {"413", "422"} <= declared, where
        for status in declared - {"200", "201", "202", "204"}:
            content = operation["responses"][status]["content"]["application/json"]["schema"]
            assert content == {"$ref": "#/components/schemas/Error"}, (where, status)
            assert operation["responses"][status]["description"], (where, status)
        checked += 1
    assert checked > 200


def test_reads_that_check_roles_and_throttled_operations_say_so(document: dict[str, Any]) -> None:
    for method, path in api_module.ROLE_CHECKED_READS:
        assert "403" in document["paths"]["/api/v1" + path][method.lower()]["responses"], path
    for method, path in api_module.RATE_LIMITED:
        assert "429" in document["paths"]["/api/v1" + path][method.lower()]["responses"], path
    assert "403" not in document["paths"]["/api/v1/incidents"]["get"]["responses"]
    assert "429" not in document["paths"]["/api/v1/incidents"]["post"]["responses"]


def _conforms(document: dict[str, Any], schema: dict[str, Any], value: Any, where: str = "body") -> None:
    """A small JSON Schema check, enough for the error body: $ref, objects, arrays and strings."""
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    kind = schema.get("type")
    if kind == "object":
        assert isinstance(value, dict), where
        assert set(schema["required"]) <= set(value), (where, value)
        if schema.get("additionalProperties") is False:
            assert set(value) <= set(schema["properties"]), (where, value)
        for key, item in value.items():
            _conforms(document, schema["properties"][key], item, f"{where}.{key}")
    elif kind == "array":
        assert isinstance(value, list), where
        for i, item in enumerate(value):
            _conforms(document, schema["items"], item, f"{where}.{i}")
    elif kind == "string":
        assert isinstance(value, str), where


def test_the_error_component_is_the_error_body(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    error_schema, field_error = schemas["Error"], schemas["FieldError"]
    assert error_schema["required"] == ["detail", "code", "errors"]
    assert error_schema["additionalProperties"] is False
    assert error_schema["properties"]["errors"]["items"] == {"$ref": "#/components/schemas/FieldError"}
    assert field_error["required"] == ["field", "message"] and field_error["additionalProperties"] is False
    body = api_module.error_body(
        "the title is required", "invalid", [{"field": "title", "message": "required"}]
    )
    _conforms(document, {"$ref": "#/components/schemas/Error"}, body)


def test_real_error_answers_match_the_documented_error_for_their_operation(
    api: Clients, world: World, incident: Incident, document: dict[str, Any], settings: Any
) -> None:
    made = api.bob.post("/tokens", {"name": "short-lived"})
    with smtp_server() as inbox:  # a verification code goes out by email: the second, too soon, is a 429
        settings.MAILERS = {
            **settings.MAILERS,
            "notifications": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": inbox.port, "timeout": 5},
            },
        }
        method_made = api.bob.post(
            "/me/contact-methods", {"kind": "email", "name": "Work", "address": "b@x.org"}
        )
    assert made.status_code == 201 and method_made.status_code == 201, method_made.content
    api.bob.delete(f"/tokens/{made.json()['id']}")
    anonymous = ApiClient(None)
    cases: list[tuple[str, str, Any, int]] = [
        ("get", "/incidents", lambda: api.bob.get("/incidents", service="nope"), 400),
        ("get", "/incidents", lambda: api.bob.get("/incidents", opened_before="0.5"), 400),
        ("get", "/incidents", lambda: anonymous.get("/incidents"), 401),
        (
            "patch",
            "/incidents/{ref}",
            lambda: api.dave.patch(f"/incidents/{incident.ref}", {"title": "x"}),
            403,
        ),
        ("get", "/audit", lambda: api.bob.get("/audit"), 403),
        ("get", "/incidents/{ref}", lambda: api.charlie.get(f"/incidents/{incident.ref}"), 404),
        ("get", "/me/working-hours", lambda: api.bob.get("/me/working-hours"), 404),
        ("delete", "/tokens/{token_id}", lambda: api.bob.delete(f"/tokens/{made.json()['id']}"), 409),
        ("post", "/incidents", lambda: api.bob.post("/incidents", raw="[" + "1," * 600_000 + "1]"), 413),
        ("post", "/incidents", lambda: api.bob.post("/incidents", {"title": "x", "titel": "y"}), 422),
        (
            "post",
            "/me/contact-methods/{method_id}/send-verification",
            lambda: api.bob.post(f"/me/contact-methods/{method_made.json()['id']}/send-verification"),
            429,
        ),
    ]
    for method, path, call, status in cases:
        operation = document["paths"]["/api/v1" + path][method]
        response = call()
        assert response.status_code == status, (method, path, response.status_code, response.content[:200])
        assert str(status) in operation["responses"], f"{method.upper()} {path} does not declare {status}"
        schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
        _conforms(document, schema, response.json())


def test_no_time_of_day_is_documented_as_format_time(document: dict[str, Any]) -> None:
    """``format: time`` is RFC 3339's full-time, with an offset: the API's times of day have none."""

    def formats(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            if isinstance(node.get("format"), str):
                yield node["format"]
            for child in node.values():
                yield from formats(child)
        elif isinstance(node, list):
            for child in node:
                yield from formats(child)

    found = set(formats(document))
    assert "date-time" in found and "time" not in found, found


# ---------------------------------------------------------------------------------------------------------------
# every date, date-time and time of day the API takes refuses a number


def _input_classes() -> set[type[BaseModel]]:
    """The schema classes the operations read parameters and bodies with (not their answers)."""
    seen: set[type[BaseModel]] = set()
    pending: list[type[BaseModel]] = []
    for router in ninja_api._get_bound_routers():
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                pending.extend(operation.models)
    while pending:
        model = pending.pop()
        if model in seen:
            continue
        seen.add(model)
        for field in model.model_fields.values():
            pending.extend(_models_in(field.annotation))
    return {m for m in seen if not _is_ninja_wrapper(m)}


def _takes_a_time(annotation: Any) -> bool:
    return any(o in (datetime, date, time) for o in options_of(annotation))


def test_every_date_or_time_field_of_a_request_refuses_a_number() -> None:
    checked = []
    for model in _input_classes():
        for name, field in model.model_fields.items():
            if not _takes_a_time(field.annotation):
                continue
            key = field.alias or name
            for number in (1700000000, "1700000000", 0.5, True):
                with pytest.raises(PydanticValidationError) as refused:
                    model.model_validate({key: number})
                kinds = {e["type"] for e in refused.value.errors() if e["loc"][:1] == (key,)}
                assert kinds == {apitypes.NOT_ISO}, (_where(model), key, number, kinds)
            checked.append(f"{model.__name__}.{key}")
    # bodies and query strings, typed with warroom.lib.apitypes or plainly (status page maintenance)
    assert {"IncidentQuery.opened_before", "WindowIn.starts_at", "MaintenanceIn.scheduled_start"} <= set(
        checked
    )
    assert {
        "AnalyticsQuery.start",
        "WorkingHoursIn.start",
        "RestrictionIn.start",
        "ActionItemIn.due_date",
    } <= set(checked)
