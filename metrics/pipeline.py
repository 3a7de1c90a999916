"""From a logged activity to the dashboard: the metrics pipeline, in the order it runs.

1. **A write** — ``jobs.services`` (a logged activity), a CSV import's ``COPY`` (``jobs.imports``),
   the admin, a reassignment (``pods.services``) — commits rows of a fact table or an assignment.
2. **Dirty marks** — a PostgreSQL statement trigger on that table, installed by migration
   ``metrics/0003`` from the SQL in :mod:`metrics.dirty_marks`, records which local days of which
   pods the rows affect in ``metrics_dirtyrange``, in the writer's transaction.  Triggers, not
   Django signals, so that every write path (bulk ``COPY`` included) is covered.
3. **A refresh is asked for** — :func:`request_refresh` (connected to the writes by
   :mod:`metrics.signals`) enqueues one ``metrics.tasks.refresh_dirty_metrics`` when the transaction
   commits; beat also runs it every minute (``CELERY_BEAT_SCHEDULE``), so nothing depends on the
   enqueue succeeding.
4. **The refresh** — :func:`metrics.refresh.refresh` claims dirty pods (``FOR UPDATE SKIP LOCKED``, so
   any number of workers share the work), expands their dirty days into periods of every grain and
   the periods to date, computes every metric with the SQL of :mod:`metrics.aggregation` and upserts
   ``PodMetricSnapshot`` and ``PeriodToDateSnapshot`` rows.
5. **The pages** read snapshots only (:mod:`metrics.selectors`, :mod:`metrics.dashboard`); the
   rendered figures are cached under a version that changes with every refresh of the pod.

Words used throughout: a **refresh** recomputes the dirty periods; a **rebuild** (``compute_metrics
--full``, the nightly ``rebuild_all_metrics``) marks every period of every pod dirty and refreshes;
a **recompute** is a user's request to rebuild one pod (:func:`metrics.services.recompute_request`),
with a progress bar.
"""

from django.conf import settings
from django.db import connection, transaction


def _enqueue_refresh():
    from .tasks import refresh_dirty_metrics

    refresh_dirty_metrics.delay()


def request_refresh() -> None:
    """Enqueue a dirty refresh when the current transaction commits (at once outside one).

    One refresh per transaction, however many rows it writes; none when ``UCE_REFRESH_ON_COMMIT``
    is off (tests, bulk loads), since beat refreshes anyway.
    """
    if not settings.UCE_REFRESH_ON_COMMIT:
        return
    already = any(callback is _enqueue_refresh for _, callback, _ in connection.run_on_commit)
    if not already:
        transaction.on_commit(_enqueue_refresh, robust=True)
