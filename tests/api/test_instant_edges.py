"""Date-times at the edges of the calendar are a 400 naming the field, never a 500 or a row nobody can read.

Python reads years 1 to 9999 and offsets up to ±23:59; PostgreSQL takes offsets only up to ±15:59, and psycopg
reads back only years 1 to 9999 in UTC. A maintenance window until ``9999-12-31T23:59:59-01:00`` used to be
committed as year 10000 and break its service for good; an offset of ``-23:00`` was a database error; year 1 with
a positive offset overflowed Python. Every such input is now refused before anything is written (the accepted
range is 1970-01-01T00:00:00Z to 2200-12-31T23:59:59Z, see ``warroom.lib.instants``), and an offset Python reads
is converted to UTC, whatever its size.

Also here: a problem whose workaround is only spaces is created without a known-error time (it used to break a
check constraint: 500).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from tests.api.conftest import Clients, declare, error
from tests.conftest import World
from warroom.accounts.models import User
from warroom.alerts import services as alerts
from warroom.alerts.models import MaintenanceWindow
from warroom.comms.models import Maintenance
from warroom.oncall.models import Layer
from warroom.reviews import services as reviews
from warroom.reviews.models import KeyEvent, Postmortem, Problem

pytestmark = pytest.mark.django_db

ClientFor = Callable[[User], Client]

LATE = "9999-12-31T23:59:59-01:00"  # year 10000 in UTC
EARLY = "0001-01-01T00:00:00+01:00"  # before year 1 in UTC
EARLY_EAST = "0001-01-01T00:00:00+14:00"


def _field(response: Any) -> str:
    return str(error(response)["errors"][0]["field"])


def _refused(response: Any, field: str) -> None:
    assert response.status_code == 400, response.content
    assert _field(response) == field
    assert "1970-01-01" in error(response)["detail"]


# ---------------------------------------------------------------------------------------------------------------
# maintenance windows of a service


def _window(**times: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Patch night",
        "starts_at": "2026-01-01T00:00:00Z",
        "ends_at": "2026-01-01T02:00:00Z",
    }
    body.update(times)
    return body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_window(recurrence="weekly", repeat_until=LATE), "repeat_until"),
        (_window(starts_at=EARLY), "starts_at"),
        (_window(starts_at="9999-12-31T22:00:00-01:00", ends_at=LATE), "starts_at"),
        (_window(ends_at=LATE), "ends_at"),
        (_window(starts_at="1969-12-31T23:00:00Z"), "starts_at"),
        (_window(recurrence="daily", repeat_until="2201-01-01T00:00:00Z"), "repeat_until"),
        # local wall-clock times (no offset) in the window's zone: refused before the zone can overflow
        (
            _window(starts_at="0001-01-01T00:00:00", ends_at="0001-01-01T02:00:00", time_zone="Asia/Tokyo"),
            "starts_at",
        ),
        (_window(ends_at="9999-12-31T23:00:00", time_zone="America/New_York"), "ends_at"),
    ],
)
def test_a_window_outside_the_calendar_is_refused_and_the_service_still_loads(
    api: Clients, world: World, client_for: ClientFor, body: dict[str, Any], field: str
) -> None:
    alerts.create_maintenance_window(
        service=world.service_a,
        title="Earlier",
        starts_at=datetime(2026, 2, 1, tzinfo=UTC),
        ends_at=datetime(2026, 2, 1, 1, tzinfo=UTC),
        actor=world.alice,
        source="test",
    )
    response = api.alice.post("/services/checkout/maintenance", body)
    _refused(response, field)
    assert MaintenanceWindow.objects.count() == 1
    listed = api.alice.get("/services/checkout/maintenance")
    assert listed.status_code == 200 and len(listed.json()["items"]) == 1
    assert api.alice.get("/services/checkout").status_code == 200
    console = client_for(world.alice)
    assert console.get("/services/checkout/").status_code == 200
    assert console.get("/services/checkout/maintenance/").status_code == 200


def test_a_window_change_to_the_edge_is_refused_and_the_window_stays(api: Clients, world: World) -> None:
    made = api.alice.post("/services/checkout/maintenance", _window(recurrence="weekly"))
    assert made.status_code == 201, made.content
    path = f"/services/checkout/maintenance/{made.json()['id']}"
    _refused(api.alice.patch(path, {"repeat_until": LATE}), "repeat_until")
    _refused(api.alice.patch(path, {"starts_at": EARLY}), "starts_at")
    again = api.alice.get(path)
    assert again.status_code == 200
    assert again.json()["repeat_until"] is None and again.json()["starts_at"].startswith(
        "2026-01-01T00:00:00"
    )
    assert api.alice.delete(path).status_code == 204


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("2026-01-01T00:00:00-23:00", datetime(2026, 1, 1, 23, tzinfo=UTC)),
        ("2026-01-01T05:30:00+05:30", datetime(2026, 1, 1, tzinfo=UTC)),
        ("2026-01-02T00:00:00+23:59", datetime(2026, 1, 1, 0, 1, tzinfo=UTC)),
    ],
)
def test_a_large_offset_is_converted_to_utc(api: Clients, world: World, sent: str, stored: datetime) -> None:
    start = datetime.fromisoformat(sent)
    end, repeat = start + timedelta(hours=2), start + timedelta(days=20)
    response = api.alice.post(
        "/services/checkout/maintenance",
        _window(
            starts_at=sent, ends_at=end.isoformat(), recurrence="weekly", repeat_until=repeat.isoformat()
        ),
    )
    assert response.status_code == 201, response.content
    window = MaintenanceWindow.objects.get()
    assert window.starts_at == stored
    assert window.ends_at == stored + timedelta(hours=2)
    read = api.alice.get(f"/services/checkout/maintenance/{window.pk}").json()
    assert datetime.fromisoformat(read["starts_at"]) == stored
    assert datetime.fromisoformat(read["repeat_until"]) == repeat
    assert api.alice.get("/services/checkout").status_code == 200


# ---------------------------------------------------------------------------------------------------------------
# filters: incidents, SLA report, audit log


def test_incident_filters_convert_big_offsets_and_refuse_the_edges(api: Clients, world: World) -> None:
    incident = declare(world)
    found = api.alice.get("/incidents", opened_after="2026-01-01T00:00:00-23:00")
    assert found.status_code == 200
    before = api.alice.get("/incidents", opened_before="2200-01-01T00:00:00-23:00")
    assert before.status_code == 200 and [i["ref"] for i in before.json()["items"]] == [incident.ref]
    for field in ("opened_after", "opened_before"):
        _refused(api.alice.get("/incidents", **{field: EARLY_EAST}), field)
        _refused(api.alice.get("/incidents", **{field: LATE}), field)
        _refused(api.alice.get("/incidents", **{field: "0001-01-01T00:00:00"}), field)


def test_the_sla_report_converts_big_offsets(api: Clients) -> None:
    query = {"start": "2026-01-01T00:00:00-23:00", "end": "2026-01-20T00:00:00+23:00"}
    for path in ("/sla/report", "/sla/report.csv"):
        response = api.alice.get(path, **query)
        assert response.status_code == 200, (path, response.content)
    assert api.alice.get("/sla/report", end="2026-01-20T00:00:00-23:00").status_code == 200


def test_the_audit_log_refuses_the_edges(api: Clients) -> None:
    for field in ("since", "before"):
        for value in (EARLY_EAST, LATE, "1969-12-31T23:59:59Z"):
            _refused(api.olivia.get("/audit", **{field: value}), field)
            _refused(api.olivia.get("/audit.csv", **{field: value}), field)
    assert api.olivia.get("/audit", since="2026-01-01T00:00:00-23:00").status_code == 200


# ---------------------------------------------------------------------------------------------------------------
# status page maintenance, postmortems, on-call layers


def test_status_page_maintenance_refuses_the_edges(api: Clients, world: World) -> None:
    assert (
        api.alice.post("/status-pages", {"team": "team-a", "name": "Acme", "slug": "acme"}).status_code == 201
    )
    component = api.alice.post("/status-pages/acme/components", {"name": "API"}).json()
    body = {
        "title": "Database upgrade",
        "scheduled_start": "2030-01-01T10:00:00Z",
        "scheduled_end": "2030-01-01T11:00:00Z",
        "components": [component["id"]],
    }
    for field, value in (("scheduled_start", EARLY), ("scheduled_start", LATE), ("scheduled_end", LATE)):
        _refused(api.alice.post("/status-pages/acme/maintenance", {**body, field: value}), field)
    assert not Maintenance.objects.exists() and not MaintenanceWindow.objects.exists()
    made = api.alice.post(
        "/status-pages/acme/maintenance",
        {
            **body,
            "scheduled_start": "2030-01-01T10:00:00-23:00",
            "scheduled_end": "2030-01-02T11:00:00-23:00",
        },
    )
    assert made.status_code == 201, made.content
    assert Maintenance.objects.get().scheduled_start == datetime(2030, 1, 2, 9, tzinfo=UTC)
    assert api.alice.get("/status-pages/acme/maintenance").status_code == 200


@pytest.fixture
def postmortem(world: World) -> Postmortem:
    incident = declare(world, impact=2, urgency=2)
    return reviews.create_postmortem(incident=incident, actor=world.bob, source="test")


def test_postmortem_times_refuse_the_edges(api: Clients, postmortem: Postmortem) -> None:
    ref = postmortem.ref
    for value in (EARLY, LATE):
        _refused(api.bob.patch(f"/postmortems/{ref}", {"mitigated_at": value}), "mitigated_at")
        _refused(api.bob.post(f"/postmortems/{ref}/key-events", {"at": value, "text": "Deploy"}), "at")
    assert Postmortem.objects.get(pk=postmortem.pk).mitigated_at is None
    assert not KeyEvent.objects.exists()
    assert api.bob.get(f"/postmortems/{ref}").status_code == 200
    added = api.bob.post(
        f"/postmortems/{ref}/key-events", {"at": "2026-01-01T00:00:00-23:00", "text": "Deploy"}
    )
    assert added.status_code == 201, added.content
    assert KeyEvent.objects.get().at == datetime(2026, 1, 1, 23, tzinfo=UTC)


def test_a_layer_start_outside_the_calendar_is_refused(api: Clients, world: World) -> None:
    made = api.alice.post("/schedules", {"team": "team-a", "name": "Primary", "time_zone": "Europe/Berlin"})
    assert made.status_code == 201, made.content
    path = f"/schedules/{made.json()['id']}/layers"
    for value in (EARLY, LATE):
        response = api.alice.post(path, {"name": "L1", "start": value, "participants": []})
        assert response.status_code == 400, response.content
        assert _field(response) == "start"
    assert not Layer.objects.exists()
    layer = api.alice.post(path, {"name": "L1", "start": "2026-03-01T09:00:00-23:00", "participants": []})
    assert layer.status_code == 201, layer.content
    # 2026-03-02T08:00Z is 09:00 in Berlin (UTC+1)
    stored = Layer.objects.get()
    assert (stored.starts_on.isoformat(), stored.starts_at.isoformat()) == ("2026-03-02", "09:00:00")
    assert api.alice.patch(f"{path}/{stored.pk}", {"start": LATE}).status_code == 400


# ---------------------------------------------------------------------------------------------------------------
# problems: a blank workaround is no workaround


def test_a_blank_workaround_is_no_known_error(api: Clients, world: World) -> None:
    created = api.alice.post("/problems", {"title": "p", "team": "team-a", "workaround": " "})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["known_error"] is False and body["known_error_at"] is None
    problem = Problem.objects.get()
    assert problem.workaround == "" and problem.known_error_at is None

    ref = body["ref"]
    same = api.alice.patch(f"/problems/{ref}", {"workaround": " \n "})
    assert same.status_code == 200, same.content
    assert same.json()["known_error_at"] is None
    known = api.alice.patch(f"/problems/{ref}", {"workaround": "Restart the pod"})
    assert known.json()["known_error"] is True and known.json()["known_error_at"] is not None
    cleared = api.alice.patch(f"/problems/{ref}", {"workaround": "   "})
    assert cleared.status_code == 200, cleared.content
    assert cleared.json()["known_error"] is False and cleared.json()["known_error_at"] is None
    assert Problem.objects.get().workaround == ""


# ---------------------------------------------------------------------------------------------------------------
# the migration that repairs windows stored before the check


BEFORE = [("alerts", "0008_maintenance_window_time_zone")]
REPAIR = [("alerts", "0009_repair_out_of_range_windows")]


@pytest.fixture
def before_repair(world: World) -> Iterator[None]:
    """The database as it was before the repair migration (put back to the latest state afterwards)."""
    MigrationExecutor(connection).migrate(BEFORE)
    try:
        yield
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def _insert(world: World, title: str, starts: str, ends: str, recurrence: str, until: str | None) -> None:
    table = MaintenanceWindow._meta.db_table
    cast = "::timestamptz" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (service_id, title, starts_at, ends_at, recurrence, repeat_until, time_zone,"
            f" created_at) VALUES (%s, %s, %s{cast}, %s{cast}, %s, %s{cast}, 'UTC', %s)",
            [world.service_a.pk, title, starts, ends, recurrence, until, datetime(2026, 1, 1, tzinfo=UTC)],
        )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_repair_migration_makes_stored_windows_readable(
    before_repair: None, api: Clients, world: World, client_for: ClientFor
) -> None:
    good = alerts.create_maintenance_window(
        service=world.service_a,
        title="Fine",
        starts_at=datetime(2026, 2, 1, tzinfo=UTC),
        ends_at=datetime(2026, 2, 1, 1, tzinfo=UTC),
        recurrence="weekly",
        repeat_until=datetime(2199, 1, 1, tzinfo=UTC),
        actor=world.alice,
        source="test",
    )
    expected = ["Fine"]
    # SQLite never stored such rows (Django's conversion to UTC overflowed before the insert)
    if connection.vendor == "postgresql":
        _insert(
            world,
            "until year 10000",
            "2026-01-01 00:00+00",
            "2026-01-01 02:00+00",
            "weekly",
            "10000-01-01 00:59:59+00",
        )
        _insert(world, "ends in year 10000", "9999-12-31 23:00+00", "10000-01-01 00:30+00", "none", None)
        _insert(world, "starts BC", "0001-12-31 23:00:00+00 BC", "0001-01-01 00:30+00", "none", None)
        _insert(world, "starts in year 10000", "10000-01-01 00:00+00", "10000-01-01 01:00+00", "none", None)
        expected = ["Fine", "ends in year 10000", "until year 10000"]
    MigrationExecutor(connection).migrate(REPAIR)

    windows = {w.title: w for w in MaintenanceWindow.objects.all()}
    assert sorted(windows) == expected
    fine = windows["Fine"]
    assert (fine.pk, fine.starts_at, fine.ends_at, fine.repeat_until) == (
        good.pk,
        good.starts_at,
        good.ends_at,
        good.repeat_until,
    )
    if connection.vendor == "postgresql":
        assert windows["until year 10000"].repeat_until == datetime(
            2200, 12, 31, 23, 59, 59, 999999, tzinfo=UTC
        )
        assert windows["ends in year 10000"].ends_at == datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
        path = f"/services/checkout/maintenance/{windows['until year 10000'].pk}"
        assert api.alice.patch(path, {"title": "Patch night"}).status_code == 200
    assert api.alice.get("/services/checkout/maintenance").status_code == 200
    console = client_for(world.alice)
    assert console.get("/services/checkout/").status_code == 200
    assert console.get("/services/checkout/maintenance/").status_code == 200


@pytest.mark.parametrize("expires_at", [LATE, EARLY])
def test_a_token_expiry_outside_the_calendar_is_refused(api: Clients, expires_at: str) -> None:
    response = api.alice.post("/tokens", {"name": "edge", "expires_at": expires_at})
    _refused(response, "expires_at")
    assert "edge" not in {t["name"] for t in api.alice.get("/tokens").json()["items"]}


def test_the_console_window_form_refuses_a_local_time_outside_the_calendar(
    world: World, client_for: ClientFor
) -> None:
    response = client_for(world.alice).post(
        "/services/checkout/maintenance/",
        {
            "title": "Patch night",
            "time_zone": "Asia/Tokyo",
            "starts_at": "0001-01-01T00:00",
            "ends_at": "0001-01-01T02:00",
            "recurrence": "none",
        },
    )
    assert response.status_code == 400
    assert "Give a date between 1970 and 2200." in response.content.decode()
    assert not MaintenanceWindow.objects.exists()
