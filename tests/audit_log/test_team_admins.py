"""A team's admins read the audit rows about their team's objects (API, CSV and console); rows about another
team, or about no team (people, tokens), stay with organisation admins. Each row names its team."""

from __future__ import annotations

import csv
import importlib
import io
from datetime import datetime

import pytest
from django.apps import apps as django_apps
from django.db import IntegrityError, connection, transaction
from django.test import Client

from tests.api.conftest import Clients
from tests.audit_log.conftest import Log
from warroom.accounts import services as accounts
from warroom.alerts import services as alerts
from warroom.audit.models import AuditEvent
from warroom.catalog import services as catalog
from warroom.lib import clock
from warroom.oncall import services as oncall


def _objects(body: dict) -> set[tuple[str, str]]:
    return {(item["action"], item["object_type"]) for item in body["items"]}


def test_a_team_admin_reads_their_teams_rows_only(api: Clients, log: Log) -> None:
    world = log.world
    catalog.create_service(team=world.team_b, name="Ledger", actor=world.charlie, source="web")
    accounts.create_api_token(user=world.alice, name="ci", actor=world.alice, source="web")

    alice = api.alice.get("/audit", limit=500)

    assert alice.status_code == 200
    items = alice.json()["items"]
    assert items and {item["team"]["slug"] for item in items} == {"team-a"}
    assert ("service.create", "catalog.service") in _objects(alice.json())  # Search, at T1
    assert ("team.member.set", "accounts.membership") in _objects(alice.json())  # bob's role, at T3
    names = {(item["after"] or {}).get("name") for item in items}
    assert "Ledger" not in names and "Team C" not in names and "ci" not in names

    charlie = api.charlie.get("/audit", limit=500).json()["items"]
    assert {item["team"]["slug"] for item in charlie} == {"team-b"}
    assert "Ledger" in {(item["after"] or {}).get("name") for item in charlie}

    everything = api.olivia.get("/audit", limit=500).json()["items"]
    assert len(everything) > len(items) + len(charlie)
    assert any(item["team"] is None for item in everything)  # the token, the users


def test_the_filters_apply_within_the_team(api: Clients, log: Log) -> None:
    body = api.alice.get("/audit", action="service.").json()
    assert [item["object_id"] for item in body["items"]] == [
        str(log.search.pk),
        str(log.world.service_a.pk),
    ]
    assert (
        api.alice.get("/audit", object_type="accounts.team", object_id=str(log.world.team_b.pk)).json()[
            "count"
        ]
        == 0
    )


def test_the_csv_and_the_console_page_are_scoped_the_same_way(api: Clients, log: Log) -> None:
    rows = list(csv.DictReader(io.StringIO(b"".join(api.alice.get("/audit.csv").streaming_content).decode())))
    assert rows and "Team C" not in {r["after"] for r in rows}
    assert len(rows) == api.alice.get("/audit").json()["count"]

    console = Client()
    console.force_login(log.world.alice)
    page = console.get("/settings/audit/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "rows about the teams you are an admin of" in text
    assert "Search" in text and "Team C" not in text


class _Editor:
    """What the migration's RunPython uses of a schema editor, on the test's connection (a real schema editor
    cannot open inside the test's transaction on SQLite)."""

    def __init__(self) -> None:
        self.connection = connection

    def execute(self, sql: str, params: object = None) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql)


def test_the_migration_gives_older_rows_their_objects_team_and_keeps_them_append_only(log: Log) -> None:
    world = log.world
    older = [
        AuditEvent.objects.create(
            at=clock.now(), source="system", action=action, object_type=object_type, object_id=object_id
        )
        for action, object_type, object_id in [
            ("service.create", "catalog.service", str(world.service_b.pk)),
            ("team.create", "accounts.team", str(world.team_a.pk)),
            ("user.create", "accounts.user", str(world.bob.pk)),
            ("service.create", "catalog.service", "999999"),
        ]
    ]
    assert all(row.team_id is None for row in older)

    migration = importlib.import_module("warroom.audit.migrations.0004_team_of_event")
    migration.fill_team(django_apps, _Editor())

    teams = [AuditEvent.objects.get(pk=row.pk).team_id for row in older]
    assert teams == [world.team_b.pk, world.team_a.pk, None, None]
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=older[0].pk).update(action="tampered")


def test_rows_about_what_a_team_owns_through_another_object_name_that_team(api: Clients, log: Log) -> None:
    """A schedule's layer, an integration and its key belong to the team of their schedule or service: its
    admins read those rows (API and CSV, which names the team), another team's admins do not."""
    world = log.world
    schedule = oncall.create_schedule(
        team=world.team_a, name="Primary", time_zone="Europe/London", actor=world.alice, source="web"
    )
    oncall.create_layer(
        schedule=schedule,
        name="Weekly",
        start=datetime(2036, 1, 5, 9, 0),
        participants=[world.bob],
        actor=world.alice,
        source="web",
    )
    integration = alerts.create_integration(
        service=log.search, kind="webhook", name="Probe", actor=world.alice, source="web"
    )
    alerts.create_integration_key(integration=integration, actor=world.alice, source="web")

    owned = {"oncall.layer", "alerts.integration", "alerts.integrationkey"}
    alice = {item["object_type"]: item for item in api.alice.get("/audit", limit=500).json()["items"]}
    assert owned <= set(alice)
    assert {alice[kind]["team"]["slug"] for kind in owned} == {"team-a"}
    charlie = {item["object_type"] for item in api.charlie.get("/audit", limit=500).json()["items"]}
    assert not owned & charlie

    rows = list(csv.DictReader(io.StringIO(b"".join(api.alice.get("/audit.csv").streaming_content).decode())))
    layer = next(r for r in rows if r["object_type"] == "oncall.layer")
    assert (layer["team_id"], layer["team"]) == (str(world.team_a.pk), "Team A")


def test_the_migration_gives_older_rows_of_owned_objects_their_owners_team(log: Log) -> None:
    world = log.world
    integration = alerts.create_integration(
        service=world.service_b, kind="webhook", name="Probe", actor=world.charlie, source="web"
    )
    older = [
        AuditEvent.objects.create(
            at=clock.now(), source="system", action=action, object_type=object_type, object_id=object_id
        )
        for action, object_type, object_id in [
            ("integration.create", "alerts.integration", str(integration.pk)),
            ("user.create", "accounts.user", str(world.bob.pk)),
            ("integration.create", "alerts.integration", "999999"),
        ]
    ]
    migration = importlib.import_module("warroom.audit.migrations.0005_team_of_owned_objects")
    migration.fill_team(django_apps, _Editor())

    assert [AuditEvent.objects.get(pk=row.pk).team_id for row in older] == [world.team_b.pk, None, None]
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=older[0].pk).update(action="tampered")
