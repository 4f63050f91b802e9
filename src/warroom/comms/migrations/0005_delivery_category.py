from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("comms", "0004_pagesubscriber_email_ci"),
    ]

    operations = [
        migrations.AddField(
            model_name="delivery",
            name="category",
            field=models.CharField(
                db_default="stakeholder_update", default="stakeholder_update", max_length=32
            ),
        ),
    ]
