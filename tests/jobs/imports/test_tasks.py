"""The run_import task: thin, idempotent, safe to deliver twice, and it starts an interrupted import over."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from django.utils import timezone

from jobs.imports.services import RUN_LOCK, ImportBusy, run_import
from jobs.models import Activity, ImportJob
from jobs.tasks import run_import as run_import_task
from tests.support.factories import AccountFactory, PodFactory

CONTENT = (
    b"external_id,occurred_at,account,job,channel,kind\n"
    b"ACT-1,2026-03-01T09:30:00-05:00,ACME,learn,digital,webinar\n"
    b"ACT-2,2026-03-02T09:30:00-05:00,ACME,buy,in_person,demo\n"
)


@pytest.fixture
def import_job(db, admin_user):
    AccountFactory(external_id="ACME", pod=PodFactory(slug="southeast-us"))
    file = SimpleUploadedFile("activities.csv", CONTENT, content_type="text/csv")
    return ImportJob.objects.create(kind="activities", file=file, created_by=admin_user)


@pytest.mark.django_db
def test_a_delivered_twice_import_runs_once(import_job):
    run_import_task(import_job.pk)
    import_job.refresh_from_db()
    finished_at = import_job.finished_at
    assert (import_job.status, import_job.rows_created) == ("succeeded", 2)
    run_import_task(import_job.pk)
    import_job.refresh_from_db()
    assert (import_job.finished_at, import_job.rows_created) == (finished_at, 2)
    assert Activity.objects.count() == 2


@pytest.mark.django_db
def test_an_import_left_running_by_a_lost_worker_starts_over(import_job):
    ImportJob.objects.filter(pk=import_job.pk).update(
        status="running", started_at=timezone.now(), rows_total=2, rows_processed=1
    )
    run_import_task(import_job.pk)
    import_job.refresh_from_db()
    assert (import_job.status, import_job.rows_processed, import_job.rows_created) == ("succeeded", 2, 2)


@pytest.mark.django_db
def test_a_deleted_import_is_ignored(import_job):
    import_job.delete()
    run_import_task(import_job.pk)
    assert not Activity.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_import_being_run_elsewhere_is_not_run_twice_at_once(import_job):
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [RUN_LOCK, import_job.pk])
        with pytest.raises(ImportBusy):
            run_import(import_job)
        assert ImportJob.objects.get(pk=import_job.pk).status == "pending"
    finally:
        # Released before the connection closes: a closed connection's backend may hold the lock a moment longer.
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [RUN_LOCK, import_job.pk])
        other.close()
    assert run_import(import_job).status == "succeeded"


@pytest.mark.django_db
def test_a_missing_file_fails_the_import_cleanly(import_job):
    import_job.file.delete(save=False)
    with pytest.raises(FileNotFoundError):
        run_import(import_job)
    import_job.refresh_from_db()
    assert import_job.status == "failed"
    assert "unexpected error" in import_job.errors[0]["message"]
    assert not Activity.objects.exists()
