"""Writes of the metrics app (HackSoft style, as ``jobs/services.py``): keyword-only, atomic.

How a write anywhere reaches the dashboard is told once, in ``metrics/pipeline.py``.
"""

from django.db import transaction

from .models import RecomputeRequest
from .tasks import recompute_pod


@transaction.atomic
def recompute_request(*, pod, requested_by) -> RecomputeRequest:
    """Record a request to recompute every snapshot of ``pod``; a worker runs it once this commits.

    The caller has checked ``pod`` is in ``requested_by``'s scope.  ``robust``: a broker outage
    must not fail the request — beat re-sends pending requests (``metrics.tasks``).
    """
    request = RecomputeRequest.objects.create(pod=pod, requested_by=requested_by)
    transaction.on_commit(lambda: recompute_pod.delay(request.pk), robust=True)
    return request
