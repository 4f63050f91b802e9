"""Helpers for the project's migrations."""

from __future__ import annotations

from typing import Any

from django.db import migrations
from django.db.migrations.operations.base import Operation

from warroom.lib.sealed import reseal, unseal_stored


def drop_key_index(alter: migrations.AlterField, *, index: str, table: str, column: str) -> Operation:
    """``alter`` turns ``db_index`` off on a foreign key: drop only the key's index.

    Django's own way drops the foreign key constraint and adds it again, which validates every row of the table
    under a lock that blocks its writes; the index is all that changes. ``index`` is the name Django gave it
    (the same on every database, see ``sqlmigrate``); going back creates it again."""
    return migrations.SeparateDatabaseAndState(
        state_operations=[alter],
        database_operations=[
            migrations.RunSQL(
                f'DROP INDEX IF EXISTS "{index}"',
                reverse_sql=f'CREATE INDEX "{index}" ON "{table}" ("{column}")',
            )
        ],
    )


def seal_stored(app_label: str, field: str, *model_names: str) -> Operation:
    """After the ``AlterField`` that makes ``field`` of ``model_names`` sealed (:mod:`warroom.lib.sealed`): seal
    what is stored; going back, store it in the clear again (before the field turns plain)."""

    def forwards(apps: Any, schema_editor: Any) -> None:
        for name in model_names:
            reseal(apps.get_model(app_label, name), field)

    def backwards(apps: Any, schema_editor: Any) -> None:
        for name in model_names:
            unseal_stored(apps.get_model(app_label, name), field)

    return migrations.RunPython(forwards, backwards)
