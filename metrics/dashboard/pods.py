"""Many pods at once: the home page's headline cards and the pod comparison.

Every pod's snapshots (and targets) come from one query whatever the number of pods
(:func:`snapshots_for_pods`, :func:`targets_for_pods`, :func:`carried_forward_for_pods`); each pod's
period in progress is read in its own zone, compared like for like (docs/PERIOD-TO-DATE.md).
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.urls import reverse

from pods.models import Pod
from pods.scoping import roles_of

from ..catalogue import METRICS_BY_KEY
from ..choices import Grain
from ..models import PodMetricSnapshot, Target
from ..periods import period_start, periods_starting_between, shift
from ..refresh import CARRIED_FORWARD, empty_metrics
from ..selectors import to_date_for_pods
from .kpis import HEADLINE_KEYS, Kpi, build_kpi, period_targets
from .state import COMPARE_LAST_YEAR, COMPARE_PREVIOUS, TREND_PERIODS, DashboardState

# Shown side by side on the comparison page: the headline three, then the key figure(s) of each later job.
COMPARE_KEYS = (
    "lead_volume",
    "lead_acceptance_rate",
    "bookings_yoy_growth",
    "bookings",
    "win_rate",
    "median_sales_cycle_days",
    "adoption_rate",
    "median_resolution_hours",
    "csat",
    "open_backlog",
)


def may_compare_pods(user) -> bool:
    """Admins, CoE members and leaders of several pods compare pods (PRODUCT.md); others get a 404."""
    return roles_of(user).may_compare_pods


def snapshots_for_pods(pods: Iterable[Pod], *, grain: str, first: dt.date, last: dt.date) -> dict:
    """``{pod_id: {period_start: metrics}}`` for every pod, in one query.

    A period the engine did not materialise is simply absent; :func:`metrics_or_empty` fills it.
    """
    found: dict[int, dict] = {pod.pk: {} for pod in pods}
    rows = PodMetricSnapshot.objects.filter(
        pod__in=list(found), grain=grain, period_start__range=(first, last)
    ).values_list("pod_id", "period_start", "metrics")
    for pod_id, start, metrics in rows:
        found[pod_id][start] = metrics
    return found


def targets_for_pods(pods: Iterable[Pod], *, grain: str, first: dt.date, last: dt.date, keys=None) -> dict:
    """``{pod_id: {period_start: {metric: value}}}`` in one query."""
    found: dict[int, dict] = {pod.pk: {} for pod in pods}
    rows = Target.objects.filter(pod__in=list(found), grain=grain, period_start__range=(first, last))
    if keys is not None:
        rows = rows.filter(metric__in=list(keys))
    for pod_id, start, metric, value in rows.values_list("pod_id", "period_start", "metric", "value"):
        found[pod_id].setdefault(start, {})[metric] = value
    return found


def carried_forward_for_pods(pods: Iterable[Pod], *, grain: str, before: dt.date) -> dict:
    """``{pod_id: metrics}``: each pod's last snapshot before ``before`` (one ``DISTINCT ON`` query).

    A period after the engine's horizon has no snapshot; backlog and staffing still stand as they were.
    """
    rows = (
        PodMetricSnapshot.objects.filter(pod__in=[pod.pk for pod in pods], grain=grain, period_start__lt=before)
        .order_by("pod_id", "-period_start")
        .distinct("pod_id")
        .values_list("pod_id", "metrics")
    )
    return dict(rows)


def metrics_or_empty(metrics: dict | None, carried: dict | None = None) -> dict:
    if metrics is not None:
        return metrics
    values = empty_metrics()
    if carried:
        values.update({key: carried[key] for key in CARRIED_FORWARD})
    return values


@dataclass
class PodHeadline:
    """A home-page card's figures: this month's headline KPIs so far and 12 months of lead volume.

    The current month is always in progress: its figures cover ``progress_label`` ("1–5 Dec") and
    compare with the same days of the previous month (docs/PERIOD-TO-DATE.md).
    """

    kpis: list[Kpi]
    sparkline: list
    has_data: bool
    month: dt.date
    progress_label: str = ""
    comparison_label: str = ""
    progress_ready: bool = True


def pod_headlines(pods: list[Pod]) -> dict[int, PodHeadline]:
    """Headline KPIs of each pod's current month (in its own zone), for any number of pods in three queries."""
    if not pods:
        return {}
    todays = {pod.pk: pod.local_today() for pod in pods}
    months = {pod.pk: period_start(Grain.MONTH, today) for pod in pods for today in [todays[pod.pk]]}
    first = shift(Grain.MONTH, min(months.values()), -(TREND_PERIODS - 1))
    last = max(months.values())
    snapshots = snapshots_for_pods(pods, grain=Grain.MONTH, first=first, last=last)
    targets = targets_for_pods(pods, grain=Grain.MONTH, first=first, last=last, keys=HEADLINE_KEYS)
    to_date = {}
    for month in set(months.values()):
        to_date.update(
            to_date_for_pods([pod for pod in pods if months[pod.pk] == month], grain=Grain.MONTH, period=month)
        )
    headlines = {}
    for pod in pods:
        month = months[pod.pk]
        state = DashboardState(
            grain=Grain.MONTH, period=month, compare=COMPARE_PREVIOUS, current_period=month, today=todays[pod.pk]
        )
        pod_snapshots = snapshots[pod.pk]
        current = metrics_or_empty(pod_snapshots.get(month))
        previous = metrics_or_empty(pod_snapshots.get(state.comparison_period))
        figures = to_date[pod.pk]
        if figures.ready:
            current, previous = figures.current, figures.previous
        else:
            previous = {}
        pod_targets = period_targets(targets[pod.pk].get(month, {}), current, figures.windows.current)
        series = [
            (current if start == month else metrics_or_empty(pod_snapshots.get(start))).get("lead_volume")
            for start, _ in periods_starting_between(Grain.MONTH, state.trend_first, month)
        ]
        kpis = [build_kpi(pod, METRICS_BY_KEY[key], state, current, previous, pod_targets, []) for key in HEADLINE_KEYS]
        headlines[pod.pk] = PodHeadline(
            kpis=kpis,
            sparkline=series,
            has_data=bool(pod_snapshots),
            month=month,
            progress_label=state.progress_label,
            comparison_label=state.comparison_label,
            progress_ready=figures.ready,
        )
    return headlines


