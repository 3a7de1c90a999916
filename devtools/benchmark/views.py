"""The benchmark's two comparison pages for the dashboard step (served by ``urls.py`` only while it runs):
what any signed-in page costs, and the dashboard computing its figures in the request.

Only the dashboard step imports this module, so the other steps never load the dashboard's code.
"""

import datetime as dt
from unittest import mock

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404

from metrics import refresh, views
from metrics.choices import Grain
from metrics.dashboard import DashboardState
from metrics.models import DirtyRange
from pods.scoping import pods_visible_to


@login_required
def trivial_view(request):
    """What any signed-in page costs before it does anything: the dashboard's floor."""
    return HttpResponse("ok", content_type="text/plain")


def grains_sql_limited_to(grain: str) -> str | None:
    """The engine's ``GRAINS_SQL`` followed by the deletion of every other grain, or ``None`` when the engine
    no longer fills its grains that way (then the on-the-fly page computes every grain: a slower, and so
    less strict, baseline, which the details say)."""
    original = getattr(refresh, "GRAINS_SQL", "")
    if "uce_all_grains" not in original or grain not in Grain.values:
        return None
    return f"{original}; DELETE FROM uce_all_grains WHERE grain <> '{grain}'"  # noqa: S608 (one of Grain.values)  # nosec B608 # one of the grains, checked above


@login_required
def dashboard_on_the_fly(request, slug):
    """The dashboard computing its figures in the request, from the raw tables.

    The engine's own SQL computes exactly the periods the page shows (the trend's 12 periods of the
    grain, the comparison period among them), then the real dashboard view renders them; everything
    is rolled back, so each request computes afresh.
    """
    pod = get_object_or_404(pods_visible_to(request.user), slug=slug)
    state = DashboardState.from_query(request.GET, today=pod.local_today())
    first = min(state.trend_first, state.comparison_period)
    grains_sql = grains_sql_limited_to(state.grain)
    with transaction.atomic():
        DirtyRange.objects.create(pod=pod, from_day=first, to_day=state.end - dt.timedelta(days=1))
        if grains_sql is None:
            refresh.refresh(pod_ids=[pod.pk])
        else:
            with mock.patch.object(refresh, "GRAINS_SQL", grains_sql):
                refresh.refresh(pod_ids=[pod.pk])
        response = views.dashboard(request, slug)
        transaction.set_rollback(True)
    return response
