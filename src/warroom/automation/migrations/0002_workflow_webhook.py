import django.db.models.deletion
from django.db import migrations, models

import warroom.lib.sealed


class Migration(migrations.Migration):
    dependencies = [
        ("automation", "0001_initial"),
        ("comms", "0005_delivery_category"),
    ]

    operations = [
        migrations.AddField(
            model_name="workflow",
            name="webhook_secret",
            field=warroom.lib.sealed.SealedJSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="workflow",
            name="webhook_url",
            field=models.CharField(blank=True, max_length=500),
        ),
        migrations.AddField(
            model_name="workflow",
            name="last_test_call",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="comms.delivery",
            ),
        ),
        migrations.AddField(
            model_name="workflowrun",
            name="delivery",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="comms.delivery",
            ),
        ),
        migrations.AlterField(
            model_name="workflow",
            name="trigger",
            field=models.CharField(
                choices=[
                    ("declared", "An incident is declared"),
                    ("acknowledged", "An incident is acknowledged"),
                    ("priority", "An incident's priority changes"),
                    ("major", "An incident becomes major"),
                    ("resolved", "An incident is resolved"),
                    ("closed", "An incident is closed"),
                ],
                max_length=16,
            ),
        ),
    ]
