"""Bulk data for tests that need volume (real-worker and concurrency tests), inserted in SQL."""

from django.db import connection


def insert_activities(*, pod_ids: list[int], accounts_per_pod: int, activities: int, days: int = 900) -> None:
    """Accounts for each pod, then ``activities`` activities spread over the last ``days`` days."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO pods_account (external_id, name, pod_id, segment)
            SELECT 'BULK-' || p || '-' || a, 'Bulk account ' || p || '-' || a, p, ''
            FROM unnest(%s::bigint[]) p, generate_series(1, %s) a
            """,
            [pod_ids, accounts_per_pod],
        )
        cursor.execute(
            """
            WITH accs AS (
                SELECT array_agg(id ORDER BY id) AS ids, array_agg(pod_id ORDER BY id) AS pods, count(*) AS n
                FROM pods_account WHERE pod_id = ANY(%s::bigint[])
            )
            INSERT INTO jobs_activity (pod_id, account_id, occurred_at, job, channel, kind, notes, created_at)
            SELECT accs.pods[1 + i %% accs.n], accs.ids[1 + i %% accs.n],
                   now() - ((i::bigint * 7919) %% (%s * 86400)) * interval '1 second',
                   (ARRAY['learn','buy','order_install','adopt','support'])[1 + (i * 31) %% 5],
                   (ARRAY['digital','in_person','partner'])[1 + (i * 17) %% 3],
                   'bulk', '', now()
            FROM generate_series(1, %s) i, accs
            """,
            [pod_ids, days, activities],
        )
