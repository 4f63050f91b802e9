"""Bad input gets a clear 4xx naming the field, with the exact status and message; never a 500."""

from __future__ import annotations

import pytest

from tests.api.conftest import Clients, declare, error
from tests.conftest import World
from warroom.incidents.models import Incident


def _fields(response: object) -> list[str]:
    return [e["field"] for e in error(response)["errors"]]  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------------------
# schema: missing fields and wrong types are 422 naming the field


def test_missing_title_is_422(api: Clients) -> None:
    response = api.bob.post("/incidents", {"team": "team-a"})
    assert response.status_code == 422
    assert error(response) == {
        "detail": "title: Field required",
        "code": "invalid",
        "errors": [{"field": "title", "message": "Field required"}],
    }


def test_empty_body_is_422(api: Clients) -> None:
    response = api.bob.post("/incidents")
    assert response.status_code == 422
    assert error(response)["code"] == "invalid"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"title": 123}, "title", "Input should be a valid string"),
        (
            {"title": "x", "impact": "high"},
            "impact",
            "Input should be a valid integer, unable to parse string as an integer",
        ),
        (
            {"title": "x", "is_major": "perhaps"},
            "is_major",
            "true or false is expected here",
        ),
        ({"title": "x", "services": "checkout"}, "services", "Input should be a valid list"),
        ({"title": "x", "description": ["a"]}, "description", "Input should be a valid string"),
    ],
)
def test_wrong_types_are_422(api: Clients, body: dict[str, object], field: str, message: str) -> None:
    response = api.bob.post("/incidents", {"team": "team-a", **body})
    assert response.status_code == 422
    assert error(response)["errors"] == [{"field": field, "message": message}]
    assert error(response)["detail"] == f"{field}: {message}"
    assert not Incident.objects.exists()


def test_body_that_is_not_an_object_is_422(api: Clients) -> None:
    response = api.bob.post("/incidents", ["title"])
    assert response.status_code == 422


def test_missing_transition_target_is_422(api: Clients, world: World) -> None:
    incident = declare(world)
    response = api.bob.post(f"/incidents/{incident.ref}/transition", {})
    assert response.status_code == 422
    assert _fields(response) == ["to"]


def test_missing_note_text_is_422(api: Clients, world: World) -> None:
    incident = declare(world)
    response = api.bob.post(f"/incidents/{incident.ref}/notes", {"txt": "typo"})
    assert response.status_code == 422
    assert _fields(response) == ["text", "txt"]  # the missing field, and the typo as an unknown one


def test_non_numeric_task_id_is_422(api: Clients, world: World) -> None:
    incident = declare(world)
    response = api.bob.patch(f"/incidents/{incident.ref}/tasks/abc", {"done": True})
    assert response.status_code == 422
    assert _fields(response) == ["task_id"]


# ---------------------------------------------------------------------------------------------------------------
# values the services refuse: 400 naming the field


def test_oversized_title_is_400(api: Clients) -> None:
    response = api.bob.post("/incidents", {"title": "x" * 201, "team": "team-a"})
    assert response.status_code == 400
    assert error(response) == {
        "detail": "the title is at most 200 characters (got 201)",
        "code": "invalid",
        "errors": [{"field": "title", "message": "the title is at most 200 characters (got 201)"}],
    }
    assert not Incident.objects.exists()


def test_oversized_description_is_400(api: Clients, world: World) -> None:
    response = api.bob.post("/incidents", {"title": "ok", "team": "team-a", "description": "d" * 50_001})
    assert response.status_code == 400
    assert error(response)["errors"] == [
        {"field": "description", "message": "description is at most 50000 characters (got 50001)"}
    ]
    incident = declare(world)
    patch = api.bob.patch(f"/incidents/{incident.ref}", {"description": "d" * 50_001})
    assert patch.status_code == 400
    assert _fields(patch) == ["description"]


def test_oversized_note_is_400(api: Clients, world: World) -> None:
    incident = declare(world)
    response = api.bob.post(f"/incidents/{incident.ref}/notes", {"text": "n" * 20_001})
    assert response.status_code == 400
    assert error(response)["errors"] == [
        {"field": "text", "message": "text is at most 20000 characters (got 20001)"}
    ]


def test_blank_title_is_400(api: Clients) -> None:
    response = api.bob.post("/incidents", {"title": "   ", "team": "team-a"})
    assert response.status_code == 400
    assert error(response)["errors"] == [{"field": "title", "message": "the title must not be empty"}]


