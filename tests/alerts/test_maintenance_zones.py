"""Recurring maintenance windows repeat on the wall clock of their own time zone, not in UTC.

A team that plans "every Sunday 02:00-04:00 Europe/Berlin" keeps those local hours across the DST changes
(Europe changes on 29 March 2026, 01:00 UTC, and 25 October 2026, 01:00 UTC). The house DST rules apply, as
for on-call restriction windows: a local start in the skipped hour moves to the change; in the repeated hour a
start takes the first pass and an end the last.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse

from tests.alerts.conftest import Hooked, cycle, pd_trigger, post
from tests.api.conftest import ApiClient, client_with_token, error
from tests.conftest import World
from warroom.accounts.models import User
from warroom.alerts import services
from warroom.alerts.models import Alert, MaintenanceWindow
from warroom.incidents.models import Incident
from warroom.lib import clock

pytestmark = pytest.mark.django_db

ClientFor = Callable[[User], Client]
BERLIN = "Europe/Berlin"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _window(world: World, *, starts_at: datetime, ends_at: datetime, recurrence: str, **more: Any) -> Any:
    return services.create_maintenance_window(
        service=world.service_a,
        title="Patch night",
        starts_at=starts_at,
        ends_at=ends_at,
        recurrence=recurrence,
        actor=world.alice,
        source="test",
        **more,
    )


def _fire_at(at: datetime, pd: Hooked, dedup_key: str) -> Alert:
    with clock.frozen(at):
        assert post("/v2/enqueue", pd_trigger(pd.key, dedup_key)).status_code == 202
        cycle()
    return Alert.objects.get(dedup_key=dedup_key)


# --- repeats keep the local hours ------------------------------------------------------------------------------


def test_a_weekly_berlin_window_keeps_its_local_hours_after_the_spring_change(
    world: World, pd: Hooked
) -> None:
    # Sunday 22 March 2026, 02:00-04:00 CET (UTC+1): 01:00-03:00 UTC
    _window(
        world,
        starts_at=utc(2026, 3, 22, 1),
        ends_at=utc(2026, 3, 22, 3),
        recurrence="weekly",
        time_zone=BERLIN,
    )
    # Sunday 5 April 2026 is in CEST (UTC+2): 02:30 local is 00:30 UTC, 04:30 local is 02:30 UTC
    during = _fire_at(utc(2026, 4, 5, 0, 30), pd, "during")
    assert during.suppressed and during.incident is None
    after = _fire_at(utc(2026, 4, 5, 2, 30), pd, "after")
    assert not after.suppressed and after.incident is not None
    assert Incident.objects.count() == 1


def test_a_daily_berlin_window_keeps_its_local_hours(world: World) -> None:
    window = _window(
        world,
        starts_at=utc(2026, 3, 27, 1),
        ends_at=utc(2026, 3, 27, 3),
        recurrence="daily",
        time_zone=BERLIN,
    )
    # the day after the change: 02:00-04:00 CEST is 00:00-02:00 UTC
    assert window.is_active(utc(2026, 3, 30, 0, 30))  # 02:30 local
    assert not window.is_active(utc(2026, 3, 30, 2, 30))  # 04:30 local
    assert not window.is_active(utc(2026, 3, 29, 23, 50))  # 01:50 local
    # and after the autumn change, back in CET: 02:00-04:00 is 01:00-03:00 UTC
    assert window.is_active(utc(2026, 10, 27, 1, 30))
    assert not window.is_active(utc(2026, 10, 27, 0, 30))


def test_a_utc_window_still_repeats_in_utc(world: World) -> None:
    window = _window(world, starts_at=utc(2026, 3, 22, 1), ends_at=utc(2026, 3, 22, 3), recurrence="weekly")
    assert window.time_zone == "UTC"
    assert window.is_active(utc(2026, 4, 5, 1, 30)) and not window.is_active(utc(2026, 4, 5, 0, 30))


# --- the DST rules (docs/oncall.md, lib.wallclock) -------------------------------------------------------------


def test_a_start_in_the_skipped_hour_moves_to_the_change(world: World) -> None:
    # daily 02:30-03:30 Berlin; on 29 March 02:30 does not exist: the window opens at the change (03:00 CEST,
    # 01:00 UTC) and ends at 03:30 CEST (01:30 UTC)
    window = _window(
        world,
        starts_at=utc(2026, 3, 27, 1, 30),
        ends_at=utc(2026, 3, 27, 2, 30),
        recurrence="daily",
        time_zone=BERLIN,
    )
    assert not window.is_active(utc(2026, 3, 29, 0, 59))  # 01:59 CET
    assert window.is_active(utc(2026, 3, 29, 1, 0))  # 03:00 CEST, the change
    assert window.is_active(utc(2026, 3, 29, 1, 29))
    assert not window.is_active(utc(2026, 3, 29, 1, 30))  # 03:30 CEST


def test_in_the_repeated_hour_a_start_takes_the_first_pass_and_an_end_the_last(world: World) -> None:
    # daily 02:15-02:45 Berlin; on 25 October 02:00-03:00 happens twice (00:00-01:00 UTC in CEST, then 01:00-02:00
    # UTC in CET): the window runs from 02:15 CEST (00:15 UTC) to 02:45 CET (01:45 UTC)
    window = _window(
        world,
        starts_at=utc(2026, 10, 24, 0, 15),
        ends_at=utc(2026, 10, 24, 0, 45),
        recurrence="daily",
        time_zone=BERLIN,
    )
    assert not window.is_active(utc(2026, 10, 25, 0, 10))
    assert window.is_active(utc(2026, 10, 25, 0, 20))  # first pass
    assert window.is_active(utc(2026, 10, 25, 1, 0))
    assert window.is_active(utc(2026, 10, 25, 1, 40))  # second pass
    assert not window.is_active(utc(2026, 10, 25, 1, 45))
    # the next day, in CET: 01:15-01:45 UTC
    assert window.is_active(utc(2026, 10, 26, 1, 20)) and not window.is_active(utc(2026, 10, 26, 0, 20))
    assert window.current_or_next(utc(2026, 10, 24, 12)) == (
        utc(2026, 10, 25, 0, 15),
        utc(2026, 10, 25, 1, 45),
    )


def test_repeats_stop_at_repeat_until(world: World) -> None:
    window = _window(
        world,
        starts_at=utc(2026, 3, 22, 1),
        ends_at=utc(2026, 3, 22, 3),
        recurrence="weekly",
        time_zone=BERLIN,
        repeat_until=utc(2026, 4, 1),
    )
    assert window.is_active(utc(2026, 3, 29, 1, 30))  # 03:30 CEST (02:00 was skipped: it opened at 03:00)
    assert not window.is_active(utc(2026, 4, 5, 0, 30))
    assert window.current_or_next(utc(2026, 4, 1)) is None


# --- the API ----------------------------------------------------------------------------------------------------


@pytest.fixture
def alice_api(world: World) -> ApiClient:
    return client_with_token(world.alice)


def test_the_api_round_trips_the_time_zone(alice_api: ApiClient, world: World) -> None:
    created = alice_api.post(
        "/services/checkout/maintenance",
        {
            "title": "Patch night",
            "starts_at": "2026-03-22T02:00:00",  # no offset: local in time_zone
            "ends_at": "2026-03-22T04:00:00",
            "recurrence": "weekly",
            "time_zone": BERLIN,
        },
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["time_zone"] == BERLIN
    assert body["starts_at"].startswith("2026-03-22T01:00:00") and body["ends_at"].startswith(
        "2026-03-22T03:00:00"
    )
    shown = alice_api.get(f"/services/checkout/maintenance/{body['id']}").json()
    assert shown["time_zone"] == BERLIN
    with clock.frozen(utc(2026, 4, 5, 0, 30)):  # 02:30 CEST
        assert alice_api.get(f"/services/checkout/maintenance/{body['id']}").json()["active"] is True
    changed = alice_api.patch(
        f"/services/checkout/maintenance/{body['id']}", {"time_zone": "America/New_York"}
    )
    assert changed.status_code == 200 and changed.json()["time_zone"] == "America/New_York"
    assert changed.json()["starts_at"] == body["starts_at"]  # the first occurrence keeps its instants


def test_the_api_defaults_to_utc(alice_api: ApiClient) -> None:
    created = alice_api.post(
        "/services/checkout/maintenance",
        {"title": "Upgrade", "starts_at": "2026-03-02T09:00:00", "ends_at": "2026-03-02T10:00:00"},
    )
    assert created.status_code == 201, created.json()
    assert created.json()["time_zone"] == "UTC" and created.json()["starts_at"].startswith(
        "2026-03-02T09:00:00"
    )


@pytest.mark.parametrize(
    ("zone", "status"),
    [("Mars/Olympus", 400), ("localtime", 400), ("", 400), ("../etc/passwd", 400), (7, 422)],
)
def test_a_bad_time_zone_is_refused_naming_it(
    alice_api: ApiClient, world: World, zone: Any, status: int
) -> None:
    body = {
        "title": "Upgrade",
        "starts_at": "2026-03-02T09:00:00Z",
        "ends_at": "2026-03-02T10:00:00Z",
        "time_zone": zone,
    }
    response = alice_api.post("/services/checkout/maintenance", body)
    assert response.status_code == status, response.json()
    assert error(response)["errors"][0]["field"] == "time_zone"
    assert not MaintenanceWindow.objects.exists()
    window = _window(world, starts_at=utc(2026, 3, 2, 9), ends_at=utc(2026, 3, 2, 10), recurrence="daily")
    patched = alice_api.patch(f"/services/checkout/maintenance/{window.pk}", {"time_zone": zone})
    assert patched.status_code == status and error(patched)["errors"][0]["field"] == "time_zone"
    assert MaintenanceWindow.objects.get().time_zone == "UTC"


# --- the console ------------------------------------------------------------------------------------------------


def test_the_console_plans_in_the_users_zone_and_shows_the_windows_zone(
    client_for: ClientFor, world: World
) -> None:
    world.alice.time_zone = BERLIN
    world.alice.save(update_fields=["time_zone"])
    alice = client_for(world.alice)
    url = reverse("web:maintenance-list", args=[world.service_a.slug])
    form = alice.get(url).content.decode()
    assert f'<option value="{BERLIN}" selected>' in form
    assert "repeat in UTC" not in form
    response = alice.post(
        url,
        {
            "title": "Patch night",
            "starts_at": "2026-03-22T02:00",
            "ends_at": "2026-03-22T04:00",
            "time_zone": BERLIN,
            "recurrence": "weekly",
        },
    )
    assert response.status_code == 302
    window = MaintenanceWindow.objects.get()
    assert window.time_zone == BERLIN and window.starts_at == utc(2026, 3, 22, 1)
    with clock.frozen(utc(2026, 4, 1, 12)):
        page = alice.get(url).content.decode()
    row = page[page.index(f'id="window-{window.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "2026-03-22 02:00" in row and BERLIN in row
    assert "2026-04-05 02:00" in row  # the next occurrence, still at 02:00 local after the change


def test_the_console_refuses_a_zone_it_does_not_offer(client_for: ClientFor, world: World) -> None:
    response = client_for(world.alice).post(
        reverse("web:maintenance-list", args=[world.service_a.slug]),
        {
            "title": "Patch night",
            "starts_at": "2026-03-22T02:00",
            "ends_at": "2026-03-22T04:00",
            "time_zone": "Mars/Olympus",
            "recurrence": "weekly",
        },
    )
    assert response.status_code == 400
    assert not MaintenanceWindow.objects.exists()


def test_the_service_page_shows_a_recurring_window_between_occurrences_as_scheduled(
    client_for: ClientFor, world: World
) -> None:
    _window(
        world,
        starts_at=utc(2026, 3, 22, 1),
        ends_at=utc(2026, 3, 22, 3),
        recurrence="weekly",
        time_zone=BERLIN,
    )
    alice = client_for(world.alice)
    url = reverse("web:service-detail", args=[world.service_a.slug])
    with clock.frozen(utc(2026, 4, 1, 12)):  # a Wednesday: between occurrences
        between = alice.get(url).content.decode()
    assert "Patch night" in between
    panel = between[between.index("Maintenance windows") :]
    assert "Scheduled</span> Patch night" in panel
    with clock.frozen(utc(2026, 4, 5, 0, 30)):  # Sunday 02:30 CEST
        during = alice.get(url).content.decode()
    assert "Active</span> Patch night" in during


# --- the migration ----------------------------------------------------------------------------------------------

BEFORE = [("alerts", "0007_sealed_signing_secret")]
AFTER = [("alerts", "0008_maintenance_window_time_zone")]


@pytest.fixture
def old_alerts_schema(world: World) -> Iterator[Any]:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    executor.loader.build_graph()
    try:
        yield executor.loader.project_state(BEFORE).apps
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_existing_windows_keep_repeating_in_utc(old_alerts_schema: Any, world: World) -> None:
    old = old_alerts_schema.get_model("alerts", "MaintenanceWindow")
    pk = old.objects.create(
        service_id=world.service_a.pk,
        title="Old weekly",
        starts_at=utc(2026, 3, 22, 1),
        ends_at=utc(2026, 3, 22, 3),
        recurrence="weekly",
        created_at=utc(2026, 3, 1),
    ).pk
    MigrationExecutor(connection).migrate(AFTER)
    window = MaintenanceWindow.objects.get(pk=pk)
    assert window.time_zone == "UTC"
    assert window.is_active(utc(2026, 4, 5, 1, 30)) and not window.is_active(utc(2026, 4, 5, 0, 30))
