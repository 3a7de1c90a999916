"""PostgreSQL restarts while a refresh is writing snapshots.  What must hold:

- no partial snapshot is ever visible: at every moment a reader sees the snapshots of a claimed pod
  batch either all as before the refresh or all as after it;
- while they are as before, the pods are still marked dirty (the refresh's claim rolled back with it):
  nothing is lost;
- the task retries by itself (``autoretry_for`` OperationalError) and completes once the server is back;
- the snapshots then equal a clean rebuild.

The server is an embedded PostgreSQL of the test's own (tests/faults/servers.py) — never the
machine's, which other test runs use.  To restart it *mid-write* rather than merely mid-task, the test
holds a row lock on one snapshot the refresh is about to replace: the refresh computes, starts its
upsert, and waits on that row inside its transaction; then ``pg_ctl restart -m fast`` ends every
session.
"""

import threading
import time

import psycopg
import pytest

from devtools.workers import producer_on, wait_until
from metrics.tasks import refresh_dirty_metrics

pytestmark = [pytest.mark.faults, pytest.mark.worker]

SEED = """
from metrics import refresh
from tests.support.factories import PodFactory
from tests.support.bulk import insert_activities

pods = [PodFactory(slug=f"restart-{i}", timezone=tz).pk for i, tz in enumerate(["America/New_York", "Asia/Tokyo"])]
insert_activities(pod_ids=pods, accounts_per_pod=20, activities=20_000)
refresh.rebuild()
"""

# New activities over the last two months of every account: many periods of every pod become dirty.
NEW_FACTS = """
INSERT INTO jobs_activity (pod_id, account_id, occurred_at, job, channel, kind, notes, created_at)
SELECT a.pod_id, a.id, now() - d * interval '1 day' - interval '1 hour', 'buy', 'partner', 'restart', '', now()
FROM pods_account a, generate_series(0, 60) d
"""

SNAPSHOTS = "SELECT pod_id, grain, period_start, metrics::text FROM metrics_podmetricsnapshot ORDER BY 1, 2, 3"


def read_state(conn: psycopg.Connection) -> tuple[tuple, int]:
    """Every snapshot and the number of dirty marks, in one consistent view."""
    with conn.transaction(), conn.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute(SNAPSHOTS)
        snapshots = tuple(cursor.fetchall())
        cursor.execute("SELECT count(*) FROM metrics_dirtyrange")
        return snapshots, cursor.fetchone()[0]


class Observer(threading.Thread):
    """Reads the snapshots over and over from its own session, across the restart, recording each view."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url = url
        self.stop = threading.Event()
        self.views: list[tuple[tuple, int]] = []
        self.failed_reads = 0

    def run(self):
        conn = None
        while not self.stop.is_set():
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(self.url, autocommit=True, connect_timeout=2)
                self.views.append(read_state(conn))
            except psycopg.Error:
                self.failed_reads += 1  # the server is restarting: try again
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.05)
        if conn is not None:
            conn.close()


def upsert_waiting(url: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query LIKE '%INSERT INTO metrics_podmetricsnapshot%'"
        ).fetchone()
        return row[0] > 0


def test_a_postgres_restart_mid_refresh_shows_no_partial_snapshot_and_the_task_retries(
    private_postgres, private_redis, start_worker, figures
):
    url = private_postgres.url
    private_postgres.manage("shell", "-c", SEED)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(NEW_FACTS)
        before, dirty = read_state(conn)
    assert before and dirty > 0

    broker = private_redis.broker()
    worker = start_worker(broker, database_url=url)
    lock = psycopg.connect(url)
    # The current year's snapshot of the first pod: the new facts change it, so the upsert must write it.
    locked = lock.execute(
        "SELECT 1 FROM metrics_podmetricsnapshot s JOIN pods_pod p ON p.id = s.pod_id "
        "WHERE p.slug = 'restart-0' AND s.grain = 'year' "
        "AND s.period_start = date_trunc('year', now() AT TIME ZONE p.timezone)::date FOR UPDATE"
    ).fetchall()
    assert locked == [(1,)]
    observer = Observer(url)
    with producer_on(broker):
        refresh_dirty_metrics.delay()
        wait_until(lambda: upsert_waiting(url), timeout=60, interval=0.1, message="the refresh is writing snapshots")
        observer.start()
        wait_until(lambda: len(observer.views) >= 3, timeout=10, message="the observer reads")
        started = time.monotonic()
        private_postgres.restart()
        restart_seconds = time.monotonic() - started
        lock.close()
        wait_until(
            lambda: observer.views and observer.views[-1][1] == 0 and len(observer.views) > 3,
            timeout=90,
            interval=0.2,
            message="the retried refresh drained every dirty mark",
        )
        completed_after = time.monotonic() - started
    observer.stop.set()
    observer.join(timeout=10)
    log = worker.output()
    worker.stop()

    after = observer.views[-1][0]
    assert after != before, "the refresh changed the snapshots"
    partial = [view for view in observer.views if view[0] not in (before, after)]
    assert partial == [], "a reader saw some snapshots of the batch updated and others not"
    # Whenever the old figures were visible, the dirty marks were there too: the work was not lost.
    assert all(dirty > 0 for snapshots, dirty in observer.views if snapshots == before)
    assert any(snapshots == before for snapshots, _ in observer.views)
    assert "Retry in" in log, log
    assert "refresh_dirty_metrics" in log and " succeeded in " in log, log

    private_postgres.manage("compute_metrics", "--full")
    with psycopg.connect(url, autocommit=True) as conn:
        clean, dirty = read_state(conn)
    assert dirty == 0
    assert after == clean

    figures.update(
        restart_seconds=round(restart_seconds, 2),
        refresh_completed_seconds_after_restart=round(completed_after, 1),
        retries=log.count("Retry in"),
        reads_during_the_fault=len(observer.views),
        reads_refused_while_restarting=observer.failed_reads,
        partial_views=len(partial),
        snapshots_compared_with_clean_rebuild=len(clean),
    )
