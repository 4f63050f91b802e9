import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("comms", "0003_merge_email_subscribers")]

    operations = [
        migrations.AddConstraint(
            model_name="pagesubscriber",
            constraint=models.UniqueConstraint(
                models.F("page"),
                django.db.models.functions.text.Lower("address"),
                condition=models.Q(("kind", "email")),
                name="comms_page_subscriber_email_ci",
            ),
        ),
    ]
