"""The metric engine on real Celery worker processes (Redis when available; see devtools/workers.py)."""

import contextlib
import datetime as dt
import re

import pytest
from django.db import connection, transaction
from django.utils import timezone

from devtools.workers import Worker, choose_broker, producer_on, wait_until
from metrics import refresh
from metrics.models import DirtyRange, PodMetricSnapshot
from metrics.periods import period_start
from metrics.tasks import rebuild_all_metrics, refresh_dirty_metrics
from tests.support.bulk import insert_activities
from tests.support.factories import AccountFactory, ActivityFactory, PodFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def broker(tmp_path):
    return choose_broker(tmp_path)


@pytest.fixture
def start_worker(broker, tmp_path):
    workers = []

    def start(name="worker", **env):
        worker = Worker(broker, tmp_path / f"{name}-{len(workers)}.log", extra_env=env)
        workers.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in workers:
        worker.stop()


def snapshot_table():
    return {
        (s.pod_id, s.grain, s.period_start): (s.period_end, s.metrics)
        for s in PodMetricSnapshot.objects.order_by("pod_id", "grain", "period_start")
    }


def test_a_logged_activity_reaches_the_snapshot_without_a_manual_step(broker, start_worker, settings):
    settings.UCE_REFRESH_ON_COMMIT = True
    pod = PodFactory(timezone="Europe/Berlin")
    account = AccountFactory(pod=pod)
    ActivityFactory(account=account, occurred_at=timezone.now() - dt.timedelta(days=40))
    refresh.rebuild()
    month = period_start("month", timezone.now().astimezone(dt.UTC).date())

    def current_total():
        snapshot = PodMetricSnapshot.objects.filter(pod=pod, grain="month", period_start__lte=month).last()
        return snapshot.metrics["activity_total"] if snapshot and snapshot.period_start == month else 0

    before = current_total()
    start_worker()
    with producer_on(broker):
        # The commit enqueues a refresh (metrics.signals); the worker does the rest.
        with transaction.atomic():
            ActivityFactory(account=account, occurred_at=timezone.now() - dt.timedelta(minutes=5), job="adopt")
        wait_until(lambda: current_total() == before + 1, timeout=30, message="snapshot shows the new activity")
    assert not DirtyRange.objects.exists()


def _refresh_running() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND state = 'active' "
            "AND query LIKE '%%uce_keys%%'"
        )
        return cursor.fetchone()[0] > 0


def test_a_worker_killed_mid_rebuild_loses_and_doubles_nothing(broker, start_worker):
    pods = [PodFactory(slug=f"kill-{i}", timezone=tz).pk for i, tz in enumerate(["America/New_York", "Asia/Kolkata"])]
    insert_activities(pod_ids=pods, accounts_per_pod=40, activities=120_000)
    assert not PodMetricSnapshot.objects.exists()

    first = start_worker("first")
    with producer_on(broker):
        rebuild_all_metrics.delay()
        wait_until(_refresh_running, timeout=30, interval=0.05, message="the rebuild is computing")
        first.kill()
        assert first.process.returncode == -9

        start_worker("second")

        # Like beat, ask for a refresh until nothing is dirty: the killed transaction rolled back,
        # so its pods are still marked (PostgreSQL releases them once it notices the lost client).
        def drained():
            if DirtyRange.objects.exists() or _refresh_running():
                refresh_dirty_metrics.delay()
                return False
            return True

        wait_until(drained, timeout=120, interval=2, message="every dirty period recomputed")

    after_crash = snapshot_table()
    refresh.rebuild()
    clean = snapshot_table()
    assert after_crash.keys() == clean.keys()
    assert after_crash == clean
    assert {pod_id for pod_id, _, _ in clean} == set(pods)


def _pods_refreshed_by(worker) -> list[int]:
    pods = []
    for match in re.finditer(r"refreshed \d+ snapshots of pods \[([\d, ]+)\]", worker.output()):
        pods.extend(int(pod) for pod in match.group(1).split(","))
    return pods


@contextlib.contextmanager
def slow_snapshot_writes(seconds=0.4):
    """Make each pod's snapshot write take a while, so one worker cannot drain every pod before the
    other has picked up its task: the sharing is then shown, not left to timing."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            CREATE FUNCTION uce_test_slow_write() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN PERFORM pg_sleep({seconds}); RETURN NULL; END $$;
            CREATE TRIGGER uce_test_slow_write AFTER INSERT ON metrics_podmetricsnapshot
                FOR EACH STATEMENT EXECUTE FUNCTION uce_test_slow_write();
            """
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP FUNCTION uce_test_slow_write() CASCADE")


def test_two_workers_share_the_pods_and_agree_with_one(broker, start_worker):
    pods = [PodFactory(slug=f"share-{i}").pk for i in range(6)]
    insert_activities(pod_ids=pods, accounts_per_pod=20, activities=120_000)
    # One pod per transaction, so each refresh task hands pods out one at a time.
    first, second = start_worker("a", UCE_REFRESH_PODS_PER_BATCH="1"), start_worker("b", UCE_REFRESH_PODS_PER_BATCH="1")
    with slow_snapshot_writes(), producer_on(broker):
        for _ in range(4):
            refresh_dirty_metrics.delay()
        wait_until(lambda: not DirtyRange.objects.exists() and not _refresh_running(), timeout=90, interval=0.5,
                   message="both workers drained every dirty pod")  # fmt: skip
    by_first, by_second = _pods_refreshed_by(first), _pods_refreshed_by(second)
    assert by_first and by_second, "each worker computed some pods"
    assert sorted(by_first + by_second) == sorted(pods), "every pod computed exactly once, by one worker"
    shared = snapshot_table()
    refresh.rebuild()
    assert shared == snapshot_table()
