"""What the incident API says about input it cannot take: PATCH names read-only and unknown fields instead of
ignoring them, a null description is refused instead of clearing it, a wrong hold reason or resolution code is
told apart from a missing one, and promoting to major checks who asks before what they sent."""

from __future__ import annotations

import pytest

from tests.api.conftest import Clients, declare, error
from tests.conftest import World
from warroom.incidents.models import Incident

HOLD_REASONS = "awaiting_caller, awaiting_change, awaiting_problem, awaiting_vendor"
RESOLUTION_CODES = "permanent_fix, workaround, not_reproducible, too_costly, resolved_by_caller, duplicate"


def test_patch_refuses_read_only_and_unknown_fields(api: Clients, world: World) -> None:
    incident = declare(world, title="Checkout returns 500")
    response = api.bob.patch(
        f"/incidents/{incident.ref}",
        {"titel": "Checkout returns 502", "number": 5, "state": "closed", "priority": 1, "urgency": 1},
    )
    assert response.status_code == 422, response.content
    body = error(response)
    messages = {e["field"]: e["message"] for e in body["errors"]}
    assert set(messages) == {"titel", "number", "state", "priority"}
    assert messages["titel"].startswith("unknown field; PATCH changes title, description, impact")
    assert messages["number"] == "number is read-only"
    assert messages["state"] == (
        "state cannot be changed with PATCH: move the incident with POST /incidents/{ref}/transition"
    )
    assert "follows from impact and urgency" in messages["priority"]
    assert body["detail"].startswith("number: number is read-only; priority: ")
    # Nothing changed, not even the valid part of the request.
    fresh = Incident.objects.get(pk=incident.pk)
    assert (fresh.title, fresh.urgency, fresh.state, fresh.version) == (
        "Checkout returns 500",
        incident.urgency,
        "new",
        incident.version,
    )


def test_patch_refuses_a_null_description_and_takes_an_empty_one(api: Clients, world: World) -> None:
    incident = declare(world, description="Since the **14:02** deploy")
    response = api.bob.patch(f"/incidents/{incident.ref}", {"description": None})
    assert response.status_code == 400
    assert error(response)["errors"] == [
        {"field": "description", "message": 'description cannot be null; send "" for no description'}
    ]
    assert Incident.objects.get(pk=incident.pk).description == "Since the **14:02** deploy"
    cleared = api.bob.patch(f"/incidents/{incident.ref}", {"description": ""})
    assert cleared.status_code == 200
    assert cleared.json()["description"] == ""


def test_patch_documents_that_it_takes_no_other_fields(api: Clients) -> None:
    schema = api.bob.get("/openapi.json").json()["components"]["schemas"]["IncidentPatch"]
    assert schema["additionalProperties"] is False


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (
            {"to": "on_hold"},
            "hold_reason",
            f"putting an incident on hold needs a hold_reason: one of {HOLD_REASONS}",
        ),
        (
            {"to": "on_hold", "hold_reason": "waiting"},
            "hold_reason",
            f"hold_reason 'waiting' is not one of the allowed values: {HOLD_REASONS}",
        ),
        (
            {"to": "resolved", "resolution_notes": "Rolled back"},
            "resolution_code",
            f"resolving needs a resolution_code: one of {RESOLUTION_CODES}",
        ),
        (
            {"to": "resolved", "resolution_code": "fixed", "resolution_notes": "Rolled back"},
            "resolution_code",
            f"resolution_code 'fixed' is not one of the allowed values: {RESOLUTION_CODES}",
        ),
    ],
)
def test_a_wrong_hold_reason_or_code_is_not_called_missing(
    api: Clients, world: World, body: dict[str, str], field: str, message: str
) -> None:
    incident = declare(world)
    response = api.bob.post(f"/incidents/{incident.ref}/transition", body)
    assert response.status_code == 400
    assert error(response)["errors"] == [{"field": field, "message": message}]
    assert Incident.objects.get(pk=incident.pk).state == "new"


def test_promote_without_a_body_checks_who_asks_first(api: Clients, world: World) -> None:
    incident = declare(world)
    path = f"/incidents/{incident.ref}/major"
    refused = api.dave.post(path)  # an observer of team A, no body at all
    assert refused.status_code == 403, refused.content
    assert error(refused)["code"] == "forbidden"
    assert api.charlie.post(path).status_code == 404  # another team's incident does not exist for charlie
    long_note = api.dave.post(path, {"note": "x" * 20_001})
    assert long_note.status_code == 403, "who may promote is checked before the note"
    promoted = api.bob.post(path)  # the reason is optional: no body is fine
    assert promoted.status_code == 200, promoted.content
    assert promoted.json()["is_major"] is True
    assert Incident.objects.get(pk=incident.pk).is_major
