"""The broker stops for a while.  What must hold:

- pages and the metrics API keep answering 200 from the last snapshots, marked stale ("Pending
  changes", ``pending_changes: true``) once something was written that they do not show yet;
- activities logged meanwhile are saved, and the person logging them gets no error;
- work queued in the broker before the stop, and work running on a worker during it, completes once
  the broker is back; the worker reconnects by itself;
- nothing is lost: after a beat tick every activity is in the snapshots, which equal a clean rebuild.

The broker is a ``redis-server`` of the test's own with an append-only file, as a production broker
is deployed (tests/faults/servers.py); the stop is SIGTERM, the start the same server on the same
port.  ``UCE_FAULTS_BROKER_DOWN_SECONDS`` sets how long it stays down: 10 s by default, so that
``make test`` stays quick, and a minute in ``make reliability``.
"""

import datetime as dt
import os
import time
import zoneinfo

import psycopg
import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from devtools.workers import database_url_of_test_db, producer_on, wait_until
from jobs.models import Activity
from metrics import refresh
from metrics.models import DirtyRange, PodMetricSnapshot, RecomputeRequest
from metrics.periods import period_start
from metrics.tasks import recompute_pod, refresh_dirty_metrics
from tests.support.factories import AccountFactory, ActivityFactory, AssignmentFactory, PodFactory, UserFactory

