"""/api/v1/sla/... and /api/v1/incidents/{ref}/sla: reads for everyone who may see, writes for organisation
admins only; another team's incident or team-scoped definition is a 404 (charlie), a write by someone who may
see the object a 403 (dave, the observer; alice, a team admin); bad input a 400 naming the field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.conftest import Clients, error
from tests.conftest import World
from tests.incidents_sla.conftest import OFFICE, at, declare, define, move, office_calendar
from warroom.audit.models import AuditEvent
from warroom.incidents.models import BusinessCalendar, SlaDefinition

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_org_admin_creates_reads_updates_and_deletes_a_calendar(api: Clients) -> None:
    body = {
        "name": "  UK   office ",
        "time_zone": "Europe/London",
        "working_hours": {"mon": [["09:00", "17:30"]], "fri": [["09:00", "16:00"]]},
        "holiday_country": "gb",
        "holiday_subdivision": "eng",
        "custom_holidays": ["2026-12-24", "2026-12-24", "2026-12-31"],
    }
    response = api.olivia.post("/sla/calendars", body)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["name"] == "UK office"
    assert created["working_hours"]["mon"] == [["09:00", "17:30"]]
    assert created["working_hours"]["sat"] == []
    assert (created["holiday_country"], created["holiday_subdivision"]) == ("GB", "ENG")
    assert created["custom_holidays"] == ["2026-12-24", "2026-12-31"]
    path = f"/sla/calendars/{created['id']}"
    assert api.bob.get(path).json()["name"] == "UK office"  # everyone reads calendars
    assert api.charlie.get("/sla/calendars").json()["count"] == 1
    patched = api.olivia.patch(
        path, {"time_zone": "Europe/Dublin", "holiday_country": "IE", "holiday_subdivision": ""}
    )
    assert patched.status_code == 200, patched.content
    assert patched.json()["time_zone"] == "Europe/Dublin" and patched.json()["holiday_country"] == "IE"
    assert api.olivia.delete(path).status_code == 204
    assert api.olivia.get(path).status_code == 404
    actions = list(
        AuditEvent.objects.filter(action__startswith="sla.calendar")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["sla.calendar.create", "sla.calendar.update", "sla.calendar.delete"]


@pytest.mark.parametrize("who", ["alice", "bob", "dave", "charlie"])
def test_only_org_admins_write_calendars(api: Clients, who: str) -> None:
    calendar = office_calendar()
    client = api.of(who)
    assert error(client.post("/sla/calendars", {"name": "Mine"}))["code"] == "forbidden"
    assert client.patch(f"/sla/calendars/{calendar.pk}", {"name": "Renamed"}).status_code == 403
    assert client.delete(f"/sla/calendars/{calendar.pk}").status_code == 403
    assert BusinessCalendar.objects.get().name == "London office"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "X", "time_zone": "Europe/Atlantis"}, "time_zone"),
        ({"name": "X", "working_hours": {"mon": [["09:00", "26:00"]]}}, "working_hours"),
        ({"name": "X", "working_hours": {"mon": [["12:00", "09:00"]]}}, "working_hours"),
        ({"name": "X", "working_hours": {"sat": [], "sun": []}}, "working_hours"),
        ({"name": "X", "holiday_country": "QQ"}, "holiday_country"),
        ({"name": "X", "holiday_country": "US", "holiday_subdivision": "XX"}, "holiday_subdivision"),
        ({"name": "X", "custom_holidays": ["31/12/2026"]}, "custom_holidays"),
    ],
)
def test_bad_calendars_are_400_naming_the_field(api: Clients, body: dict[str, Any], field: str) -> None:
    response = api.olivia.post("/sla/calendars", body)
    assert response.status_code == 400, response.content
    assert error(response)["errors"][0]["field"] == field
    assert not BusinessCalendar.objects.exists()


def test_duplicate_calendar_names_and_calendars_in_use_are_409(api: Clients, world: World) -> None:
    calendar = office_calendar()
    assert api.olivia.post("/sla/calendars", {"name": "London office"}).status_code == 409
    define(priority=3, resolution_minutes=60, calendar=calendar)
    response = api.olivia.delete(f"/sla/calendars/{calendar.pk}")
    assert response.status_code == 409 and "P3 SLA" in error(response)["detail"]


def test_org_admin_defines_slas(api: Clients, world: World) -> None:
    office_calendar()
    body = {
        "name": "Checkout P1",
        "priority": 1,
        "service": "checkout",
        "response_minutes": 15,
        "resolution_minutes": 240,
        "calendar": "London office",
        "pause_on": ["awaiting_vendor", "awaiting_caller"],
        "warning_thresholds": [90, 50],
    }
    response = api.olivia.post("/sla/definitions", body)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["scope"] == "service" and created["service"]["slug"] == "checkout"
    assert created["calendar"]["name"] == "London office"
    assert created["pause_on"] == ["awaiting_caller", "awaiting_vendor"]
    assert created["warning_thresholds"] == [50, 90]
    assert created["priority_label"] == "1 - Critical"
    path = f"/sla/definitions/{created['id']}"
    patched = api.olivia.patch(path, {"calendar": None, "response_minutes": None, "name": "Checkout P1 24x7"})
    assert patched.status_code == 200, patched.content
    assert (patched.json()["calendar"], patched.json()["response_minutes"]) == (None, None)
    # The default thresholds and hold reasons.
    default = api.olivia.post(
        "/sla/definitions", {"name": "Everyone P1", "priority": 1, "resolution_minutes": 480}
    )
    assert default.json()["warning_thresholds"] == [50, 75, 90]
    assert default.json()["pause_on"] == [
        "awaiting_caller",
        "awaiting_change",
        "awaiting_problem",
        "awaiting_vendor",
    ]
    assert api.olivia.get("/sla/definitions", priority=1).json()["count"] == 2
    assert api.olivia.delete(path).status_code == 204
    assert api.olivia.get(path).status_code == 404


def test_definitions_are_scoped_to_teams(api: Clients, world: World) -> None:
    everyone = define(priority=3, resolution_minutes=480)
    team_a = define(priority=3, name="Team A P3", team=world.team_a, resolution_minutes=240)
    checkout = define(priority=3, name="Checkout P3", service=world.service_a, resolution_minutes=120)
    billing = define(priority=3, name="Billing P3", service=world.service_b, resolution_minutes=120)
    names = lambda client: {d["name"] for d in client.get("/sla/definitions").json()["items"]}  # noqa: E731
    assert names(api.bob) == {everyone.name, team_a.name, checkout.name}
    assert names(api.charlie) == {everyone.name, billing.name}
    assert names(api.olivia) == {everyone.name, team_a.name, checkout.name, billing.name}
    # Team A's definitions do not exist for charlie, reading or writing.
    for definition in (team_a, checkout):
        path = f"/sla/definitions/{definition.pk}"
        assert error(api.charlie.get(path))["code"] == "not_found"
        assert api.charlie.patch(path, {"name": "Mine"}).status_code == 404
        assert api.charlie.delete(path).status_code == 404
    # Dave, the observer, and alice, a team admin, may see but not change them.
    for client in (api.dave, api.alice, api.bob):
        path = f"/sla/definitions/{team_a.pk}"
        assert client.get(path).status_code == 200
        assert client.patch(path, {"resolution_minutes": 1}).status_code == 403
        assert client.delete(path).status_code == 403
        assert (
            client.post("/sla/definitions", {"name": "X", "priority": 2, "resolution_minutes": 5}).status_code
            == 403
        )
    team_a.refresh_from_db()
    assert team_a.resolution_minutes == 240


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"priority": 7, "resolution_minutes": 60}, "priority", 400),
        ({"priority": 1}, "resolution_minutes", 400),
        ({"priority": 1, "resolution_minutes": 0}, "resolution_minutes", 400),
        ({"priority": 1, "response_minutes": 10**9}, "response_minutes", 400),
        ({"priority": 1, "resolution_minutes": 60, "service": "checkout", "team": "team-a"}, "team", 400),
        ({"priority": 1, "resolution_minutes": 60, "service": "nope"}, "service", 400),
        ({"priority": 1, "resolution_minutes": 60, "calendar": "nope"}, "calendar", 400),
        ({"priority": 1, "resolution_minutes": 60, "pause_on": ["lunch"]}, "pause_on", 400),
        ({"priority": 1, "resolution_minutes": 60, "warning_thresholds": [150]}, "warning_thresholds", 400),
        ({"priority": 3, "resolution_minutes": 60}, "priority", 409),  # an active one for P3 exists
    ],
)
def test_bad_definitions(api: Clients, world: World, body: dict[str, Any], field: str, status: int) -> None:
    define(priority=3, resolution_minutes=480)
    response = api.olivia.post("/sla/definitions", {"name": "Bad", **body})
    assert response.status_code == status, response.content
    assert error(response)["errors"][0]["field"] == field
    assert SlaDefinition.objects.count() == 1


def test_an_inactive_definition_does_not_clash(api: Clients, world: World) -> None:
    old = define(priority=3, resolution_minutes=480)
    response = api.olivia.patch(f"/sla/definitions/{old.pk}", {"is_active": False})
    assert response.status_code == 200
    assert (
        api.olivia.post(
            "/sla/definitions", {"name": "New", "priority": 3, "resolution_minutes": 60}
        ).status_code
        == 201
    )
    assert api.olivia.patch(f"/sla/definitions/{old.pk}", {"is_active": True}).status_code == 409
    assert api.olivia.patch(f"/sla/definitions/{old.pk}", {"name": None}).status_code == 400


def test_incident_clocks(api: Clients, world: World) -> None:
    define(priority=3, response_minutes=30, resolution_minutes=240)
    incident = declare(world, T0)
    move(incident, T0 + timedelta(minutes=10), "in_progress")
    with at(T0 + timedelta(hours=1)):
        response = api.dave.get(f"/incidents/{incident.ref}/sla")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["incident"] == incident.ref
    by_kind = {c["kind"]: c for c in body["clocks"]}
    assert (by_kind["response"]["status"], by_kind["response"]["elapsed_seconds"]) == ("met", 600)
    resolution = by_kind["resolution"]
    assert (resolution["status"], resolution["elapsed_seconds"], resolution["remaining_seconds"]) == (
        "running",
        3600,
        3 * 3600,
    )
    assert (resolution["percent"], resolution["calendar"], resolution["due_at"]) == (
        25,
        None,
        "2026-03-02T13:00:00Z",
    )
    assert error(api.charlie.get(f"/incidents/{incident.ref}/sla"))["code"] == "not_found"
    assert api.olivia.get(f"/incidents/{incident.ref}/sla").status_code == 200


def test_report_json_and_csv(api: Clients, world: World) -> None:
    define(priority=3, response_minutes=30, resolution_minutes=240)
    incident = declare(world, T0)
    move(incident, T0 + timedelta(minutes=45), "resolved")
    declare(world, T0, team=world.team_b, services=[world.service_b], actor=world.charlie)
    query = {"start": "2026-03-01", "end": "2026-03-31T00:00:00Z"}
    with at(T0 + timedelta(hours=2)):
        body = api.alice.get("/sla/report", **query).json()
        charlie = api.charlie.get("/sla/report", **query).json()
        csv = api.alice.get("/sla/report.csv", **query)
    assert body["start"] == "2026-03-01T00:00:00Z"
    assert body["total"]["response"] == {"met": 0, "breached": 1, "in_progress": 0, "compliance": 0.0}
    assert body["total"]["resolution"] == {"met": 1, "breached": 0, "in_progress": 0, "compliance": 100.0}
    assert [r["label"] for r in body["by_team"]] == ["Team A"]
    assert charlie["total"]["response"] == {"met": 0, "breached": 1, "in_progress": 0, "compliance": 0.0}
    assert charlie["total"]["resolution"] == {"met": 0, "breached": 0, "in_progress": 1, "compliance": None}
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    assert 'filename="sla-compliance-20260301-20260331.csv"' in csv["Content-Disposition"]
    assert csv.content.decode().splitlines()[1] == "total,all,All,response,0,1,0,0.0"
    bad = api.alice.get("/sla/report", start="2026-03-10", end="2026-03-01")
    assert bad.status_code == 400 and error(bad)["errors"][0]["field"] == "start"
    assert api.alice.get("/sla/report", start="yesterday").status_code == 422
    assert api.alice.get("/sla/report", start="2020-01-01", end="2026-01-01").status_code == 400


def test_working_hours_in_the_openapi_schema(api: Clients) -> None:
    schema = api.alice.get("/openapi.json").json()
    assert "/api/v1/sla/definitions" in schema["paths"]
    assert "/api/v1/incidents/{ref}/sla" in schema["paths"]
    assert OFFICE  # the conftest's office hours, used by the calendars above
