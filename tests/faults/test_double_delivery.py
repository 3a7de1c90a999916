"""A task delivered twice: redelivered after its acknowledgement was lost, or handed to two workers at once
(a visibility timeout shorter than the task).  What must hold: the outcome is that of one delivery —
snapshots equal a clean rebuild, no figure counts a fact twice, no row is written twice, and an import's
second delivery writes nothing.

Each task is delivered twice at once — two threads, each with its own database connection, as two worker
processes would run it — and then once more after the work is done.
"""

import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.db.models import Max

from jobs.imports.services import ImportBusy
from jobs.models import Activity, ImportJob
from jobs.tasks import run_import
from metrics import refresh
from metrics.models import DirtyRange, PodMetricSnapshot, RecomputeRequest
from metrics.tasks import recompute_pod, refresh_dirty_metrics
from tests.support.bulk import insert_activities
from tests.support.factories import AccountFactory, PodFactory

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

# New facts over the last two months of every account: many periods of every pod become dirty.
NEW_FACTS = """
INSERT INTO jobs_activity (pod_id, account_id, occurred_at, job, channel, kind, notes, created_at)
SELECT a.pod_id, a.id, now() - d * interval '1 day' - interval '1 hour', 'adopt', 'in_person', 'again', '', now()
FROM pods_account a, generate_series(0, 60, 3) d
"""


def twice_at_once(task, *args) -> list:
    """Run ``task(*args)`` in two threads released together; each outcome is its result or its exception."""
    start = threading.Barrier(2)
    outcomes: list = [None, None]

    def deliver(index):
        try:
            start.wait()
            outcomes[index] = task(*args)
        except Exception as error:  # an outcome like any other; the test says which are acceptable
            outcomes[index] = error
        finally:
            connections.close_all()  # this thread's connection

    threads = [threading.Thread(target=deliver, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def snapshot_table():
    return {
        (s.pod_id, s.grain, s.period_start): (s.period_end, s.metrics)
        for s in PodMetricSnapshot.objects.order_by("pod_id", "grain", "period_start")
    }


def activities_counted_per_pod() -> dict[int, int]:
    """Each pod's activity_total summed over its yearly snapshots: every activity exactly once."""
    counted: dict[int, int] = {}
    for pod_id, metrics in PodMetricSnapshot.objects.filter(grain="year").values_list("pod_id", "metrics"):
        counted[pod_id] = counted.get(pod_id, 0) + metrics["activity_total"]
    return counted


def activities_per_pod() -> dict[int, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pod_id, count(*) FROM jobs_activity GROUP BY pod_id")
        return dict(cursor.fetchall())


def test_a_refresh_delivered_twice_at_once_and_again_later_equals_one_refresh(figures):
    # More pods than one refresh claims per batch, so both deliveries find work and compute side by side.
    pods = [PodFactory(slug=f"twice-{n}", timezone=("Europe/Berlin", "Asia/Tokyo")[n % 2]).pk for n in range(22)]
    insert_activities(pod_ids=pods, accounts_per_pod=3, activities=11_000, days=200)
    refresh.rebuild()
    with connection.cursor() as cursor:
        cursor.execute(NEW_FACTS)
    assert DirtyRange.objects.exists()

    outcomes = twice_at_once(refresh_dirty_metrics)
    assert all(isinstance(outcome, int) for outcome in outcomes), outcomes
    assert refresh_dirty_metrics() == 0  # the late redelivery finds nothing left to do
    assert not DirtyRange.objects.exists()
    assert activities_counted_per_pod() == activities_per_pod()

    after_twice = snapshot_table()
    refresh.rebuild()
    assert snapshot_table() == after_twice
    figures.update(
        refresh_snapshots_written_by_each_delivery=sorted(outcomes),
        refresh_snapshots_compared=len(after_twice),
        refresh_differences_from_clean_rebuild=0,
    )


def test_a_recomputation_delivered_twice_at_once_and_again_later_equals_one(figures):
    pod = PodFactory(slug="twice-recompute", timezone="America/Chicago")
    insert_activities(pod_ids=[pod.pk], accounts_per_pod=30, activities=30_000)
    refresh.rebuild()
    with connection.cursor() as cursor:
        cursor.execute(NEW_FACTS)
    request = RecomputeRequest.objects.create(pod=pod)

    outcomes = twice_at_once(recompute_pod, request.pk)
    assert outcomes == [None, None]
    request.refresh_from_db()
    assert request.status == RecomputeRequest.Status.SUCCEEDED
    assert request.percent == 100
    computed_at = PodMetricSnapshot.objects.aggregate(latest=Max("computed_at"))["latest"]

    recompute_pod(request.pk)  # redelivered after it succeeded: nothing is recomputed
    assert PodMetricSnapshot.objects.aggregate(latest=Max("computed_at"))["latest"] == computed_at
    # Each delivery marks the pod dirty before claiming it; a mark made after the other delivery took
    # the pod's marks is left for the next beat tick, which finds the figures unchanged.
    refresh_dirty_metrics()
    assert not DirtyRange.objects.exists()
    assert activities_counted_per_pod() == activities_per_pod()

    after_twice = snapshot_table()
    refresh.rebuild()
    assert snapshot_table() == after_twice
    figures.update(recompute_snapshots_compared=len(after_twice), recompute_differences_from_clean_rebuild=0)


def test_an_import_delivered_twice_at_once_and_again_later_writes_its_rows_once(settings, tmp_path, figures):
    settings.VAR_DIR = tmp_path  # the uploaded file goes here, not under the project's var/
    pod = PodFactory(slug="twice-import")
    for n in range(20):
        AccountFactory(external_id=f"TWICE-{n}", pod=pod)
    rows = 20_000
    content = "external_id,occurred_at,account,job,channel,kind\n" + "".join(
        f"TWICE-ACT-{n},2026-03-01T09:30:00Z,TWICE-{n % 20},learn,digital,call\n" for n in range(rows)
    )
    upload = SimpleUploadedFile("twice.csv", content.encode(), content_type="text/csv")
    import_job = ImportJob.objects.create(kind="activities", file=upload)

    outcomes = twice_at_once(run_import, import_job.pk)
    # One delivery runs the import.  The other either finds it running (ImportBusy: Celery retries it
    # a few seconds later) or, if it came second, finds it finished and does nothing.
    assert outcomes.count(None) >= 1, outcomes
    assert all(outcome is None or isinstance(outcome, ImportBusy) for outcome in outcomes), outcomes
    import_job.refresh_from_db()
    assert (import_job.status, import_job.rows_created, import_job.rows_updated) == ("succeeded", rows, 0)
    finished_at = import_job.finished_at

    run_import(import_job.pk)  # the retry of the busy delivery, or a late redelivery: a no-op
    import_job.refresh_from_db()
    assert (import_job.finished_at, import_job.rows_created) == (finished_at, rows)
    assert Activity.objects.count() == rows
    assert Activity.objects.values("external_id").distinct().count() == rows
    figures.update(
        import_rows=rows,
        import_rows_stored=Activity.objects.count(),
        import_second_delivery="busy, retried later as a no-op"
        if any(isinstance(outcome, ImportBusy) for outcome in outcomes)
        else "a no-op",
    )
