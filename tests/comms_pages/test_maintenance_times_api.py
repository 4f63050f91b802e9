"""A maintenance's scheduled times are ISO 8601 text through the API: a number (which pydantic would read as
seconds since 1970) is a 400 naming the field, on announcing and on rescheduling, and nothing is written."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.api.conftest import Clients, error
from tests.comms_pages.conftest import Site
from tests.conftest import World
from warroom.comms.models import Maintenance
from warroom.lib import clock

pytestmark = pytest.mark.django_db


def window() -> dict[str, Any]:
    start = clock.now() + timedelta(days=1)
    return {
        "title": "DB upgrade",
        "scheduled_start": start.isoformat(),
        "scheduled_end": (start + timedelta(hours=1)).isoformat(),
    }


@pytest.mark.parametrize("field", ["scheduled_start", "scheduled_end"])
@pytest.mark.parametrize("number", [1767225600, 1767225600.5, "1767225600"])
def test_a_number_for_a_scheduled_time_is_a_400_naming_it(
    api: Clients, world: World, site: Site, field: str, number: Any
) -> None:
    announced = api.alice.post("/status-pages/acme/maintenance", {**window(), field: number})

    assert announced.status_code == 400, announced.content
    body = error(announced)
    assert body["errors"][0]["field"] == field
    assert "ISO 8601" in body["errors"][0]["message"] and "not a number" in body["errors"][0]["message"]
    assert not Maintenance.objects.exists()


@pytest.mark.parametrize("field", ["scheduled_start", "scheduled_end"])
def test_rescheduling_to_a_number_is_a_400_naming_it_and_changes_nothing(
    api: Clients, world: World, site: Site, field: str
) -> None:
    created = api.alice.post("/status-pages/acme/maintenance", window())
    assert created.status_code == 201, created.content
    before = created.json()

    moved = api.alice.patch(f"/status-pages/acme/maintenance/{before['id']}", {field: 1767225600})

    assert moved.status_code == 400, moved.content
    assert error(moved)["errors"][0]["field"] == field
    assert api.alice.get(f"/status-pages/acme/maintenance/{before['id']}").json()[field] == before[field]


def test_the_openapi_document_says_the_scheduled_times_are_date_times(api: Clients) -> None:
    document = api.alice.get("/openapi.json").json()
    for name in ("MaintenanceIn", "MaintenancePatch"):
        schema = document["components"]["schemas"][name]["properties"]
        for field in ("scheduled_start", "scheduled_end"):
            options = schema[field].get("anyOf", [schema[field]])
            assert {"type": "string", "format": "date-time"} in [
                {k: v for k, v in o.items() if k in ("type", "format")} for o in options
            ], (name, field, schema[field])
