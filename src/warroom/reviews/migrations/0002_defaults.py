"""Seed the configurable parts with sensible defaults: the standard postmortem template, the contributing-factor
taxonomy and the postmortem policy (P1 and P2 need a postmortem). All of them can be edited afterwards."""

from django.db import migrations
from django.utils import timezone

SECTIONS = [
    {
        "key": "summary",
        "title": "Summary",
        "hint": "What happened, in a few sentences, for someone who was not there.",
    },
    {"key": "impact", "title": "Impact", "hint": "Who and what was affected, how badly and for how long."},
    {
        "key": "timeline",
        "title": "Timeline",
        "hint": "Context for the key events listed with the postmortem.",
    },
    {
        "key": "root-cause",
        "title": "Root cause",
        "hint": "The underlying cause; the 5 whys chain records the reasoning.",
    },
    {
        "key": "contributing-factors",
        "title": "Contributing factors",
        "hint": "What made it worse or likelier; each factor is also recorded with a category.",
    },
    {
        "key": "went-well",
        "title": "What went well",
        "hint": "Detection, tools, people and decisions that helped.",
    },
    {
        "key": "went-badly",
        "title": "What went badly",
        "hint": "What slowed the response or widened the impact.",
    },
    {
        "key": "lessons",
        "title": "Lessons learned",
        "hint": "What we will keep doing, start doing and stop doing.",
    },
]

CATEGORIES = [
    ("change", "Change", "A deployment, configuration push or other planned change."),
    ("capacity", "Capacity", "Load, saturation, quotas or resource exhaustion."),
    ("dependency", "Dependency", "An upstream service, vendor or third party."),
    ("configuration", "Configuration", "A wrong, missing or drifting setting."),
    ("monitoring-gap", "Monitoring gap", "Missing, noisy or late alerting and dashboards."),
    ("process", "Process", "Runbooks, handovers, reviews or change management."),
    ("human-factors", "Human factors", "Fatigue, ambiguity, tooling that invited a mistake."),
    ("security", "Security", "An attack, a vulnerability or an access problem."),
    ("data", "Data", "Bad, corrupt, unexpected or missing data."),
]


def seed(apps, schema_editor):
    Template = apps.get_model("reviews", "PostmortemTemplate")
    Category = apps.get_model("reviews", "FactorCategory")
    Policy = apps.get_model("reviews", "PostmortemPolicy")
    now = timezone.now()
    template, _ = Template.objects.get_or_create(
        name="Standard postmortem",
        defaults={
            "description": "Blameless review: what happened, why, and what we change.",
            "sections": SECTIONS,
            "is_default": True,
            "created_at": now,
            "updated_at": now,
        },
    )
    for position, (slug, name, description) in enumerate(CATEGORIES):
        Category.objects.get_or_create(
            slug=slug, defaults={"name": name, "description": description, "position": position}
        )
    Policy.objects.get_or_create(
        pk=1, defaults={"required_priorities": [1, 2], "template": template, "due_days": 5, "updated_at": now}
    )


class Migration(migrations.Migration):
    dependencies = [("reviews", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
