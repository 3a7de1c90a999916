"""The engine's covering index also carries the contact: persona coverage reads it (docs/ACCOUNTS.md)."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0005_activity_covering_index"),
        ("pods", "0003_pod_slug_not_reserved"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # The new index first, so the engine's read is never without one.
    operations = [
        migrations.AddIndex(
            model_name="activity",
            index=models.Index(
                fields=["pod", "occurred_at"],
                include=("account", "job", "channel", "id", "contact"),
                name="activity_pod_time_contact",
            ),
        ),
        migrations.RemoveIndex(model_name="activity", name="activity_pod_time"),
    ]