pytestmark = [pytest.mark.faults, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

DOWN_SECONDS = float(os.environ.get("UCE_FAULTS_BROKER_DOWN_SECONDS", "10"))
# Logging an activity must not hang on the missing broker: the enqueue gives up within a second.
MAX_WRITE_SECONDS = 5


def snapshot_table():
    return {
        (s.pod_id, s.grain, s.period_start): (s.period_end, s.metrics)
        for s in PodMetricSnapshot.objects.order_by("pod_id", "grain", "period_start")
    }


def month_figures(client, pod, day: dt.date) -> tuple[int, bool]:
    """``(activity_total of the month containing day, pending_changes)`` from the metrics API."""
    month = period_start("month", day).isoformat()
    response = client.get(f"/api/pods/{pod.slug}/metrics/", {"grain": "month", "start": month, "end": month})
    assert response.status_code == 200, response.content
    body = response.json()
    return body["periods"][0]["metrics"]["activity_total"], body["pending_changes"]


def waiting_on_lock(table: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query LIKE %s",
            [f'UPDATE "{table}"%'],
        )
        return cursor.fetchone()[0] > 0


def status_of(request: RecomputeRequest) -> str:
    return RecomputeRequest.objects.values_list("status", flat=True).get(pk=request.pk)


def test_a_broker_outage_serves_stale_snapshots_keeps_writes_and_loses_no_work(
    private_redis, start_worker, settings, figures
):
    logged = PodFactory(slug="outage-logged", timezone="America/New_York")
    busy = PodFactory(slug="outage-busy", timezone="Europe/Berlin")
    queued = PodFactory(slug="outage-queued", timezone="Asia/Kolkata")
    account = AccountFactory(pod=logged, external_id="OUTAGE-ACME")
    staff = AssignmentFactory(person=UserFactory(username="outage-staff"), pod=logged, job="learn").person
    leader = UserFactory(username="outage-leader")
    logged.leaders.add(leader)
    three_days_ago = timezone.now() - dt.timedelta(days=3)
    ActivityFactory.create_batch(5, account=account, occurred_at=three_days_ago)
    for pod in (busy, queued):
        ActivityFactory.create_batch(4, account=AccountFactory(pod=pod), occurred_at=three_days_ago)
    refresh.rebuild()
    activities_before = Activity.objects.count()

    occurred_at = timezone.now() - dt.timedelta(minutes=30)
    local_day = occurred_at.astimezone(zoneinfo.ZoneInfo(logged.timezone)).date()
    leader_client = Client()
    leader_client.force_login(leader)
    staff_client = APIClient()
    staff_client.force_login(staff)
    dashboard_url = f"/pods/{logged.slug}/?grain=month&period={period_start('month', local_day).isoformat()}"
    total_before, pending = month_figures(leader_client, logged, local_day)
    assert not pending

    broker = private_redis.broker()
    queue = broker.env["_queue"]
    worker = start_worker(broker)
    settings.UCE_REFRESH_ON_COMMIT = True  # writes enqueue a refresh on commit, as in production
    busy_request = RecomputeRequest.objects.create(pod=busy)
    queued_request = RecomputeRequest.objects.create(pod=queued)

    with producer_on(broker):
        # The worker takes the first recomputation and waits on a row lock held here; the second stays
        # in the broker's queue (one task at a time per process).
        lock = psycopg.connect(database_url_of_test_db())
        try:
            lock.execute("SELECT 1 FROM metrics_recomputerequest WHERE id = %s FOR UPDATE", [busy_request.pk])
            recompute_pod.delay(busy_request.pk)
            wait_until(lambda: waiting_on_lock("metrics_recomputerequest"), timeout=30, message="worker busy")
            recompute_pod.delay(queued_request.pk)
            wait_until(lambda: private_redis.client().llen(queue) == 1, timeout=10, message="a task queued")

            private_redis.stop()
            down_at = time.monotonic()
        finally:
            lock.rollback()  # the running recomputation goes on without the broker
            lock.close()

        logged_during_outage, write_seconds, pages, stale_pages = 0, [], 0, 0
        while True:
            started = time.monotonic()
            response = staff_client.post(
                "/api/activities/",
                {
                    "account": account.external_id,
                    "occurred_at": occurred_at.isoformat(),
                    "job": "learn",
                    "channel": "digital",
                    "kind": "webinar",
                    "notes": f"logged while the broker was down ({logged_during_outage})",
                },
                format="json",
            )
            write_seconds.append(time.monotonic() - started)
            assert response.status_code == 201, response.content
            logged_during_outage += 1

            # The last snapshots, marked stale: the write is saved but not in the figures yet.
            assert month_figures(leader_client, logged, local_day) == (total_before, True)
            page = leader_client.get(dashboard_url)
            assert page.status_code == 200
            pages += 1
            stale_pages += "Pending changes" in page.content.decode()
            if time.monotonic() - down_at >= DOWN_SECONDS:
                break
            time.sleep(min(1.0, max(0.0, DOWN_SECONDS - (time.monotonic() - down_at))))

        assert stale_pages == pages
        assert max(write_seconds) < MAX_WRITE_SECONDS
        assert Activity.objects.count() == activities_before + logged_during_outage
        busy_done_during_outage = status_of(busy_request) == RecomputeRequest.Status.SUCCEEDED

        private_redis.start()
        up_at = time.monotonic()
        wait_until(
            lambda: status_of(queued_request) == RecomputeRequest.Status.SUCCEEDED,
            timeout=120,
            interval=0.5,
            message="the task queued before the outage ran after it",
        )
        queued_done_after = time.monotonic() - up_at

        # Beat asks for a refresh every minute; here, every two seconds until the figures catch up.
        def caught_up():
            if month_figures(leader_client, logged, local_day) == (total_before + logged_during_outage, False):
                return True
            refresh_dirty_metrics.delay()
            return False

        wait_until(caught_up, timeout=120, interval=2, message="the activities logged during the outage are shown")
        caught_up_after = time.monotonic() - up_at
        wait_until(
            lambda: status_of(busy_request) == RecomputeRequest.Status.SUCCEEDED,
            timeout=60,
            interval=0.5,
            message="the recomputation running during the outage finished",
        )

    log = worker.output()
    worker.stop()
    assert log.count("Connected to redis://") >= 2, log  # connected at start, and again after the outage
    page = leader_client.get(dashboard_url)
    assert page.status_code == 200
    assert "Pending changes" not in page.content.decode()
    assert not DirtyRange.objects.exists()
    after_outage = snapshot_table()
    refresh.rebuild()
    assert snapshot_table() == after_outage
    rows_lost = activities_before + logged_during_outage - Activity.objects.count()
    assert rows_lost == 0

    figures.update(
        broker_down_seconds=round(up_at - down_at, 1),
        activities_logged_during_outage=logged_during_outage,
        max_write_seconds_during_outage=round(max(write_seconds), 3),
        dashboard_and_api_answers_during_outage=pages * 2,
        answers_marked_stale=stale_pages * 2,
        running_task_finished_during_outage=busy_done_during_outage,
        queued_task_done_seconds_after_return=round(queued_done_after, 1),
        figures_caught_up_seconds_after_return=round(caught_up_after, 1),
        rows_lost=rows_lost,
    )
