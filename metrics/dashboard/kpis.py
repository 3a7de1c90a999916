"""KPI cards, and the pod dashboard page assembled from them.

A :class:`Kpi` is one figure as a card shows it (value, change against the comparison period, target
and its status, trend), built by :func:`build_kpi` from snapshot metrics; the home page and the
comparison (:mod:`metrics.dashboard.pods`) build theirs the same way.  :func:`pod_dashboard` reads one
pod's series of snapshots once and assembles everything the dashboard page renders (:class:`PodDashboard`).
"""

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.urls import reverse

from jobs.choices import Channel
from pods.choices import BUYING_JOB_ORDER, BuyingJob
from pods.models import Pod

from ..catalogue import METRICS, Metric
from ..models import RecomputeRequest
from ..periods import periods_starting_between
from ..refresh import CHANNELS
from ..selectors import pod_metric_series, to_date_for_pods
from ..targets import target_status
from ..to_date import Window as DayWindow
from ..to_date import is_prorated, target_to_date
from .drilldowns import DRILLDOWNS, bounds_of
from .freshness import Freshness, dashboard_freshness
from .qualifying import PersonaRow, QualifyingPanel, persona_rows, qualifying_panel
from .state import COMPARE_LAST_YEAR, DashboardState, period_label

HEADLINE_KEYS = ("lead_volume", "lead_acceptance_rate", "bookings_yoy_growth")
ACROSS_KEYS = (
    "activity_total",
    "digital_share",
    "rep_free_win_share",
    "loopbacks",
    "maze_index",
    "staffed_job_coverage",
)
# The spec records no currency: amounts are shown in the organisation's reporting currency.
CURRENCY_SYMBOL = settings.UCE_CURRENCY_SYMBOL
CHANNEL_LABELS = dict(Channel.choices)
JOB_LABELS = dict(BuyingJob.choices)


@dataclass(frozen=True)
class Change:
    """How a figure moved against the comparison period.

    ``kind`` is ``pts`` for rates (percentage points), ``pct`` for a relative change, ``abs`` when the
    comparison value is 0 (a relative change would be infinite).  ``sentiment`` already accounts for
    metrics where lower is better.
    """

    kind: str
    amount: float
    direction: str  # up | down | flat
    sentiment: str  # better | worse | neutral


def change_between(metric: Metric, value, comparison) -> Change | None:
    if value is None or comparison is None:
        return None
    value, comparison = float(value), float(comparison)
    if metric.unit == "rate":
        kind, amount = "pts", (value - comparison) * 100
    elif comparison == 0:
        kind, amount = "abs", value - comparison
    else:
        kind, amount = "pct", (value - comparison) / abs(comparison) * 100
    if abs(amount) < 0.05:
        return Change(kind, 0.0, "flat", "neutral")
    direction = "up" if amount > 0 else "down"
    better = (direction == "down") if metric.lower_is_better else (direction == "up")
    return Change(kind, amount, direction, "better" if better else "worse")


@dataclass
class Kpi:
    """One figure as a card shows it: value, comparison, target and its trend."""

    metric: Metric
    value: object
    comparison_value: object
    change: Change | None
    target: float | None
    status: str | None
    trend: list = field(default_factory=list)
    drilldown_url: str = ""
    # A period in progress: the whole period's target, when ``target`` is its pro rata share so far.
    target_full: float | None = None

    @property
    def key(self) -> str:
        return self.metric.key


@dataclass
class JobGroup:
    code: str
    label: str
    kpis: list[Kpi]
    activities: int
    digital: int
    staff: int


@dataclass(frozen=True)
class PeriodProgress:
    """What the page says about a period in progress: how many of its days are over, and whether its
    figures to date for today are computed yet (not for a minute or so after the pod's local midnight)."""

    ready: bool
    days: int
    period_days: int


