"""Dates, date-times and times of day are ISO 8601 text: a number in their place is a 400 naming the field.

pydantic's lax mode reads a number as seconds since 1970, and so the digits of a query value: a schemathesis fuzz
of /api/v1/ had ``?opened_before=0.5`` answer 200 (the incidents opened before 1970-01-01T00:00:00.5Z) and
``"starts_at": 1700000000`` make a maintenance window in November 2023. Also here: a time of day is wall-clock
time, ``08:00`` or ``08:00:00``, in bodies and answers alike, and the OpenAPI document says so with a pattern,
not with ``format: time`` (which requires an offset).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.api.conftest import Clients, declare, error
from tests.conftest import World
from warroom.accounts.models import ApiToken
from warroom.alerts.models import MaintenanceWindow
from warroom.comms.models import Maintenance
from warroom.incidents.models import Incident
from warroom.lib.apitypes import WALL_CLOCK_PATTERN
from warroom.notify.models import WorkingHours
from warroom.oncall.models import Layer, Override, Schedule
from warroom.reviews import services as reviews
from warroom.reviews.models import ActionItem, KeyEvent, Postmortem

pytestmark = pytest.mark.django_db

DATE_TIME = "a date-time is ISO 8601 text such as 2026-03-01T09:30:00Z, not a number (seconds since 1970 are not read)"
DATE = "a date is ISO 8601 text such as 2026-03-01, not a number (seconds since 1970 are not read)"
TIME = "a time of day is ISO 8601 text such as 09:30, not a number (seconds since midnight are not read)"


def _refused(response: Any, field: str, message: str) -> None:
    assert response.status_code == 400, response.content
    assert error(response)["errors"] == [{"field": field, "message": message}]
    assert error(response)["detail"] == f"{field}: {message}"


# ---------------------------------------------------------------------------------------------------------------
# query parameters


@pytest.mark.parametrize("value", ["0.5", "1700000000", "-1", "20260301", "1e9", " 7 "])
@pytest.mark.parametrize(
    ("path", "field", "message"),
    [
        ("/incidents", "opened_before", DATE_TIME),
        ("/incidents", "opened_after", DATE_TIME),
        ("/sla/report", "start", DATE_TIME),
        ("/sla/report.csv", "end", DATE_TIME),
        ("/reports/response", "start", DATE),
        ("/reports/volume/priority.csv", "end", DATE),
    ],
)
def test_a_number_in_a_date_query_is_refused_naming_it(
    api: Clients, world: World, path: str, field: str, message: str, value: str
) -> None:
    declare(world)
    _refused(api.alice.get(path, **{field: value}), field, message)


def test_a_number_no_longer_filters_incidents_by_the_first_second_of_1970(api: Clients, world: World) -> None:
    incident = declare(world)
    _refused(api.bob.get("/incidents", opened_before="0.5"), "opened_before", DATE_TIME)
    _refused(api.bob.get("/incidents", opened_after="1700000000"), "opened_after", DATE_TIME)
    # the same instants written as ISO 8601 are read
    early = api.bob.get("/incidents", opened_before="1970-01-01T00:00:00.5Z")
    assert early.status_code == 200 and early.json()["count"] == 0
    since = api.bob.get("/incidents", opened_after="2023-11-14T22:13:20Z")
    assert [i["ref"] for i in since.json()["items"]] == [incident.ref]


def test_text_that_is_no_date_is_still_a_422_and_dates_still_read(api: Clients, world: World) -> None:
    bad = api.alice.get("/incidents", opened_after="yesterday")
    assert bad.status_code == 422 and error(bad)["errors"][0]["field"] == "opened_after"
    assert api.alice.get("/reports/response", start="yesterday").status_code == 422
    for query in ({"start": "2026-01-01"}, {"start": "2026-01-01T00:00:00+01:00"}):
        assert api.alice.get("/sla/report", **query).status_code == 200, query
    assert api.alice.get("/reports/response", start="2026-01-01", end="2026-01-31").status_code == 200


# ---------------------------------------------------------------------------------------------------------------
# bodies: refused before anything is written


@pytest.mark.parametrize("value", [1700000000, 0.5, True, "1700000000"])
def test_a_number_for_a_token_expiry_is_refused(api: Clients, world: World, value: object) -> None:
    before = ApiToken.objects.count()
    _refused(api.bob.post("/tokens", {"name": "ci", "expires_at": value}), "expires_at", DATE_TIME)
    assert ApiToken.objects.count() == before


def test_a_number_for_a_maintenance_window_time_is_refused(api: Clients, world: World) -> None:
    body = {"title": "Patch night", "starts_at": 1700000000, "ends_at": "2026-01-01T02:00:00Z"}
    _refused(api.alice.post("/services/checkout/maintenance", body), "starts_at", DATE_TIME)
    made = api.alice.post("/services/checkout/maintenance", {**body, "starts_at": "2026-01-01T00:00:00Z"})
    assert made.status_code == 201, made.content
    path = f"/services/checkout/maintenance/{made.json()['id']}"
    _refused(api.alice.patch(path, {"ends_at": 1767232800}), "ends_at", DATE_TIME)
    _refused(api.alice.patch(path, {"repeat_until": 1.5e9}), "repeat_until", DATE_TIME)
    assert MaintenanceWindow.objects.get().ends_at.isoformat() == "2026-01-01T02:00:00+00:00"


def test_a_number_for_a_status_page_maintenance_is_refused(api: Clients, world: World) -> None:
    """The status page's schema types its times as plain ``datetime``: every request body refuses numbers for
    them all the same (``InputSchema``)."""
    assert (
        api.alice.post("/status-pages", {"team": "team-a", "name": "Acme", "slug": "acme"}).status_code == 201
    )
    body = {
        "title": "Database upgrade",
        "scheduled_start": 1893492000,
        "scheduled_end": "2030-01-01T11:00:00Z",
    }
    _refused(api.alice.post("/status-pages/acme/maintenance", body), "scheduled_start", DATE_TIME)
    assert not Maintenance.objects.exists()


def test_a_number_for_a_postmortem_or_action_item_date_is_refused(api: Clients, world: World) -> None:
    postmortem = reviews.create_postmortem(incident=declare(world), actor=world.bob, source="test")
    ref = postmortem.ref
    _refused(api.bob.patch(f"/postmortems/{ref}", {"mitigated_at": 0}), "mitigated_at", DATE_TIME)
    _refused(api.bob.post(f"/postmortems/{ref}/key-events", {"at": 1.7e9, "text": "Deploy"}), "at", DATE_TIME)
    item = {"title": "Add an alert", "postmortem": ref, "due_date": 0}
    _refused(api.bob.post("/action-items", item), "due_date", DATE)
    assert Postmortem.objects.get().mitigated_at is None
    assert not KeyEvent.objects.exists() and not ActionItem.objects.exists()
    made = api.bob.post("/action-items", {**item, "due_date": "2026-03-01"})
    assert made.status_code == 201 and made.json()["due_date"] == "2026-03-01"


def test_a_number_for_a_snooze_is_refused(api: Clients, world: World, incident: Incident) -> None:
    path = f"/incidents/{incident.ref}/escalation/snooze"
    _refused(api.bob.post(path, {"until": 1700000000}), "until", DATE_TIME)


def test_a_number_for_a_layer_or_override_time_is_refused(api: Clients, world: World) -> None:
    made = api.alice.post("/schedules", {"team": "team-a", "name": "Primary", "time_zone": "Europe/Berlin"})
    schedule = made.json()["id"]
    layers = f"/schedules/{schedule}/layers"
    layer = {"name": "L1", "start": "2026-03-02T09:00:00", "participants": ["bob@example.com"]}
    _refused(api.alice.post(layers, {**layer, "start": 1772438400}), "start", DATE_TIME)
    _refused(api.alice.post(layers, {**layer, "handoff_time": 32400}), "handoff_time", TIME)
    restriction = {"days": ["weekdays"], "start": 32400, "end": "17:00"}
    _refused(api.alice.post(layers, {**layer, "restrictions": [restriction]}), "restrictions.0.start", TIME)
    assert not Layer.objects.exists()
    override = {"user": "alice@example.com", "start": 1772438400, "end": "2026-03-03T09:00:00"}
    _refused(api.alice.post(f"/schedules/{schedule}/overrides", override), "start", DATE_TIME)
    assert not Override.objects.exists() and Schedule.objects.count() == 1


# ---------------------------------------------------------------------------------------------------------------
# times of day: wall-clock text, in and out


@pytest.mark.parametrize(("start", "end"), [("08:00", "17:30"), ("08:00:00", "17:30:00")])
def test_working_hours_take_and_give_wall_clock_times(
    api: Clients, world: World, start: str, end: str
) -> None:
    body = {"time_zone": "Europe/Berlin", "days": ["weekdays"], "start": start, "end": end}
    put = api.bob.put("/me/working-hours", body)
    assert put.status_code == 200, put.content
    got = api.bob.get("/me/working-hours").json()
    assert (got["start"], got["end"]) == ("08:00:00", "17:30:00")
    assert all(re.fullmatch(WALL_CLOCK_PATTERN, got[k]) for k in ("start", "end"))
    assert got["description"] == "Mon–Fri 08:00–17:30 (Europe/Berlin)"
    # what GET answers is accepted back as it is
    assert (
        api.bob.put("/me/working-hours", {**body, "start": got["start"], "end": got["end"]}).status_code
        == 200
    )


@pytest.mark.parametrize(
    ("value", "status"),
    [
        (28800, 400),
        (8.5, 400),
        ("28800", 400),
        ("08:00+01:00", 400),
        ("08:00Z", 400),
        ("9am", 422),
        ("8:00", 422),
    ],
)
def test_working_hours_refuse_numbers_and_offsets(
    api: Clients, world: World, value: object, status: int
) -> None:
    body = {"time_zone": "Europe/Berlin", "days": ["weekdays"], "start": value, "end": "17:00"}
    response = api.bob.put("/me/working-hours", body)
    assert response.status_code == status, response.content
    assert error(response)["errors"][0]["field"] == "start"
    assert not WorkingHours.objects.exists()


def test_the_document_describes_a_time_of_day_as_the_text_it_is(api: Clients) -> None:
    document = api.bob.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    for name in ("WorkingHoursIn", "WorkingHoursOut", "RestrictionIn"):
        for field in ("start", "end"):
            described = schemas[name]["properties"][field]
            assert described["type"] == "string" and described["pattern"] == WALL_CLOCK_PATTERN, (name, field)
            assert "format" not in described
    assert "format" not in str(schemas["LayerIn"]["properties"]["handoff_time"])
