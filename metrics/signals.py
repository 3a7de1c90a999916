"""Ask a worker to refresh metrics once a write commits.

Dirty periods are marked by database triggers, whatever the write path; these handlers only make
the refresh happen within seconds instead of at the next beat tick.  One refresh is enqueued per
transaction, however many rows it writes.
"""

from django.conf import settings
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save

from jobs.models import Activity, AdoptionReading, Lead, Opportunity, Order, SupportTicket
from jobs.signals import facts_bulk_written
from pods.models import Assignment, Pod

WATCHED_MODELS = (Activity, AdoptionReading, Lead, Opportunity, Order, SupportTicket, Assignment, Pod)


def _enqueue_refresh():
    from .tasks import refresh_dirty_metrics

    refresh_dirty_metrics.delay()


def request_refresh() -> None:
    """Enqueue a dirty refresh when the current transaction commits (at once outside one)."""
    if not settings.UCE_REFRESH_ON_COMMIT:
        return
    already = any(callback is _enqueue_refresh for _, callback, _ in connection.run_on_commit)
    if not already:
        transaction.on_commit(_enqueue_refresh, robust=True)


def _on_write(sender, **kwargs):
    if kwargs.get("raw"):
        return  # loaddata
    request_refresh()


def _on_bulk_write(sender, **kwargs):
    request_refresh()


def connect() -> None:
    facts_bulk_written.connect(_on_bulk_write, dispatch_uid="metrics-refresh-bulk")
    for model in WATCHED_MODELS:
        post_save.connect(_on_write, sender=model, dispatch_uid=f"metrics-refresh-save-{model.__name__}")
        post_delete.connect(_on_write, sender=model, dispatch_uid=f"metrics-refresh-delete-{model.__name__}")
