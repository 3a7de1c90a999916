"""Celery tasks: a thin interface over ``metrics.refresh`` (take ids, call the service, retry).

All three are idempotent — they recompute and replace snapshots — so ``acks_late`` redelivery
after a lost worker is harmless, and several workers may run them at once: each claims
different pods (``SKIP LOCKED``).
"""

import contextlib
import datetime as dt
import logging

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, connections, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from webhooks import events as webhook_events
from webhooks import services as webhooks
from webhooks.choices import EventType

from . import propensity, refresh
from .models import RecomputeRequest

logger = logging.getLogger(__name__)

RETRYABLE = (OperationalError, InterfaceError)
TASK_OPTIONS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": RETRYABLE,
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "max_retries": 5,
}

# A session-level advisory lock key for the nightly rebuild: a slow rebuild and the next
# trigger never run side by side (refreshes need no such lock: they split pods between them).
REBUILD_LOCK_KEY = 0x0CE_0001
# Advisory lock class (first key) for one recompute request (second key: its id).
RECOMPUTE_LOCK_CLASS = 0x0CE2


@shared_task(**TASK_OPTIONS)
def refresh_dirty_metrics():
    """Recompute the periods marked dirty by writes (beat: every minute; writes: on commit)."""
    started = webhook_events.database_now()
    result = refresh.refresh()
    if result.pods:
        logger.info("refreshed %s snapshots of pods %s", result.snapshots, result.pod_ids)
        _after_refresh(result.pod_ids, started)
    return result.snapshots


@shared_task(**TASK_OPTIONS)
def rebuild_all_metrics():
    """Recompute every snapshot of every pod (beat: nightly); return how many pods were marked.

    Marks every pod dirty, asks ``UCE_REBUILD_WORKERS - 1`` refreshes to join in (each claims pods
    the others have not: ``SKIP LOCKED``), then drains pods itself, so the rebuild spreads over the
    idle workers of every host.  Skips, returning ``None``, if a rebuild is already running.
    """
    with _held(REBUILD_LOCK_KEY) as acquired:
        if not acquired:
            logger.info("a full rebuild is already running; skipping this one")
            return None
        with transaction.atomic():
            pods = refresh.mark_pods_dirty()
        for _ in range(settings.UCE_REBUILD_WORKERS - 1):
            try:
                refresh_dirty_metrics.delay()
            except BrokerError:  # the broker is down: this worker does the whole rebuild alone
                logger.warning("could not ask other workers to join the rebuild", exc_info=True)
                break
        started = webhook_events.database_now()
        _after_refresh(refresh.refresh().pod_ids, started)
        return pods


@shared_task(**TASK_OPTIONS)
def recompute_pod(request_id: int):
    """Recompute every period of one pod for a :class:`RecomputeRequest`, reporting progress on it."""
    # A second delivery while the first is still running leaves the work to the first.
    with _held(RECOMPUTE_LOCK_CLASS, request_id) as acquired:
        if acquired:
            _recompute(request_id)


@shared_task(**TASK_OPTIONS)
def resend_pending_recomputes():
    """Re-send recomputations still pending a minute after they were asked for (beat: every minute).

    The request row is written before its task is sent; if the broker was down at that moment,
    the task never left, and this is how the work still gets done. Sending one twice is harmless.
    """
    stale = timezone.now() - dt.timedelta(seconds=60)
    pending = RecomputeRequest.objects.filter(status=RecomputeRequest.Status.PENDING, created_at__lt=stale)
    for request_id in pending.values_list("pk", flat=True)[:100]:
        recompute_pod.delay(request_id)


@contextlib.contextmanager
def _held(*key: int):
    """Try a session-level advisory lock (one bigint key, or two int keys); yield whether it was taken."""
    args = ", ".join(["%s"] * len(key))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_try_advisory_lock({args})", list(key))
        (acquired,) = cursor.fetchone()
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT pg_advisory_unlock({args})", list(key))


def _recompute(request_id: int) -> None:
    request = RecomputeRequest.objects.filter(pk=request_id).first()
    if request is None or request.status == RecomputeRequest.Status.SUCCEEDED:
        return  # deleted, or a redelivery of work already done
    RecomputeRequest.objects.filter(pk=request_id).update(status=RecomputeRequest.Status.RUNNING, steps_done=0)

    # Progress goes through a second connection in autocommit, so the page polling it sees each
    # step while the computation's own transaction is still open.
    progress_connection = connections.create_connection("default")

    steps = {"total": 0}

    def progress(done: int, total: int) -> None:
        steps["total"] = total
        with progress_connection.cursor() as cursor:
            cursor.execute(
                "UPDATE metrics_recomputerequest SET steps_done = %s, steps_total = %s WHERE id = %s",
                [done, total, request_id],
            )

    started = webhook_events.database_now()
    try:
        result = refresh.rebuild(pod_ids=[request.pod_id], progress=progress)
    except DatabaseError as error:
        if not isinstance(error, RETRYABLE):
            RecomputeRequest.objects.filter(pk=request_id).update(
                status=RecomputeRequest.Status.FAILED, error=str(error)[:2000], finished_at=timezone.now()
            )
        raise
    finally:
        progress_connection.close()
    RecomputeRequest.objects.filter(pk=request_id).update(
        status=RecomputeRequest.Status.SUCCEEDED,
        steps_done=steps["total"],
        steps_total=steps["total"],
        finished_at=timezone.now(),
    )
    _after_refresh(result.pod_ids, started)


def _after_refresh(pod_ids, started) -> None:
    """Threshold alerts follow the figures: each refresh asks for the rules of the pods it touched;
    webhooks hear of each pod's snapshots written since ``started`` (the database's clock)."""
    from alerts.tasks import after_refresh  # alerts builds on metrics, not the other way round

    after_refresh(pod_ids)
    if pod_ids:
        webhooks.emit(EventType.SNAPSHOT_REFRESHED, lambda: webhook_events.snapshots_refreshed(pod_ids, since=started))


# A session-level advisory lock key for the propensity refit: two beats or a redelivery never fit side by side.
REFIT_LOCK_KEY = 0x0CE_0004


@shared_task(**TASK_OPTIONS)
def refit_propensity():
    """Refit the propensity-to-buy model of every pod and of the organisation (beat: nightly).

    Returns how many fits were stored, or ``None`` when a refit is already running.
    """
    with _held(REFIT_LOCK_KEY) as acquired:
        if not acquired:
            logger.info("a propensity refit is already running; skipping this one")
            return None
        fits = propensity.refit()
    logger.info("refitted propensity: %s fits, %s with a model", len(fits), sum(f.fitted for f in fits))
    return len(fits)
