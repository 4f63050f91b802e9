"""Keep who acted as text on each audit row (email and name as they were), and PROTECT the actor instead of
SET_NULL: deleting a user would otherwise UPDATE audit rows, which migration 0003 makes impossible. Existing
rows get their actor's current email and name."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill_actor_text(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    actor = User.objects.filter(pk=OuterRef("actor_id"))
    AuditEvent.objects.filter(actor__isnull=False).update(
        actor_email=Subquery(actor.values("email")[:1]),
        actor_name=Subquery(actor.values("full_name")[:1]),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="actor_email",
            field=models.CharField(blank=True, default="", max_length=254),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="actor_name",
            field=models.CharField(blank=True, default="", max_length=150),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="actor",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(fill_actor_text, migrations.RunPython.noop, elidable=False),
    ]
