"""Ask a worker to refresh metrics once a write commits (step 3 of ``metrics/pipeline.py``).

Dirty periods are marked by database triggers, whatever the write path; these handlers only make
the refresh happen within seconds instead of at the next beat tick.  One refresh is enqueued per
transaction, however many rows it writes.
"""

from django.db.models.signals import post_delete, post_save

from jobs.models import Activity, AdoptionReading, Lead, Opportunity, Order, SupportTicket
from jobs.signals import facts_bulk_written
from pods.models import Assignment, Pod

from .pipeline import request_refresh

WATCHED_MODELS = (Activity, AdoptionReading, Lead, Opportunity, Order, SupportTicket, Assignment, Pod)


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
