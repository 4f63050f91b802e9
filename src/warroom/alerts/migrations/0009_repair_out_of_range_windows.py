"""Repair maintenance windows stored outside the instants psycopg can read (PostgreSQL only).

Before ``warroom.lib.instants`` checked them, a window could be saved with ``9999-12-31T23:59:59-01:00`` (stored
as year 10000 UTC) or ``0001-01-01T00:00:00+01:00`` (stored as 1 BC): PostgreSQL keeps those, psycopg cannot read
them back, and the window, its service's page and the maintenance console answered 500 from then on. This
migration makes every stored window readable again:

* a window whose first occurrence starts outside 0001-01-01T00:00Z .. 9999-12-31T23:59:59.999999Z is deleted (it
  never happens); alerts it marked as suppressed keep their suppression without the link, and a status page
  maintenance loses the link to it, as when a window is deleted through the API;
* an ``ends_at`` or ``repeat_until`` beyond year 9999 is clamped to 2200-12-31T23:59:59.999999Z, the last instant
  Warroom accepts (or, for a window that starts later than that, to 9999-12-31T23:59:59.999999Z).

Only the ids are read (the timestamps stay in SQL). SQLite never stored such windows (Django's conversion to UTC
overflowed first, and nothing was saved), so there the migration does nothing. Going back changes nothing.
"""

from typing import Any

from django.db import migrations

EARLIEST_READABLE = "0001-01-01 00:00:00+00"
LATEST_READABLE = "9999-12-31 23:59:59.999999+00"
LATEST_ACCEPTED = "2200-12-31 23:59:59.999999+00"

REFERENCES = """
SELECT c.conrelid::regclass::text, a.attname, NOT a.attnotnull
FROM pg_constraint c
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
WHERE c.contype = 'f' AND c.confrelid = %s::regclass AND array_length(c.conkey, 1) = 1
"""


def repair(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    window = apps.get_model("alerts", "MaintenanceWindow")
    # The names below come from the model and from the catalog, never from input; the values are parameters.
    table = schema_editor.quote_name(window._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {table} WHERE starts_at < %s::timestamptz OR starts_at >= %s::timestamptz",  # noqa: S608
            [EARLIEST_READABLE, LATEST_READABLE],
        )
        doomed = [row[0] for row in cursor.fetchall()]
        if doomed:
            cursor.execute(REFERENCES, [window._meta.db_table])
            for referrer, column, nullable in cursor.fetchall():
                where = f"{schema_editor.quote_name(column)} = ANY(%s)"
                if nullable:  # e.g. an alert's suppressed_by: set null, as on_delete=SET_NULL does
                    sql = f"UPDATE {referrer} SET {schema_editor.quote_name(column)} = NULL WHERE {where}"  # noqa: S608
                else:  # e.g. a status page maintenance's link to its alert windows
                    sql = f"DELETE FROM {referrer} WHERE {where}"  # noqa: S608
                cursor.execute(sql, [doomed])
            cursor.execute(f"DELETE FROM {table} WHERE id = ANY(%s)", [doomed])  # noqa: S608
        for column in ("ends_at", "repeat_until"):
            name = schema_editor.quote_name(column)
            cursor.execute(
                f"UPDATE {table} SET {name} = CASE WHEN starts_at < %s::timestamptz THEN %s::timestamptz "  # noqa: S608
                f"ELSE %s::timestamptz END WHERE {name} > %s::timestamptz",
                [LATEST_ACCEPTED, LATEST_ACCEPTED, LATEST_READABLE, LATEST_READABLE],
            )


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0008_maintenance_window_time_zone"),
    ]

    operations = [
        migrations.RunPython(repair, migrations.RunPython.noop, elidable=True),
    ]