@dataclass
class PodDashboard:
    """Everything the dashboard page renders for one pod and one state."""

    pod: Pod
    state: DashboardState
    computed_at: dt.datetime | None
    pending_changes: bool
    has_data: bool
    headline: list[Kpi]
    jobs: list[JobGroup]
    across: list[Kpi]
    kpis: dict[str, Kpi]
    journey: list[dict]
    loopbacks: int
    staffing: list[dict]
    unstaffed: list[str]
    chart_data: dict
    running_recompute: RecomputeRequest | None
    personas: list[PersonaRow]
    qualifying: QualifyingPanel
    progress: PeriodProgress | None = None  # set when the period is in progress
    # The figures the cards were built from: the period (to date, while in progress) and its comparison.
    current_metrics: dict = field(default_factory=dict)
    comparison_metrics: dict = field(default_factory=dict)


def _drilldown_url(pod: Pod, key: str, state: DashboardState) -> str:
    if key not in DRILLDOWNS:
        return ""
    return reverse("pod-drilldown", args=[pod.slug, key]) + "?" + state.query()


def build_kpi(pod, metric, state, current, comparison, targets, trend) -> Kpi:
    value = current.get(metric.key)
    comparison_value = comparison.get(metric.key)
    target = targets.get(metric.key)
    return Kpi(
        metric=metric,
        value=value,
        comparison_value=comparison_value,
        change=change_between(metric, value, comparison_value),
        target=target["value"] if target else None,
        status=target["status"] if target else None,
        trend=trend,
        drilldown_url=_drilldown_url(pod, metric.key, state),
        target_full=target.get("full") if target else None,
    )


def period_targets(values: dict, current: dict, window: DayWindow | None) -> dict:
    """``{metric: {"value", "status"[, "full"]}}`` from target values; for a period in progress
    (``window``: its days so far) accumulating figures are held to their pro rata share
    (``metrics.to_date.target_to_date``) and ``full`` keeps the whole period's target."""
    targets = {}
    for key, value in values.items():
        prorated = window is not None and is_prorated(key) and window.days < window.period_days
        held_to = target_to_date(key, value, window) if prorated else value
        entry = {"value": float(held_to), "status": target_status(key, current.get(key), held_to)}
        if prorated:
            entry["full"] = float(value)
        targets[key] = entry
    return targets


def _heat_level(count: int, largest: int) -> int:
    """Shade classes 0–5 (CSS ``heat-N``): classes, not inline styles, keep a strict CSP possible."""
    if not count or not largest:
        return 0
    return max(1, round(5 * count / largest))


def journey_rows(transitions: dict) -> tuple[list[dict], int]:
    """The 5×5 journey table: rows ``from`` job, cells ``to`` job, loopbacks (to an earlier job) marked."""
    largest = max((transitions[a][b] for a in BUYING_JOB_ORDER for b in BUYING_JOB_ORDER), default=0)
    rows, loopbacks = [], 0
    for i, from_job in enumerate(BUYING_JOB_ORDER):
        cells = []
        for j, to_job in enumerate(BUYING_JOB_ORDER):
            count = transitions[from_job][to_job]
            is_loopback = j < i
            if is_loopback:
                loopbacks += count
            cells.append(
                {
                    "to": to_job,
                    "to_label": JOB_LABELS[to_job],
                    "count": count,
                    "same": i == j,
                    "is_loopback": is_loopback,
                    "heat": _heat_level(count, largest),
                }
            )
        rows.append({"from": from_job, "from_label": JOB_LABELS[from_job], "cells": cells})
    return rows, loopbacks


def _chart_number(value):
    return None if value is None else float(value)


