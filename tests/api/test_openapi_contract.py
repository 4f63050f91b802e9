"""/api/v1/openapi.json describes the bodies the endpoints take and the answers they give, and a bug in an
endpoint answers a JSON 500 of the house error shape.

The document names a schema component after its class (``NoteIn``), so two classes of one name overwrite each
other there: POST /incidents/{ref}/notes was documented as taking ``{"note": ...}`` (the major-incident
``NoteIn``) while it takes ``{"text": ...}``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any, get_args

import pytest
from django.core.exceptions import BadRequest, PermissionDenied
from django.test import Client
from pydantic import BaseModel

from tests.api.conftest import Clients, error
from tests.conftest import World
from warroom import urls
from warroom.api import api as ninja_api
from warroom.incidents import selectors as incident_selectors
from warroom.incidents.models import Incident


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
