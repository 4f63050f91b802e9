"""Append-only holds in the database: a bulk update or delete, or raw SQL, is refused with "audit events are
append-only"; deleting a person who acted is refused (their rows keep who they were); ``flush`` still empties
the database."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.models import ProtectedError

from tests.conftest import World
from warroom.accounts import services as accounts
from warroom.audit import services as audit
from warroom.audit.models import AuditEvent

TABLE = AuditEvent._meta.db_table


def _refused(statement: Any) -> str:
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        statement()
    return str(caught.value)


def _sql(sql: str) -> Any:
    def run() -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql)

    return run


def test_rows_keep_who_acted_as_text(world: World) -> None:
    row = audit.record(actor=world.alice, source="api", action="test.thing", obj=world.team_a)
    row.refresh_from_db()
    assert (row.actor_id, row.actor_email, row.actor_name) == (
        world.alice.pk,
        "alice@example.com",
        "Alice Admin",
    )


def test_bulk_update_and_delete_and_raw_sql_are_refused(world: World) -> None:
    count = AuditEvent.objects.count()
    assert count > 0
    assert "audit events are append-only" in _refused(lambda: AuditEvent.objects.update(action="forged"))
    assert "append-only" in _refused(lambda: AuditEvent.objects.filter(action="team.create").delete())
    assert "append-only" in _refused(_sql(f"UPDATE {TABLE} SET action = 'forged'"))
    assert "append-only" in _refused(_sql(f"DELETE FROM {TABLE}"))
    if connection.vendor == "postgresql":  # (deferred foreign key checks first, or TRUNCATE refuses for them)
        _sql("SET CONSTRAINTS ALL IMMEDIATE")()
        assert "append-only" in _refused(_sql(f"TRUNCATE {TABLE}"))
    assert AuditEvent.objects.count() == count
    assert not AuditEvent.objects.filter(action="forged").exists()


def test_a_row_refuses_save_and_delete_too(world: World) -> None:
    row = AuditEvent.objects.first()
    assert row is not None
    with pytest.raises(ValueError, match="append-only"):
        row.save()
    with pytest.raises(ValueError, match="append-only"):
        row.delete()


def test_deleting_a_person_who_acted_is_refused_and_their_rows_stay(world: World) -> None:
    accounts.create_team(name="Team C", actor=world.olivia, source="web")
    with pytest.raises(ProtectedError), transaction.atomic():
        world.olivia.delete()
    row = AuditEvent.objects.get(action="team.create", actor=world.olivia)
    assert row.actor_email == "olivia@example.com"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_flush_still_empties_the_database(world: World) -> None:
    assert AuditEvent.objects.exists()
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEvent.objects.exists()
    # and the guard is back up afterwards
    audit.record(actor=None, source="system", action="test.after", obj=world.team_a)
    assert "append-only" in _refused(lambda: AuditEvent.objects.all().delete())


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_migration_fills_the_actor_text_of_existing_rows(world: World) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate([("audit", "0001_initial")])
    try:
        old = MigrationExecutor(connection).loader.project_state([("audit", "0001_initial")]).apps
        old_event = old.get_model("audit", "AuditEvent")
        made = old_event.objects.create(
            at=world.team_a.created_at,
            actor_id=world.bob.pk,
            source="web",
            action="old.row",
            object_type="x",
            object_id="1",
        )
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    row = AuditEvent.objects.get(pk=made.pk)
    assert (row.actor_email, row.actor_name) == ("bob@example.com", "Bob Responder")
    assert "append-only" in _refused(lambda: AuditEvent.objects.filter(pk=made.pk).update(action="x"))
