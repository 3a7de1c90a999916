"""Persona coverage and rejection reasons join the snapshots (docs/ACCOUNTS.md).

A contact's persona now feeds a figure, so changing it marks its activities' days dirty; and every
pod is marked dirty once, so the next refresh writes the new keys into the snapshots already stored.
"""

from django.db import migrations

from metrics.dirty_marks import CONTACT_PERSONA_SQL, CONTACT_PERSONA_UNINSTALL_SQL

RECOMPUTE_EVERY_POD = "INSERT INTO metrics_dirtyrange (pod_id, from_day, to_day) SELECT id, NULL, NULL FROM pods_pod;"


class Migration(migrations.Migration):
    dependencies = [("metrics", "0004_period_to_date"), ("jobs", "0006_activity_index_covers_contact")]

    operations = [
        migrations.RunSQL(CONTACT_PERSONA_SQL, CONTACT_PERSONA_UNINSTALL_SQL),
        migrations.RunSQL(RECOMPUTE_EVERY_POD, migrations.RunSQL.noop),
    ]