@pytest.mark.parametrize(("field", "value"), [("impact", 4), ("urgency", 0)])
def test_out_of_range_levels_are_400(api: Clients, field: str, value: int) -> None:
    response = api.bob.post("/incidents", {"title": "x", "team": "team-a", field: value})
    assert response.status_code == 400
    assert error(response)["errors"] == [
        {"field": field, "message": f"{field} must be 1 (High), 2 (Medium) or 3 (Low)"}
    ]


def test_null_for_required_fields_on_patch_is_400(api: Clients, world: World) -> None:
    incident = declare(world)
    for body, field in (
        ({"title": None}, "title"),
        ({"impact": None}, "impact"),
        ({"is_major": None}, "is_major"),
    ):
        response = api.bob.patch(f"/incidents/{incident.ref}", body)
        assert response.status_code == 400, body
        assert _fields(response) == [field]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"team": "nope"}, "team", "team: team 'nope' not found"),
        ({"team": 99999}, "team", "team: team 99999 not found"),
        ({"services": ["nope"]}, "services", "services: service 'nope' not found"),
        ({"assignee": "nobody@example.com"}, "assignee", "assignee: user 'nobody@example.com' not found"),
        ({"assignee": 99999}, "assignee", "assignee: user 99999 not found"),
        ({"category": "Weather"}, "category", "category: category 'Weather' not found"),
        (
            {"category": "Application", "subcategory": "Replication"},
            "subcategory",
            "subcategory: subcategory 'Replication' not found in category 'Application'",
        ),
        (
            {"subcategory": "Performance"},
            "subcategory",
            "subcategory: 'Performance' exists in several categories; name the category too",
        ),
        ({"parent": "INC9999999"}, "parent", "parent: incident INC9999999 not found"),
    ],
)
def test_unknown_references_in_the_body_are_400(
    api: Clients, body: dict[str, object], field: str, message: str
) -> None:
    response = api.bob.post("/incidents", {"title": "x", "team": "team-a", **body})
    assert response.status_code == 400
    assert error(response)["errors"] == [{"field": field, "message": message}]
    assert not Incident.objects.exists()


def test_assignee_must_be_a_responder_of_the_team(api: Clients) -> None:
    response = api.bob.post("/incidents", {"title": "x", "team": "team-a", "assignee": "dave@example.com"})
    assert response.status_code == 400
    assert error(response)["errors"] == [
        {
            "field": "assignee",
            "message": "Dave Observer cannot be the assignee: they are not a responder in Team A",
        }
    ]


def test_subcategory_must_belong_to_category(api: Clients) -> None:
    categories = api.bob.get("/categories").json()["items"]
    database_sub = next(c for c in categories if c["name"] == "Database")["subcategories"][0]
    response = api.bob.post(
        "/incidents",
        {"title": "x", "team": "team-a", "category": "Application", "subcategory": database_sub["id"]},
    )
    assert response.status_code == 400
    assert _fields(response) == ["subcategory"]


@pytest.mark.parametrize("ref", ["INC9999999", "9999999", "garbage", "INC", "1" * 40])
def test_unknown_incident_in_path_is_404(api: Clients, ref: str) -> None:
    response = api.bob.get(f"/incidents/{ref}")
    assert response.status_code == 404
    assert error(response) == {"detail": f"incident {ref} not found", "code": "not_found", "errors": []}


# ---------------------------------------------------------------------------------------------------------------
# the state machine: 409 naming both states


def test_illegal_transition_is_409_naming_both_states(api: Clients, world: World) -> None:
    incident = declare(world)
    response = api.bob.post(f"/incidents/{incident.ref}/transition", {"to": "closed"})
    assert response.status_code == 409
    message = (
        f"{incident.ref}: cannot move from New to Closed; "
        "from New the incident can go to In Progress, On Hold, Resolved, Canceled"
    )
    assert error(response) == {
        "detail": message,
        "code": "conflict",
        "errors": [{"field": "state", "message": message}],
    }
    assert Incident.objects.get(pk=incident.pk).state == "new"


def test_transition_out_of_a_final_state_is_409(api: Clients, world: World) -> None:
    incident = declare(world)
    api.bob.post(f"/incidents/{incident.ref}/transition", {"to": "canceled"})
    response = api.bob.post(f"/incidents/{incident.ref}/transition", {"to": "in_progress"})
    assert response.status_code == 409
    assert error(response)["detail"] == (
        f"{incident.ref}: cannot move from Canceled to In Progress: Canceled is final"
    )
    edit = api.bob.patch(f"/incidents/{incident.ref}", {"title": "too late"})
    assert edit.status_code == 409
    assert error(edit)["detail"] == f"{incident.ref} is Canceled; it can no longer be changed"


