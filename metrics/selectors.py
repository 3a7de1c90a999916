"""Reads of snapshots: what the metrics API and the dashboard show, in a constant number of queries."""

import datetime as dt
from dataclasses import dataclass

from pods.models import Pod

from .models import DirtyRange, PeriodToDateSnapshot, PodMetricSnapshot, PodMetricState, Target
from .periods import period_start, periods_starting_between
from .refresh import CARRIED_FORWARD, empty_metrics
from .targets import target_status
from .to_date import ToDateWindows, target_to_date, windows_on


@dataclass
class PeriodMetrics:
    start: dt.date
    end: dt.date
    metrics: dict
    targets: dict
    complete: bool = True  # false for the period containing the pod's today (and any later one)
    to_date: dict | None = None  # the period in progress so far (docs/PERIOD-TO-DATE.md), when computed


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

    today = pod.local_today()
    in_progress = to_date_for_pods([pod], grain=grain, period=period_start(grain, today)).get(pod.pk)
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
        period = PeriodMetrics(start=start, end=end, metrics=metrics, targets=period_targets, complete=end <= today)
        if in_progress is not None and in_progress.ready and start == in_progress.windows.current.start:
            period.to_date = _to_date_block(in_progress, targets.get(start, {}))
        periods.append(period)
    return PodMetricSeries(
        pod=pod,
        grain=grain,
        computed_at=state.computed_at if state else None,
        pending_changes=DirtyRange.objects.filter(pod=pod).exists(),
        periods=periods,
    )


@dataclass
class ToDateFigures:
    """A pod's period in progress so far, and the same days of its comparison periods.

    ``ready`` is false between the pod's local midnight and the refresh that follows it (at most a
    minute with beat running): the windows of the new day are not computed yet, and the metrics
    dicts are empty.
    """

    windows: ToDateWindows
    ready: bool
    current: dict
    previous: dict
    last_year: dict


def to_date_for_pods(pods, *, grain: str, period: dt.date) -> dict[int, ToDateFigures]:
    """``{pod_id: ToDateFigures}`` for each pod whose period in progress (in its own zone) starts at
    ``period``; pods for which that period is over or has not begun are absent. One query."""
    wanted = {}
    for pod in pods:
        windows = windows_on(grain, pod.local_today())
        if windows.current.start == period:
            wanted[pod.pk] = windows
    if not wanted:
        return {}
    starts = {window.start for windows in wanted.values() for window in windows.all()}
    found = {
        (pod_id, start, days): metrics
        for pod_id, start, days, metrics in PeriodToDateSnapshot.objects.filter(
            pod__in=list(wanted), grain=grain, period_start__in=starts
        ).values_list("pod_id", "period_start", "days", "metrics")
    }
    figures = {}
    for pod_id, windows in wanted.items():
        values = [found.get((pod_id, window.start, window.days)) for window in windows.all()]
        ready = all(value is not None for value in values)
        current, previous, last_year = (value if ready else empty_metrics() for value in values)
        figures[pod_id] = ToDateFigures(
            windows=windows, ready=ready, current=current, previous=previous, last_year=last_year
        )
    return figures


def _to_date_block(figures: ToDateFigures, target_values: dict) -> dict:
    """The API's ``to_date`` of the period in progress (INTERCHANGE.md, extended)."""
    current = figures.windows.current

    def window(w, metrics):
        return {"start": w.start, "end": w.end, "days": w.days, "metrics": metrics}

    targets = {}
    for key, value in target_values.items():
        held_to = target_to_date(key, value, current)
        targets[key] = {"value": float(held_to), "status": target_status(key, figures.current.get(key), held_to)}
    return {
        "through": current.last_day,
        "days": current.days,
        "metrics": figures.current,
        "targets": targets,
        "previous_period": window(figures.windows.previous, figures.previous),
        "same_period_last_year": window(figures.windows.last_year, figures.last_year),
    }
