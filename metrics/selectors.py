"""Reads of snapshots: what the metrics API and the dashboard show, in a constant number of queries."""

import datetime as dt
from dataclasses import dataclass

from pods.models import Pod

from .models import DirtyRange, PodMetricSnapshot, PodMetricState, Target
from .periods import periods_starting_between
from .refresh import CARRIED_FORWARD, empty_metrics
from .targets import target_status


@dataclass
class PeriodMetrics:
    start: dt.date
    end: dt.date
    metrics: dict
    targets: dict


@dataclass
class PodMetricSeries:
    pod: Pod
    grain: str
    computed_at: dt.datetime | None
    pending_changes: bool
    periods: list[PeriodMetrics]


def pod_metric_series(*, pod: Pod, grain: str, first: dt.date, last: dt.date) -> PodMetricSeries:
    """Every period of ``grain`` starting in ``[first, last]``, empty ones included, from snapshots.

    Periods outside what the engine materialised (before the pod's first fact, or more than a year
    after its last) are filled here: empty, except the figures that carry forward from the last
    materialised period (backlog and staffing stay as they were).
    """
    state = PodMetricState.objects.filter(pod=pod).first()
    snapshots = {
        s.period_start: s.metrics
        for s in PodMetricSnapshot.objects.filter(pod=pod, grain=grain, period_start__range=(first, last)).only(
            "period_start", "metrics"
        )
    }
    tail = empty_metrics()
    if state is not None and state.last_day is not None:
        last_snapshot = (
            PodMetricSnapshot.objects.filter(pod=pod, grain=grain).order_by("-period_start").only("metrics").first()
        )
        if last_snapshot is not None:
            tail.update({key: last_snapshot.metrics[key] for key in CARRIED_FORWARD})
    targets = {}
    for target in Target.objects.filter(pod=pod, grain=grain, period_start__range=(first, last)):
        targets.setdefault(target.period_start, {})[target.metric] = target.value

    periods = []
    for start, end in periods_starting_between(grain, first, last):
        if start in snapshots:
            metrics = snapshots[start]
        elif state is not None and state.last_day is not None and start > state.last_day:
            metrics = tail
        else:
            metrics = empty_metrics()
        period_targets = {
            key: {"value": float(value), "status": target_status(key, metrics.get(key), value)}
            for key, value in targets.get(start, {}).items()
        }
        periods.append(PeriodMetrics(start=start, end=end, metrics=metrics, targets=period_targets))
    return PodMetricSeries(
        pod=pod,
        grain=grain,
        computed_at=state.computed_at if state else None,
        pending_changes=DirtyRange.objects.filter(pod=pod).exists(),
        periods=periods,
    )
