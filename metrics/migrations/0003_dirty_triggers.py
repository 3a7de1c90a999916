"""Triggers that mark metric periods dirty on every write, in the writer's own transaction.

Statement-level triggers with transition tables: one INSERT of the distinct local days (or
day ranges) touched per statement, so a bulk ``COPY``-based import costs one extra statement,
not one per row.  See ``metrics/dirty_marks.py`` for what each table marks and why.
"""

from django.db import migrations

from metrics.dirty_marks import install_sql, uninstall_sql


class Migration(migrations.Migration):
    dependencies = [("metrics", "0002_snapshots"), ("jobs", "0002_fact_pod_is_immutable")]

    operations = [migrations.RunSQL(install_sql(), uninstall_sql())]
