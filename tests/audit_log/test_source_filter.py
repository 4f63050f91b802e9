"""The audit log's ``source`` filter has fixed choices: an unknown source is a 400 worded like every other list
filter's unknown choice (docs/api.md, "Filters"): the parameter, the value given and the choices."""

from __future__ import annotations

import pytest

from tests.api.conftest import Clients, error
from tests.audit_log.conftest import Log
from warroom.audit.models import Source

pytestmark = pytest.mark.django_db

CHOICES = "'web', 'api', 'cli', 'engine' or 'system'"


@pytest.mark.parametrize("path", ["/audit", "/audit.csv"])
def test_an_unknown_source_names_the_value_and_the_choices(api: Clients, log: Log, path: str) -> None:
    response = api.olivia.get(path, source="email")

    assert response.status_code == 400
    body = error(response)
    message = f"'email' is not one of {CHOICES}"
    assert body["errors"] == [{"field": "source", "message": message}]
    assert body["detail"] == f"source: {message}"


def test_the_wording_is_the_one_of_the_other_fixed_choice_filters(api: Clients, log: Log) -> None:
    incidents = error(api.olivia.get("/incidents", state="bogus"))["errors"][0]["message"]
    audit = error(api.olivia.get("/audit", source="bogus"))["errors"][0]["message"]

    assert incidents.startswith("'bogus' is not one of 'new', ")
    assert audit.startswith("'bogus' is not one of 'web', ")


@pytest.mark.parametrize("source", [*Source.values, " cli ", ""])
def test_every_known_source_still_filters(api: Clients, log: Log, source: str) -> None:
    response = api.olivia.get("/audit", source=source)

    assert response.status_code == 200, response.content
    wanted = source.strip()
    assert all(item["source"] == wanted for item in response.json()["items"]) or not wanted


def test_a_known_source_keeps_only_its_rows(api: Clients, log: Log) -> None:
    rows = api.olivia.get("/audit", source="cli").json()["items"]

    assert [(r["source"], r["action"]) for r in rows] == [("cli", "team.member.set")]


def test_the_openapi_document_lists_the_sources(api: Clients) -> None:
    document = api.olivia.get("/openapi.json").json()
    (parameter,) = [
        p for p in document["paths"]["/api/v1/audit"]["get"]["parameters"] if p["name"] == "source"
    ]
    schema = parameter["schema"]
    options = schema.get("anyOf", [schema])
    assert [o["enum"] for o in options if "enum" in o] == [list(Source.values)]
