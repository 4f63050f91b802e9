"""Ids that are not ids: Unicode digits (``¹`` passes ``str.isdigit`` and fails ``int``), numbers beyond the
databases' 64-bit ids, and offsets past the end of any table. Each is a 4xx naming the parameter, never a 500
(found by fuzzing the OpenAPI document with schemathesis); a filter naming no row is a 400 (docs/api.md#filters)."""

from __future__ import annotations

import pytest

from tests.api.conftest import Clients, declare
from tests.conftest import World
from warroom.lib.ids import as_id
from warroom.oncall import services as oncall

HUGE = "9" * 30
SUPERSCRIPT = "\u00b9"  # "¹"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42", 42),
        ("0042", 42),
        (SUPERSCRIPT, None),
        ("\u0663", None),
        (HUGE, None),
        ("", None),
        ("4 2", None),
        ("-1", None),
        (7, 7),
        (True, None),
        ("9" * 18, 10**18 - 1),
        ("1" + "0" * 18, None),
    ],
)
def test_only_ascii_digits_that_fit_a_64_bit_id_are_ids(text: object, expected: int | None) -> None:
    assert as_id(text) == expected


@pytest.mark.parametrize("value", [SUPERSCRIPT, HUGE])
@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/incidents", "team"),
        ("/incidents", "service"),
        ("/incidents", "assignee"),
        ("/services", "team"),
        ("/problems", "team"),
        ("/problems", "service"),
        ("/postmortems", "team"),
        ("/action-items", "team"),
        ("/action-items", "service"),
        ("/action-items", "owner"),
    ],
)
def test_a_filter_naming_no_row_is_a_400_naming_it(
    api: Clients, world: World, path: str, parameter: str, value: str
) -> None:
    declare(world)
    response = api.alice.get(path, **{parameter: value})
    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert [e["field"] for e in response.json()["errors"]] == [parameter]


@pytest.mark.parametrize("path", ["/incidents", "/problems", "/me/notifications", "/services", "/alerts"])
def test_an_offset_beyond_any_table_is_422_naming_it(api: Clients, world: World, path: str) -> None:
    declare(world)
    response = api.alice.get(path, offset=HUGE)
    assert response.status_code == 422, (response.status_code, response.content[:300])
    assert "offset" in response.content.decode()
    assert api.alice.get(path, offset=10**12).status_code == 200  # far, but a number the databases take


@pytest.mark.parametrize(
    "path",
    [
        f"/services/{SUPERSCRIPT}",
        f"/services/{HUGE}",
        f"/incidents/INC{HUGE}",
        f"/problems/PRB{SUPERSCRIPT}",
        f"/action-items/{SUPERSCRIPT}",
        f"/postmortem-templates/{SUPERSCRIPT}",
    ],
)
def test_a_path_naming_no_row_is_404(api: Clients, world: World, path: str) -> None:
    response = api.alice.get(path)
    assert response.status_code in (404, 405, 422), (response.status_code, response.content[:300])


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
@pytest.mark.parametrize("path", ["/nope", "/policies/1", "/incidents/INC0001/nonexistent"])
def test_a_path_no_endpoint_serves_is_a_json_404(api: Clients, method: str, path: str) -> None:
    response = api.alice.call(method, path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == "not_found" and f"{method} /api/v1{path}" in body["detail"]


def test_the_api_root_says_where_its_description_is(api: Clients) -> None:
    response = api.alice.get("/")
    assert response.status_code == 200
    assert response.json() == {"docs": "/api/v1/docs", "openapi": "/api/v1/openapi.json"}
    posted = api.alice.post("/", {})
    assert posted.status_code == 405 and posted["Allow"] == "GET, HEAD"
    assert posted.json()["code"] == "method_not_allowed"


@pytest.mark.parametrize("person", [-5308142233489, -1, 10**20, SUPERSCRIPT, True])
def test_an_override_for_a_person_that_is_no_id_is_refused(
    api: Clients, world: World, person: object
) -> None:
    """A negative or huge number is neither an id nor an email (PostgreSQL answered 500: ``upper(integer)``)."""
    schedule = oncall.create_schedule(
        team=world.team_a, name="Primary", time_zone="UTC", actor=None, source="system"
    )
    body = {"user": person, "start": "2036-01-01T09:00", "end": "2036-01-01T17:00"}
    response = api.alice.post(f"/schedules/{schedule.pk}/overrides", body)
    assert response.status_code in (400, 404, 422), (response.status_code, response.content[:300])
    assert response.json()["detail"]
    body = {
        "user": world.bob.email,
        "replaces": person,
        "start": "2036-01-01T09:00",
        "end": "2036-01-01T17:00",
    }
    response = api.alice.post(f"/schedules/{schedule.pk}/overrides", body)
    assert response.status_code in (400, 404, 422), (response.status_code, response.content[:300])
