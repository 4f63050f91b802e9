"""Each audit row names the team of its object (``team``), so a team's admins can read their team's rows.

Existing rows get the team their object belongs to now, where the object still exists and has a team (a team
itself, or any model with a ``team`` field); the rest stay without a team (organisation admins only). The
append-only triggers (migration 0003) refuse that UPDATE, so the backfill drops them, fills, and creates them
again, in this migration's transaction. Adding a nullable column keeps the table (and its triggers) on SQLite;
the triggers are created again at the end all the same.
"""

import importlib

from django.db import migrations, models

append_only = importlib.import_module("warroom.audit.migrations.0003_append_only")


def _team_by_object(apps, object_type, ids):
    """{object id (text): team id} for ``ids`` of ``object_type`` (``app_label.model``), where known."""
    app_label, _, model_name = object_type.partition(".")
    try:
        model = apps.get_model(app_label, model_name)
    except LookupError:
        return {}
    if object_type == "accounts.team":
        existing = model.objects.filter(pk__in=ids).values_list("pk", flat=True)
        return {str(pk): pk for pk in existing}
    field_names = {f.name for f in model._meta.get_fields()}
    if "team" not in field_names:
        return {}
    rows = model.objects.filter(pk__in=ids, team__isnull=False).values_list("pk", "team_id")
    return {str(pk): team_id for pk, team_id in rows}


def fill_team(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    types = AuditEvent.objects.values_list("object_type", flat=True).distinct()
    pending = []
    for object_type in sorted(set(types)):
        ids = {
            int(v)
            for v in AuditEvent.objects.filter(object_type=object_type).values_list("object_id", flat=True)
            if v.isdigit() and len(v) <= 18
        }
        if ids:
            found = _team_by_object(apps, object_type, sorted(ids))
            by_team = {}
            for object_id, team_id in found.items():
                by_team.setdefault(team_id, []).append(object_id)
            pending.extend((object_type, team_id, object_ids) for team_id, object_ids in by_team.items())
    if not pending:
        return
    append_only.drop_triggers(apps, schema_editor)
    for object_type, team_id, object_ids in pending:
        for start in range(0, len(object_ids), 500):
            AuditEvent.objects.filter(
                object_type=object_type, object_id__in=object_ids[start : start + 500]
            ).update(team_id=team_id)
    append_only.create_triggers(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_api_token_expiry_and_scope"),
        ("audit", "0003_append_only"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="team",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=models.deletion.DO_NOTHING,
                related_name="+",
                to="accounts.team",
            ),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["team", "at"], name="audit_event_team_at"),
        ),
        migrations.RunPython(fill_team, migrations.RunPython.noop, elidable=False),
        # SQLite keeps the table for a nullable column, but a rebuild would drop the triggers: make sure
        migrations.RunPython(append_only.drop_triggers, migrations.RunPython.noop, elidable=False),
        migrations.RunPython(append_only.create_triggers, migrations.RunPython.noop, elidable=False),
    ]
