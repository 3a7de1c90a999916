"""Celery tasks of the jobs app: a thin interface over the CSV import service (take an id, call it, retry)."""

import datetime as dt

from celery import shared_task
from django.utils import timezone

from .imports.services import RETRYABLE, ImportBusy, mark_failed
from .imports.services import run_import as run_import_service
from .models import ImportJob, ImportStatus


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=RETRYABLE,
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=5,
)
def run_import(self, import_id: int):
    """Run one uploaded CSV import.

    Idempotent: a finished import is left alone, and a redelivered message is harmless.  A worker
    lost mid-import does not mark the import failed: its transaction died with its database
    session, so nothing was written, and the unacknowledged message (``acks_late``) is delivered
    again — on Redis once the visibility timeout has passed — to a worker that starts the import
    over from the file.  (kombu's filesystem transport does not redeliver: there an import left
    "running" is re-sent by hand with ``run_import.delay(id)``.)
    """
    import_job = ImportJob.objects.filter(pk=import_id).first()
    if import_job is None or import_job.is_finished or import_job.awaits_confirmation:
        return
    try:
        run_import_service(import_job)
    except RETRYABLE as error:
        if self.request.retries >= self.max_retries:
            mark_failed(import_id, error)  # the last attempt: do not leave it "running" for ever
        raise
    except ImportBusy as busy:
        # Another worker holds it (a redelivery while the first run is alive, or a dead session
        # PostgreSQL has not noticed yet): look again shortly.
        raise self.retry(exc=busy, countdown=5, max_retries=120) from busy


@shared_task(acks_late=True)
def resend_pending_imports():
    """Re-send imports still pending a minute after upload (beat: every minute).

    The import row is written before its task is sent; if the broker was down at that moment, the
    task never left. Running an import twice is harmless (it is locked and idempotent).
    """
    stale = timezone.now() - dt.timedelta(seconds=60)
    pending = ImportJob.objects.filter(status=ImportStatus.PENDING, created_at__lt=stale)
    for import_id in pending.values_list("pk", flat=True)[:100]:
        run_import.delay(import_id)
