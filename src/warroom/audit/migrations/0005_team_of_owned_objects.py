"""Audit rows about objects that belong to a team through their owner (a schedule's layers and overrides, an
integration and its keys, a status page's components, groups and updates...) name that team too, as new rows do
since ``audit.services.team_of`` follows the owner. Older rows without a team get it where the object still
exists; the append-only triggers are dropped and created again around the fill, in this migration's transaction.
"""

import importlib

from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import migrations

append_only = importlib.import_module("warroom.audit.migrations.0003_append_only")

#: the owners followed, in order (frozen here: audit.services.OWNERS may change later)
OWNERS = (
    "team",
    "incident",
    "service",
    "schedule",
    "page",
    "policy",
    "integration",
    "postmortem",
    "problem",
    "layer",
)


def _team_of(obj, depth=0):
    if obj._meta.label_lower == "accounts.team":
        return obj.pk
    if depth > 3:
        return None
    for name in OWNERS:
        try:
            field = obj._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if not field.many_to_one:
            continue
        if name == "team":
            return obj.team_id
        try:
            owner = getattr(obj, name)
        except ObjectDoesNotExist:
            return None
        return _team_of(owner, depth + 1) if owner is not None else None
    return None


def fill_team(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    orphans = AuditEvent.objects.filter(team__isnull=True)
    pending = []
    for object_type in sorted(set(orphans.values_list("object_type", flat=True).distinct())):
        app_label, _, model_name = object_type.partition(".")
        try:
            model = apps.get_model(app_label, model_name)
        except LookupError:
            continue
        ids = sorted(
            {
                int(v)
                for v in orphans.filter(object_type=object_type).values_list("object_id", flat=True)
                if v.isdigit() and len(v) <= 18
            }
        )
        by_team = {}
        for start in range(0, len(ids), 500):
            for obj in model.objects.filter(pk__in=ids[start : start + 500]):
                team_id = _team_of(obj)
                if team_id is not None:
                    by_team.setdefault(team_id, []).append(str(obj.pk))
        pending.extend((object_type, team_id, object_ids) for team_id, object_ids in by_team.items())
    if not pending:
        return
    append_only.drop_triggers(apps, schema_editor)
    for object_type, team_id, object_ids in pending:
        for start in range(0, len(object_ids), 500):
            orphans.filter(object_type=object_type, object_id__in=object_ids[start : start + 500]).update(
                team_id=team_id
            )
    append_only.create_triggers(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0004_team_of_event"),
        ("accounts", "0003_api_token_expiry_and_scope"),
        ("alerts", "0008_maintenance_window_time_zone"),
        ("catalog", "0001_initial"),
        ("comms", "0004_pagesubscriber_email_ci"),
        ("incidents", "0005_lean_indexes"),
        ("notify", "0004_sealed_secrets"),
        ("oncall", "0002_escalation_policies"),
        ("paging", "0004_acknowledged_by"),
        ("reviews", "0003_problem_search"),
    ]

    operations = [migrations.RunPython(fill_team, migrations.RunPython.noop, elidable=False)]
