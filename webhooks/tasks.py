"""Celery tasks of webhooks, on their own queue (``UCE_WEBHOOKS_QUEUE``, default ``webhooks``): a slow
receiver never holds up the metric refreshes and imports of the default queue. Thin and idempotent."""

from celery import shared_task

from metrics.tasks import TASK_OPTIONS

from . import services


@shared_task(**TASK_OPTIONS)
def deliver(delivery_id: int):
    """One attempt at a delivery; a redelivered or late message finds it claimed or done and does nothing."""
    delivery = services.attempt_delivery(delivery_id)
    return delivery.status if delivery else None


@shared_task(**TASK_OPTIONS)
def send_due_deliveries():
    """Beat, every 15 s: ask for the deliveries whose next attempt is due (retries, and sends the broker missed)."""
    ids = services.due_delivery_ids()
    for delivery_id in ids:
        deliver.delay(delivery_id)
    return len(ids)