def pod_dashboard(*, pod: Pod, state: DashboardState, freshness: Freshness | None = None) -> PodDashboard:
    """Assemble the dashboard from snapshots: one series read covers the trend and the comparison period."""
    freshness = freshness or dashboard_freshness(pod, state.grain)
    first = min(state.trend_first, state.comparison_period)
    series = pod_metric_series(pod=pod, grain=state.grain, first=first, last=state.period)
    by_start = {p.start: p for p in series.periods}
    selected = by_start[state.period]
    comparison = by_start[state.comparison_period]
    trend_periods = [
        by_start[start] for start, _ in periods_starting_between(state.grain, state.trend_first, state.period)
    ]
    current, comparison_metrics, targets = selected.metrics, comparison.metrics, selected.targets
    progress = None
    if state.in_progress:
        to_date = to_date_for_pods([pod], grain=state.grain, period=state.period).get(pod.pk)
        if to_date is not None:
            window = to_date.windows.current
            progress = PeriodProgress(ready=to_date.ready, days=window.days, period_days=window.period_days)
            if to_date.ready:
                current = to_date.current
                comparison_metrics = to_date.last_year if state.compare == COMPARE_LAST_YEAR else to_date.previous
            else:
                comparison_metrics = {}  # no like-for-like figure yet: no change rather than a wrong one
            raw = {key: target["value"] for key, target in selected.targets.items()}
            targets = period_targets(raw, current, window)

    def metrics_of(period):
        return current if period.start == state.period else period.metrics

    kpis = {}
    for metric in METRICS:
        if metric.is_scalar:
            trend = [_chart_number(metrics_of(p).get(metric.key)) for p in trend_periods]
            kpis[metric.key] = build_kpi(pod, metric, state, current, comparison_metrics, targets, trend)

    activities = current["activities"]
    staff_by_job = current["staff_by_job"]
    jobs = [
        JobGroup(
            code=job,
            label=JOB_LABELS[job],
            kpis=[kpis[m.key] for m in METRICS if m.job == job and m.is_scalar],
            activities=sum(activities[job].values()),
            digital=activities[job][Channel.DIGITAL],
            staff=staff_by_job[job],
        )
        for job in BUYING_JOB_ORDER
    ]
    journey, loopbacks = journey_rows(current["journey_transitions"])
    largest_team = max(staff_by_job.values(), default=0)
    staffing = [
        {
            "job": job,
            "label": JOB_LABELS[job],
            "count": staff_by_job[job],
            # Bar length out of 100 (an SVG attribute, not an inline style).
            "width": round(100 * staff_by_job[job] / largest_team) if largest_team else 0,
        }
        for job in BUYING_JOB_ORDER
    ]
    to_date_note = f" ({state.progress_label}, to date)" if state.in_progress else ""
    chart_data = {
        "currency": CURRENCY_SYMBOL,
        "labels": [
            period_label(state.grain, p.start, short=True)
            + (" (to date)" if to_date_note and p.start == state.period else "")
            for p in trend_periods
        ],
        "periods": [
            period_label(state.grain, p.start) + (to_date_note if p.start == state.period else "")
            for p in trend_periods
        ],
        # The last point of a period in progress is drawn apart: it holds only the days so far.
        "inProgress": state.in_progress,
        "trends": {
            key: [_chart_number(metrics_of(p).get(key)) for p in trend_periods]
            for key in (
                "lead_volume",
                "lead_acceptance_rate",
                "bookings",
                "bookings_yoy_growth",
                "tickets_opened",
                "tickets_resolved",
                "open_backlog",
            )
        },
        "channelMix": {
            "jobs": [JOB_LABELS[job] for job in BUYING_JOB_ORDER],
            "channels": [
                {
                    "key": channel,
                    "label": CHANNEL_LABELS[channel],
                    "data": [activities[job][channel] for job in BUYING_JOB_ORDER],
                }
                for channel in CHANNELS
            ],
        },
    }
    return PodDashboard(
        pod=pod,
        state=state,
        computed_at=freshness.computed_at,
        pending_changes=freshness.pending_changes,
        has_data=freshness.has_data,
        headline=[kpis[key] for key in HEADLINE_KEYS],
        jobs=jobs,
        across=[kpis[key] for key in ACROSS_KEYS],
        kpis=kpis,
        journey=journey,
        loopbacks=loopbacks,
        staffing=staffing,
        unstaffed=[row["label"] for row in staffing if not row["count"]],
        chart_data=chart_data,
        running_recompute=freshness.running_recompute,
        personas=persona_rows(current, JOB_LABELS),
        qualifying=qualifying_panel(pod, bounds_of(pod, state.grain, state.period), current, CHANNEL_LABELS),
        progress=progress,
        current_metrics=current,
        comparison_metrics=comparison_metrics,
    )
