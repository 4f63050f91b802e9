"""Seed the configurable lists with sensible defaults: the ITIL priority matrix, the four incident roles
and a starter set of categories. All of them can be edited afterwards."""

from django.db import migrations

ITIL = {(1, 1): 1, (1, 2): 2, (1, 3): 3, (2, 1): 2, (2, 2): 3, (2, 3): 4, (3, 1): 3, (3, 2): 4, (3, 3): 5}

ROLES = [
    ("incident-commander", "Incident Commander", "Leads the response and makes the decisions."),
    ("communications-lead", "Communications Lead", "Keeps stakeholders and the status page informed."),
    ("scribe", "Scribe", "Keeps the timeline complete and accurate."),
    ("sme", "Subject Matter Expert", "Brings deep knowledge of the affected system."),
]

CATEGORIES = {
    "Application": ["Bug", "Performance", "Error rate", "Deployment"],
    "Infrastructure": ["Compute", "Storage", "Network", "DNS", "Certificates"],
    "Database": ["Availability", "Replication", "Performance", "Capacity"],
    "Security": ["Access", "Vulnerability", "Suspicious activity"],
    "Third party": ["Vendor outage", "Payment provider", "Email delivery"],
    "Request": ["Access request", "Information"],
}


def seed(apps, schema_editor):
    PriorityRule = apps.get_model("incidents", "PriorityRule")
    RoleType = apps.get_model("incidents", "RoleType")
    Category = apps.get_model("incidents", "Category")
    Subcategory = apps.get_model("incidents", "Subcategory")
    Counter = apps.get_model("incidents", "Counter")
    for (impact, urgency), priority in ITIL.items():
        PriorityRule.objects.get_or_create(impact=impact, urgency=urgency, defaults={"priority": priority})
    for position, (slug, name, description) in enumerate(ROLES):
        RoleType.objects.get_or_create(
            slug=slug, defaults={"name": name, "description": description, "position": position}
        )
    for position, (name, subs) in enumerate(CATEGORIES.items()):
        category, _ = Category.objects.get_or_create(name=name, defaults={"position": position})
        for sub_position, sub in enumerate(subs):
            Subcategory.objects.get_or_create(
                category=category, name=sub, defaults={"position": sub_position}
            )
    Counter.objects.get_or_create(name="incident", defaults={"value": 1000})


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