@dataclass
class ComparisonRow:
    pod: Pod
    kpis: dict[str, Kpi]
    dashboard_url: str
    # For a period in progress in the pod's own zone: its days so far ("1–5 Dec"), and whether they are computed.
    progress_label: str = ""
    progress_ready: bool = True
    not_started: bool = False  # the period has not begun yet in the pod's zone (it is still the day before)


def pod_comparison(pods: list[Pod], *, state: DashboardState, sort: str, descending: bool) -> list[ComparisonRow]:
    """The KPIs of :data:`COMPARE_KEYS` for every pod in one period, sorted by one of them (empty values last).

    A period in progress is read per pod in its own zone: each pod's days so far against the same
    days of its comparison period (docs/PERIOD-TO-DATE.md).
    """
    snapshots = snapshots_for_pods(pods, grain=state.grain, first=state.comparison_period, last=state.period)
    missing = [pod for pod in pods if state.period not in snapshots[pod.pk]]
    carried = carried_forward_for_pods(missing, grain=state.grain, before=state.period) if missing else {}
    targets = targets_for_pods(pods, grain=state.grain, first=state.period, last=state.period, keys=COMPARE_KEYS)
    to_date = to_date_for_pods(pods, grain=state.grain, period=state.period) if state.in_progress else {}
    last_year = state.compare == COMPARE_LAST_YEAR
    rows = []
    for pod in pods:
        current = metrics_or_empty(snapshots[pod.pk].get(state.period), carried.get(pod.pk))
        comparison = metrics_or_empty(snapshots[pod.pk].get(state.comparison_period))
        window, row_extra = None, {}
        figures = to_date.get(pod.pk)
        if figures is not None:
            window = figures.windows.current
            row_extra = {"progress_label": window.label(year=last_year), "progress_ready": figures.ready}
            if figures.ready:
                current = figures.current
                comparison = figures.last_year if last_year else figures.previous
            else:
                comparison = {}
        elif state.in_progress and state.period > period_start(state.grain, pod.local_today()):
            current, comparison, row_extra = empty_metrics(), {}, {"not_started": True}
        period_targets_of_pod = period_targets(targets[pod.pk].get(state.period, {}), current, window)
        kpis = {
            key: build_kpi(pod, METRICS_BY_KEY[key], state, current, comparison, period_targets_of_pod, [])
            for key in COMPARE_KEYS
        }
        url = reverse("pod-dashboard", args=[pod.slug]) + "?" + state.query()
        rows.append(ComparisonRow(pod=pod, kpis=kpis, dashboard_url=url, **row_extra))

    if sort == "pod":
        rows.sort(key=lambda row: row.pod.name.lower(), reverse=descending)
        return rows
    present = [row for row in rows if row.kpis[sort].value is not None]
    absent = [row for row in rows if row.kpis[sort].value is None]
    present.sort(key=lambda row: float(row.kpis[sort].value), reverse=descending)
    return present + sorted(absent, key=lambda row: row.pod.name.lower())