def test_transition_to_same_state_is_409(api: Clients, world: World) -> None:
    incident = declare(world)
    response = api.bob.post(f"/incidents/{incident.ref}/transition", {"to": "new"})
    assert response.status_code == 409
    assert error(response)["detail"] == f"{incident.ref}: the incident is already New"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (
            {"to": "done"},
            "to",
            "unknown state 'done'; states are new, in_progress, on_hold, resolved, closed, canceled",
        ),
        (
            {"to": "on_hold"},
            "hold_reason",
            "putting an incident on hold needs a hold_reason: one of awaiting_caller, awaiting_change, "
            "awaiting_problem, awaiting_vendor",
        ),
        (
            {"to": "resolved", "resolution_notes": "fixed"},
            "resolution_code",
            "resolving needs a resolution_code: one of permanent_fix, workaround, not_reproducible, too_costly, "
            "resolved_by_caller, duplicate",
        ),
        (
            {"to": "resolved", "resolution_code": "workaround"},
            "resolution_notes",
            "resolution notes must not be empty",
        ),
    ],
)
def test_transition_missing_details_is_400(
    api: Clients, world: World, body: dict[str, str], field: str, message: str
) -> None:
    incident = declare(world)
    response = api.bob.post(f"/incidents/{incident.ref}/transition", body)
    assert response.status_code == 400
    assert error(response)["errors"] == [{"field": field, "message": message}]


# ---------------------------------------------------------------------------------------------------------------
# transport


def test_malformed_json_is_400(api: Clients, world: World) -> None:
    incident = declare(world)
    response = api.bob.post(f"/incidents/{incident.ref}/notes", raw='{"text": "unterminated')
    assert response.status_code == 400
    assert response.json()["detail"].startswith("the body is not valid JSON: Unterminated string")
    assert response.json()["code"] == "invalid"
    assert response.json()["errors"][0]["field"] == "body"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ('{"title": "db\\u0000down", "team": "team-a"}', "the body contains a NUL character (\\u0000)"),
        (
            '{"title": "half \\ud800 pair", "team": "team-a"}',
            "the body contains an unpaired UTF-16 surrogate escape",
        ),
        (b'{"title": "caf\xe9", "team": "team-a"}', "the body is not valid UTF-8 (byte 14)"),
        (
            '{"title": "t", "team": "team-a", "impact": 1e400}',
            "the body is not valid JSON: the number 1e400 is too large to store",
        ),
        (
            '{"title": "t", "team": "team-a", "impact": NaN}',
            "the body is not valid JSON: NaN is not valid JSON",
        ),
    ],
)
def test_text_no_database_can_store_is_400_naming_why(api: Clients, raw: str | bytes, reason: str) -> None:
    """A NUL character was a 500 on PostgreSQL (it cannot store one in text); SQLite stored it."""
    response = api.bob.post("/incidents", raw=raw)
    assert response.status_code == 400, response.content
    assert response.json() == {
        "detail": reason,
        "code": "invalid",
        "errors": [{"field": "body", "message": reason}],
    }
    assert not Incident.objects.exists()
    escaped = api.bob.post("/incidents", raw='{"title": "a \\\\u0000 is text here", "team": "team-a"}')
    assert escaped.status_code == 201, escaped.content
    assert Incident.objects.get().title == "a \\u0000 is text here"


@pytest.mark.parametrize(
    "path", ["/services/che%00ckout", "/incidents?q=a%00b", "/alerts?status=trig%00gered", "/incidents?%00=1"]
)
def test_a_nul_in_the_path_or_query_is_400(api: Clients, world: World, path: str) -> None:
    response = api.bob.client.get("/api/v1" + path, headers={"Authorization": f"Bearer {api.bob.token}"})
    assert response.status_code == 400, response.content
    assert "NUL character" in response.json()["detail"]


def test_a_nul_in_a_console_path_is_400(world: World, client_for) -> None:  # type: ignore[no-untyped-def]
    response = client_for(world.alice).get("/services/che%00ckout/")
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()


def test_body_over_one_megabyte_is_413(api: Clients, world: World) -> None:
    incident = declare(world)
    response = api.bob.post(f"/incidents/{incident.ref}/notes", {"text": "x" * (1024 * 1024)})
    assert response.status_code == 413
    assert error(response) == {
        "detail": "request body too large (limit 1 MB)",
        "code": "too_large",
        "errors": [],
    }
    assert api.bob.get(f"/incidents/{incident.ref}/timeline").json()["count"] == 1
