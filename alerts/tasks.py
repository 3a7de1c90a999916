"""Celery tasks of alerts and digests: thin, idempotent, safe to deliver twice (docs/ALERTS.md)."""

import logging

from celery import shared_task
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from metrics.tasks import TASK_OPTIONS
from pods.models import Pod

from . import evaluation, services
from .models import AlertRule

logger = logging.getLogger(__name__)


@shared_task(**TASK_OPTIONS)
def send_due_digests():
    """Beat, every 15 minutes: ask for the digest of each pod whose local digest time has come this week."""
    now = timezone.now()
    asked = 0
    for pod in Pod.objects.order_by("pk"):
        if services.digest_due(pod, now):
            send_pod_digest.delay(pod.pk)
            asked += 1
    return asked


@shared_task(**TASK_OPTIONS)
def send_pod_digest(pod_id: int):
    """The pod's digest of its last complete week to whoever has not had it: a redelivery sends nothing."""
    pod = Pod.objects.filter(pk=pod_id).first()
    if pod is None:
        return 0
    run = services.send_pod_digest(pod)
    if run.sent:
        logger.info("digest of %s, week of %s, sent to %s people", pod.slug, run.week_start, len(run.sent))
    return len(run.sent)


@shared_task(**TASK_OPTIONS)
def evaluate_alerts(pod_ids: list[int]):
    """Check the alert rules of the pods a refresh touched; return how many fired and resolved."""
    totals = {"fired": 0, "resolved": 0, "checked": 0}
    for pod in Pod.objects.filter(pk__in=pod_ids, alert_rules__paused=False).distinct().order_by("pk"):
        for key, count in evaluation.evaluate_pod(pod).items():
            totals[key] += count
    return totals


def after_refresh(pod_ids) -> None:
    """Called by the metric tasks once snapshots of ``pod_ids`` changed: evaluate their rules on a worker."""
    pod_ids = sorted(set(pod_ids))
    if not pod_ids or not AlertRule.objects.filter(pod_id__in=pod_ids, paused=False).exists():
        return
    try:
        evaluate_alerts.delay(pod_ids)
    except BrokerError:  # the next refresh of these pods evaluates them
        logger.warning("could not ask for the alert evaluation of pods %s", pod_ids, exc_info=True)
