"""Reads behind the pod dashboard, the home page and the pod comparison.

The figures themselves come from snapshots only (``metrics.selectors.pod_metric_series``, or
:func:`snapshots_for_pods` for many pods in one query).  Two things read facts, both scoped to one
pod and bounded by pagination: the records behind a figure (:data:`DRILLDOWNS`) and the engaged
accounts without a lead.  Their period bounds are computed by PostgreSQL exactly as the metric
engine computes ``s`` and ``e`` (``local_date::timestamp AT TIME ZONE pod_tz``), so a drill-down
lists precisely the rows its figure counted, daylight-saving days included.
"""

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection, models
from django.db.models import Case, Count, Exists, F, Func, IntegerField, Max, Min, OuterRef, Q, Value, When, Window
from django.db.models.functions import Lag
from django.urls import reverse
from django.utils import timezone

from jobs.choices import Channel, LeadStatus, OpportunityStatus
from jobs.models import Activity, AdoptionReading, Lead, Opportunity, Order, SupportTicket
from pods.choices import BUYING_JOB_ORDER, BuyingJob
from pods.models import Assignment, Pod
from pods.scoping import is_uce_admin, pods_led_by

from .catalogue import METRICS, METRICS_BY_KEY, Metric
from .choices import Grain
from .models import PodMetricSnapshot, RecomputeRequest, Target
from .periods import period_start, periods_starting_between, shift, year_earlier
from .refresh import CARRIED_FORWARD, CHANNELS, empty_metrics
from .selectors import pod_metric_series, to_date_for_pods
from .targets import target_status
from .to_date import ToDateWindows, is_complete, is_prorated, target_to_date, windows_on
from .to_date import Window as DayWindow

COMPARE_PREVIOUS = "previous"
COMPARE_LAST_YEAR = "last_year"
COMPARE_CHOICES = ((COMPARE_PREVIOUS, "Previous period"), (COMPARE_LAST_YEAR, "Same period last year"))
TREND_PERIODS = 12
HEADLINE_KEYS = ("lead_volume", "lead_acceptance_rate", "bookings_yoy_growth")
ACROSS_KEYS = (
    "activity_total",
    "digital_share",
    "rep_free_win_share",
    "loopbacks",
    "maze_index",
    "staffed_job_coverage",
)
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
# The spec records no currency: amounts are shown in the organisation's reporting currency.
CURRENCY_SYMBOL = getattr(settings, "UCE_CURRENCY_SYMBOL", "$")
ENGAGED_MIN_LEARN_ACTIVITIES = 2
NO_LEAD_LOOKBACK = dt.timedelta(days=90)
# Periods before this are refused as typos (a year 0001 would also break period arithmetic).
EARLIEST_PERIOD = dt.date(1990, 1, 1)
CHANNEL_LABELS = dict(Channel.choices)
JOB_LABELS = dict(BuyingJob.choices)


def may_compare_pods(user) -> bool:
    """Admins and leaders of several pods compare pods (PRODUCT.md screen 3); others get a 404."""
    return is_uce_admin(user) or pods_led_by(user)[:2].count() == 2


def local_today(pod: Pod) -> dt.date:
    return pod.local_today()


def period_label(grain: str, start: dt.date, *, short: bool = False) -> str:
    """``March 2026``, ``Q1 2026``, ``2026``, or ``Week 11, 2026 (9–15 Mar)``; short forms for chart axes."""
    if grain == Grain.MONTH:
        return start.strftime("%b %y" if short else "%B %Y")
    if grain == Grain.QUARTER:
        return f"Q{(start.month - 1) // 3 + 1} {start:%y}" if short else f"Q{(start.month - 1) // 3 + 1} {start.year}"
    if grain == Grain.YEAR:
        return str(start.year)
    iso_year, iso_week, _ = start.isocalendar()
    if short:
        return f"{start.day} {start:%b}"
    last = start + dt.timedelta(days=6)
    span = (
        f"{start.day}–{last.day} {last:%b}"
        if start.month == last.month
        else f"{start.day} {start:%b}–{last.day} {last:%b}"
    )
    return f"Week {iso_week}, {iso_year} ({span})"


@dataclass(frozen=True)
class DashboardState:
    """What the dashboard shows: grain, period (its start date) and comparison — all of it in the URL."""

    grain: str
    period: dt.date
    compare: str
    current_period: dt.date  # the period containing the pod's today: the latest one offered
    # The pod's local today: the current period is in progress until it is over (docs/PERIOD-TO-DATE.md).
    today: dt.date | None = None

    @classmethod
    def from_query(cls, params, *, today: dt.date) -> "DashboardState":
        """Read ``?grain=&period=&compare=``; anything unreadable falls back to this month, previous period."""
        grain = params.get("grain")
        if grain not in Grain.values:
            grain = Grain.MONTH
        current = period_start(grain, today)
        try:
            day = dt.date.fromisoformat(params.get("period") or "")
        except ValueError:
            day = today
        if day < EARLIEST_PERIOD:
            day = today
        compare = params.get("compare")
        if compare not in (COMPARE_PREVIOUS, COMPARE_LAST_YEAR):
            compare = COMPARE_PREVIOUS
        period = min(period_start(grain, day), current)
        return cls(grain=grain, period=period, compare=compare, current_period=current, today=today)

    @property
    def in_progress(self) -> bool:
        """The period is the one containing today: its figures are to date, its comparison like for like."""
        return self.today is not None and not is_complete(self.grain, self.period, self.today)

    @property
    def to_date(self) -> ToDateWindows | None:
        return windows_on(self.grain, self.today) if self.in_progress else None

    @property
    def comparison_window(self) -> DayWindow | None:
        """The stretch of the comparison period a period in progress is compared with."""
        windows = self.to_date
        if windows is None:
            return None
        return windows.last_year if self.compare == COMPARE_LAST_YEAR else windows.previous

    @property
    def progress_label(self) -> str:
        """``1–5 Dec`` (``1–5 Dec 2026`` against last year): the days of a period in progress so far."""
        windows = self.to_date
        return windows.current.label(year=self.compare == COMPARE_LAST_YEAR) if windows else ""

    @property
    def end(self) -> dt.date:
        return shift(self.grain, self.period, 1)

    @property
    def comparison_period(self) -> dt.date:
        if self.compare == COMPARE_LAST_YEAR:
            return year_earlier(self.grain, self.period)
        return shift(self.grain, self.period, -1)

    @property
    def previous_period(self) -> dt.date:
        return shift(self.grain, self.period, -1)

    @property
    def next_period(self) -> dt.date | None:
        following = shift(self.grain, self.period, 1)
        return following if following <= self.current_period else None

    @property
    def label(self) -> str:
        return period_label(self.grain, self.period)

    @property
    def comparison_label(self) -> str:
        """The comparison period, or for a period in progress the same days of it: ``1–5 Nov``."""
        window = self.comparison_window
        if window is not None:
            return window.label(year=self.compare == COMPARE_LAST_YEAR)
        return period_label(self.grain, self.comparison_period)

    @property
    def trend_first(self) -> dt.date:
        return shift(self.grain, self.period, -(TREND_PERIODS - 1))

    def recent_periods(self, count: int = 24) -> list[tuple[dt.date, str]]:
        """Options of the period picker: the latest ``count`` periods, plus the selected one if older."""
        first = shift(self.grain, self.current_period, -(count - 1))
        options = [
            (start, period_label(self.grain, start))
            for start, _ in periods_starting_between(self.grain, first, self.current_period)
        ]
        if self.period < first:
            options.insert(0, (self.period, self.label))
        return list(reversed(options))

    def query(self, **overrides) -> str:
        """The canonical query string of this state, with some values replaced."""
        values = {"grain": self.grain, "period": self.period.isoformat(), "compare": self.compare}
        values.update(
            {key: value.isoformat() if isinstance(value, dt.date) else value for key, value in overrides.items()}
        )
        return urlencode(values)


# --- Values, changes and target statuses, from snapshot metrics --------------------------------------------------


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
class Freshness:
    """What the dashboard says about its figures, read afresh on every request (never cached).

    ``figures_version`` changes whenever anything the figures of a grain are made of changes: the
    pod recomputed (its state's ``computed_at``, a clock reading), a snapshot of that grain written
    or deleted, a target of that grain set, changed or removed.
    The rendered figures are cached under it (:func:`figures_cache_key`).
    """

    computed_at: dt.datetime | None
    pending_changes: bool
    has_data: bool
    figures_version: str
    running_recompute: RecomputeRequest | None


# One statement for the freshness line and the version of the figures. Every refresh of the pod
# sets its state's computed_at; snapshots written otherwise change their count or newest time;
# targets have no timestamp, so their values are hashed (a few rows per pod).
FRESHNESS_SQL = """
    SELECT
        st.computed_at,
        EXISTS (SELECT FROM metrics_dirtyrange WHERE pod_id = p.id),
        EXISTS (SELECT FROM metrics_podmetricsnapshot WHERE pod_id = p.id),
        concat_ws('/',
            st.computed_at,
            (SELECT concat_ws('/', count(*), max(computed_at))
               FROM metrics_podmetricsnapshot WHERE pod_id = p.id AND grain = %(grain)s),
            (SELECT md5(coalesce(string_agg(concat_ws(':', metric, period_start, value), ','
                                            ORDER BY metric, period_start), ''))
               FROM metrics_target WHERE pod_id = p.id AND grain = %(grain)s)),
        EXISTS (SELECT FROM metrics_recomputerequest WHERE pod_id = p.id AND status IN ('pending', 'running'))
    FROM (SELECT %(pod)s::bigint AS id) p
    LEFT JOIN metrics_podmetricstate st ON st.pod_id = p.id
"""


def dashboard_freshness(pod: Pod, grain: str) -> Freshness:
    """The pod's freshness and the version of its figures at ``grain``: one query (two while recomputing)."""
    with connection.cursor() as cursor:
        cursor.execute(FRESHNESS_SQL, {"pod": pod.pk, "grain": grain})
        computed_at, pending, has_data, version, recomputing = cursor.fetchone()
    return Freshness(
        # The database's clock may run ahead of this machine's: "computed 3 seconds from now" reads as "now".
        computed_at=min(computed_at, timezone.now()) if computed_at else None,
        pending_changes=pending,
        has_data=has_data,
        figures_version=version,
        running_recompute=running_recompute(pod) if recomputing else None,
    )


def figures_cache_key(pod: Pod, state: DashboardState, freshness: Freshness) -> str:
    """What the rendered figures depend on: the pod as shown, the page's state, and the data's version.

    Nothing in the figures depends on who looks at them (access is checked before), so people who
    may see the pod share the entry.  An entry never goes stale: any change gives a new key.
    """
    return "|".join(
        (str(pod.pk), pod.slug, pod.name, pod.timezone, state.query(), str(local_today(pod)), freshness.figures_version)
    )


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
    progress: PeriodProgress | None = None  # set when the period is in progress


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
            kpis=[kpis[m.key] for m in METRICS if m.job == job],
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
        progress=progress,
    )


def running_recompute(pod: Pod) -> RecomputeRequest | None:
    """The pod's newest recomputation still under way, whose progress the page keeps polling."""
    return (
        RecomputeRequest.objects.filter(
            pod=pod, status__in=[RecomputeRequest.Status.PENDING, RecomputeRequest.Status.RUNNING]
        )
        .order_by("-created_at")
        .first()
    )


# --- Many pods at once (home, comparison): one query for all snapshots ------------------------------------------


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
    todays = {pod.pk: local_today(pod) for pod in pods}
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


# --- Facts: period bounds, engaged accounts without a lead, drill-downs ------------------------------------------


class LocalMidnight(Func):
    """``(day::timestamp AT TIME ZONE tz)``: the instant a local day starts, exactly as the engine computes it."""

    output_field = models.DateTimeField()

    def __init__(self, day: dt.date, tz: str, **extra):
        super().__init__(Value(day, output_field=models.DateField()), Value(tz), **extra)

    def as_sql(self, compiler, connection, **extra):
        day, tz = self.get_source_expressions()
        day_sql, day_params = compiler.compile(day)
        tz_sql, tz_params = compiler.compile(tz)
        return f"(({day_sql})::timestamp AT TIME ZONE {tz_sql})", [*day_params, *tz_params]


@dataclass(frozen=True)
class PeriodBounds:
    """A period ``[start, end)`` of local dates, and its instants ``s``/``e`` as SQL expressions."""

    start: dt.date
    end: dt.date
    tz: str

    @property
    def s(self) -> LocalMidnight:
        return LocalMidnight(self.start, self.tz)

    @property
    def e(self) -> LocalMidnight:
        return LocalMidnight(self.end, self.tz)

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    def instant_filter(self, column: str) -> Q:
        return Q(**{f"{column}__gte": self.s, f"{column}__lt": self.e})


def bounds_of(pod: Pod, grain: str, start: dt.date) -> PeriodBounds:
    return PeriodBounds(start=start, end=shift(grain, start, 1), tz=pod.timezone)


def engaged_accounts_without_lead(*, pod: Pod, bounds: PeriodBounds) -> models.QuerySet:
    """Accounts with at least two Learn activities (under the pod) in the period and no lead in the 90 days
    before the period's end — engaged digitally, not yet in sales' hands: the list a pod calls first.

    A lead of the account under any pod counts: the account is in someone's hands.  Rows are dicts
    (account id, name, external id, Learn activity count, digital ones, latest), busiest first.
    """
    recent_lead = Lead.objects.filter(
        account=OuterRef("account"),
        created_at__gte=models.ExpressionWrapper(
            bounds.e - Value(NO_LEAD_LOOKBACK), output_field=models.DateTimeField()
        ),
        created_at__lt=bounds.e,
    )
    return (
        Activity.objects.filter(bounds.instant_filter("occurred_at"), pod=pod, job=BuyingJob.LEARN)
        .values("account", "account__name", "account__external_id")
        .annotate(
            learn_activities=Count("id"),
            digital_activities=Count("id", filter=Q(channel=Channel.DIGITAL)),
            last_activity_at=Max("occurred_at"),
        )
        .filter(learn_activities__gte=ENGAGED_MIN_LEARN_ACTIVITIES)
        .filter(~Exists(recent_lead))
        .order_by("-learn_activities", "-last_activity_at", "account__name", "account")
    )


@dataclass(frozen=True)
class Column:
    """A column of a drill-down table: a key of the row dicts and how to show it."""

    label: str
    key: str
    kind: str = "text"  # text | datetime | date | money | count | days | hours | rate | job | channel | status | flag

    @property
    def numeric(self) -> bool:
        return self.kind in {"count", "money", "days", "hours", "rate"}


@dataclass(frozen=True)
class Drilldown:
    """The records behind one figure: what they are, their columns and the scoped queryset producing them."""

    title: str
    description: str
    columns: tuple[Column, ...]
    rows: Callable[[Pod, PeriodBounds, str], models.QuerySet]


ACCOUNT = Column("Account", "account__name")
LEAD_COLUMNS = (
    Column("Lead", "external_id"),
    ACCOUNT,
    Column("Created", "created_at", "datetime"),
    Column("Channel", "channel", "channel"),
    Column("Status", "status", "status"),
    Column("Decided", "decided_at", "datetime"),
    Column("Rejection reason", "rejection_reason"),
)
LEAD_FIELDS = (
    "pk",
    "external_id",
    "account__name",
    "created_at",
    "channel",
    "status",
    "decided_at",
    "rejection_reason",
)
OPPORTUNITY_FIELDS = ("pk", "external_id", "name", "account__name", "amount", "created_at", "status", "closed_at")
OPPORTUNITY_COLUMNS = (
    Column("Opportunity", "name"),
    ACCOUNT,
    Column("Amount", "amount", "money"),
    Column("Created", "created_at", "datetime"),
    Column("Status", "status", "status"),
    Column("Closed", "closed_at", "datetime"),
)
ORDER_FIELDS = ("pk", "external_id", "account__name", "ordered_at", "installed_at", "seats")
ORDER_COLUMNS = (
    Column("Order", "external_id"),
    ACCOUNT,
    Column("Ordered", "ordered_at", "datetime"),
    Column("Installed", "installed_at", "datetime"),
    Column("Seats", "seats", "count"),
)
TICKET_FIELDS = ("pk", "external_id", "account__name", "opened_at", "resolved_at", "channel", "csat")
TICKET_COLUMNS = (
    Column("Ticket", "external_id"),
    ACCOUNT,
    Column("Opened", "opened_at", "datetime"),
    Column("Resolved", "resolved_at", "datetime"),
    Column("Channel", "channel", "channel"),
    Column("CSAT", "csat", "count"),
)
ACTIVITY_FIELDS = ("pk", "occurred_at", "account__name", "job", "channel", "kind", "staff__full_name", "minutes")
ACTIVITY_COLUMNS = (
    Column("Occurred", "occurred_at", "datetime"),
    ACCOUNT,
    Column("Job", "job", "job"),
    Column("Channel", "channel", "channel"),
    Column("Kind", "kind"),
    Column("Staff", "staff__full_name"),
    Column("Minutes", "minutes", "count"),
)


def _duration(end: str, start: str):
    return models.ExpressionWrapper(F(end) - F(start), output_field=models.DurationField())


def _leads(pod, bounds, status=None, *, decided=False):
    rows = Lead.objects.filter(pod=pod)
    if decided:
        rows = rows.filter(bounds.instant_filter("decided_at"))
        rows = (
            rows.filter(status=status) if status else rows.filter(status__in=[LeadStatus.ACCEPTED, LeadStatus.REJECTED])
        )
        order = ("-decided_at", "-pk")
    else:
        rows = rows.filter(bounds.instant_filter("created_at"))
        order = ("-created_at", "-pk")
    return rows.values(*LEAD_FIELDS).order_by(*order)


def _won(pod, bounds):
    return Opportunity.objects.filter(bounds.instant_filter("closed_at"), pod=pod, status=OpportunityStatus.WON)


def _bookings_yoy(pod, bounds, grain):
    earlier = bounds_of(pod, grain, year_earlier(grain, bounds.start))
    return (
        Opportunity.objects.filter(
            bounds.instant_filter("closed_at") | earlier.instant_filter("closed_at"),
            pod=pod,
            status=OpportunityStatus.WON,
        )
        .annotate(
            period=Case(When(closed_at__gte=bounds.s, then=Value("This period")), default=Value("A year earlier"))
        )
        .values(*OPPORTUNITY_FIELDS, "period")
        .order_by("-closed_at", "-pk")
    )


def _rep_free_wins(pod, bounds, grain):
    # METRICS.md: a hands-on (in-person or partner) activity of the account under any pod in
    # [closed_at - 90 days, closed_at] makes a win not rep-free.
    hands_on = Activity.objects.filter(
        account=OuterRef("account"),
        channel__in=[Channel.IN_PERSON, Channel.PARTNER],
        occurred_at__gte=models.ExpressionWrapper(
            OuterRef("closed_at") - Value(NO_LEAD_LOOKBACK), output_field=models.DateTimeField()
        ),
        occurred_at__lte=OuterRef("closed_at"),
    )
    return (
        _won(pod, bounds)
        .annotate(rep_free=~Exists(hands_on))
        .values(*OPPORTUNITY_FIELDS, "rep_free")
        .order_by("-closed_at", "-pk")
    )


def _job_rank():
    return Case(*(When(job=job, then=Value(i)) for i, job in enumerate(BUYING_JOB_ORDER)), output_field=IntegerField())


def _transitions(pod, bounds, *, loopbacks_only=False):
    """Each activity whose job differs from the account's previous activity in the period (METRICS.md journey)."""
    previous = Window(Lag("job"), partition_by=[F("account")], order_by=[F("occurred_at").asc(), F("pk").asc()])
    previous_rank = Window(
        Lag(_job_rank()), partition_by=[F("account")], order_by=[F("occurred_at").asc(), F("pk").asc()]
    )
    rows = (
        Activity.objects.filter(bounds.instant_filter("occurred_at"), pod=pod)
        .annotate(from_job=previous, from_rank=previous_rank, to_rank=_job_rank())
        .filter(from_job__isnull=False)
        .exclude(from_job=F("job"))
    )
    rows = rows.annotate(is_loopback=Case(When(from_rank__gt=F("to_rank"), then=Value(True)), default=Value(False)))
    if loopbacks_only:
        rows = rows.filter(from_rank__gt=F("to_rank"))
    return rows.values(
        "pk", "occurred_at", "account__name", "from_job", "job", "channel", "kind", "is_loopback"
    ).order_by("account__name", "account", "occurred_at", "pk")


TRANSITION_COLUMNS = (
    ACCOUNT,
    Column("Occurred", "occurred_at", "datetime"),
    Column("From job", "from_job", "job"),
    Column("To job", "job", "job"),
    Column("Channel", "channel", "channel"),
    Column("Kind", "kind"),
    Column("Loops back", "is_loopback", "flag"),
)


def _adoption(pod, bounds, grain):
    latest = (
        AdoptionReading.objects.filter(pod=pod, measured_on__gte=bounds.start, measured_on__lt=bounds.end)
        .order_by("account_id", "-measured_on")
        .distinct("account_id")
        .values("pk")
    )
    return (
        AdoptionReading.objects.filter(pk__in=latest)
        .annotate(
            usage=models.ExpressionWrapper(
                F("active_seats") * 1.0 / models.functions.NullIf(F("licensed_seats"), 0),
                output_field=models.FloatField(),
            )
        )
        .values("pk", "account__name", "measured_on", "licensed_seats", "active_seats", "usage")
        .order_by("account__name", "pk")
    )


def _staffing(pod, bounds, grain):
    return (
        Assignment.objects.filter(pod=pod)
        .active_on(bounds.last_day)
        .annotate(job_rank=_job_rank())
        .values("pk", "person__full_name", "person__username", "job", "started_on", "ended_on")
        .order_by("job_rank", "person__full_name", "person__username", "pk")
    )


def _activities(pod, bounds, grain, **filters):
    return (
        Activity.objects.filter(bounds.instant_filter("occurred_at"), pod=pod, **filters)
        .values(*ACTIVITY_FIELDS)
        .order_by("-occurred_at", "-pk")
    )


def _tickets_resolved(pod, bounds):
    return SupportTicket.objects.filter(bounds.instant_filter("resolved_at"), pod=pod)


DRILLDOWNS: dict[str, Drilldown] = {
    "lead_volume": Drilldown(
        "Leads created", "Leads created in the period.", LEAD_COLUMNS, lambda pod, b, g: _leads(pod, b)
    ),
    "leads_accepted": Drilldown(
        "Leads accepted",
        "Leads accepted in the period (by decision date).",
        LEAD_COLUMNS,
        lambda pod, b, g: _leads(pod, b, LeadStatus.ACCEPTED, decided=True),
    ),
    "leads_rejected": Drilldown(
        "Leads rejected",
        "Leads rejected in the period (by decision date) — qualifying out is a decision too.",
        LEAD_COLUMNS,
        lambda pod, b, g: _leads(pod, b, LeadStatus.REJECTED, decided=True),
    ),
    "lead_acceptance_rate": Drilldown(
        "Leads decided",
        "Leads accepted or rejected in the period: the rate is accepted ÷ decided.",
        LEAD_COLUMNS,
        lambda pod, b, g: _leads(pod, b, decided=True),
    ),
    "engaged_accounts": Drilldown(
        "Engaged accounts",
        "Accounts with at least one Learn activity in the period.",
        (
            ACCOUNT,
            Column("Learn activities", "learn_activities", "count"),
            Column("First", "first_activity_at", "datetime"),
            Column("Latest", "last_activity_at", "datetime"),
        ),
        lambda pod, b, g: Activity.objects.filter(b.instant_filter("occurred_at"), pod=pod, job=BuyingJob.LEARN)
        .values("account", "account__name")
        .annotate(
            learn_activities=Count("id"), first_activity_at=Min("occurred_at"), last_activity_at=Max("occurred_at")
        )
        .order_by("-learn_activities", "account__name", "account"),
    ),
    "pipeline_created": Drilldown(
        "Opportunities created",
        "Opportunities created in the period; pipeline is the sum of their amounts.",
        OPPORTUNITY_COLUMNS,
        lambda pod, b, g: Opportunity.objects.filter(b.instant_filter("created_at"), pod=pod)
        .values(*OPPORTUNITY_FIELDS)
        .order_by("-created_at", "-pk"),
    ),
    "bookings": Drilldown(
        "Won opportunities",
        "Opportunities won (closed) in the period; bookings is the sum of their amounts.",
        OPPORTUNITY_COLUMNS,
        lambda pod, b, g: _won(pod, b).values(*OPPORTUNITY_FIELDS).order_by("-closed_at", "-pk"),
    ),
    "win_rate": Drilldown(
        "Closed opportunities",
        "Opportunities won or lost in the period: the rate is won ÷ closed.",
        OPPORTUNITY_COLUMNS,
        lambda pod, b, g: Opportunity.objects.filter(
            b.instant_filter("closed_at"), pod=pod, status__in=[OpportunityStatus.WON, OpportunityStatus.LOST]
        )
        .values(*OPPORTUNITY_FIELDS)
        .order_by("-closed_at", "-pk"),
    ),
    "bookings_yoy_growth": Drilldown(
        "Won opportunities, this period and a year earlier",
        "Growth compares the bookings of this period with those of the same period a year earlier.",
        (Column("Period", "period"), *OPPORTUNITY_COLUMNS),
        _bookings_yoy,
    ),
    "median_sales_cycle_days": Drilldown(
        "Won opportunities and their sales cycle",
        "Opportunities won in the period, shortest cycle first; the figure is the median cycle.",
        (*OPPORTUNITY_COLUMNS, Column("Sales cycle", "cycle", "days")),
        lambda pod, b, g: _won(pod, b)
        .annotate(cycle=_duration("closed_at", "created_at"))
        .values(*OPPORTUNITY_FIELDS, "cycle")
        .order_by("cycle", "pk"),
    ),
    "orders": Drilldown(
        "Orders placed",
        "Orders placed in the period.",
        ORDER_COLUMNS,
        lambda pod, b, g: Order.objects.filter(b.instant_filter("ordered_at"), pod=pod)
        .values(*ORDER_FIELDS)
        .order_by("-ordered_at", "-pk"),
    ),
    "installs": Drilldown(
        "Orders installed",
        "Orders installed in the period.",
        ORDER_COLUMNS,
        lambda pod, b, g: Order.objects.filter(b.instant_filter("installed_at"), pod=pod)
        .values(*ORDER_FIELDS)
        .order_by("-installed_at", "-pk"),
    ),
    "median_days_to_install": Drilldown(
        "Installs and their time to install",
        "Orders installed in the period, quickest first; the figure is the median time from order to install.",
        (*ORDER_COLUMNS, Column("Time to install", "to_install", "days")),
        lambda pod, b, g: Order.objects.filter(b.instant_filter("installed_at"), pod=pod)
        .annotate(to_install=_duration("installed_at", "ordered_at"))
        .values(*ORDER_FIELDS, "to_install")
        .order_by("to_install", "pk"),
    ),
    "adoption_rate": Drilldown(
        "Latest adoption reading per account",
        "Each account's latest reading in the period; the rate is active seats ÷ licensed seats over them.",
        (
            ACCOUNT,
            Column("Measured on", "measured_on", "date"),
            Column("Licensed seats", "licensed_seats", "count"),
            Column("Active seats", "active_seats", "count"),
            Column("Usage", "usage", "rate"),
        ),
        _adoption,
    ),
    "tickets_opened": Drilldown(
        "Tickets opened",
        "Support tickets opened in the period.",
        TICKET_COLUMNS,
        lambda pod, b, g: SupportTicket.objects.filter(b.instant_filter("opened_at"), pod=pod)
        .values(*TICKET_FIELDS)
        .order_by("-opened_at", "-pk"),
    ),
    "tickets_resolved": Drilldown(
        "Tickets resolved",
        "Support tickets resolved in the period.",
        TICKET_COLUMNS,
        lambda pod, b, g: _tickets_resolved(pod, b).values(*TICKET_FIELDS).order_by("-resolved_at", "-pk"),
    ),
    "median_resolution_hours": Drilldown(
        "Tickets resolved and their resolution time",
        "Tickets resolved in the period, quickest first; the figure is the median resolution time.",
        (*TICKET_COLUMNS, Column("Resolution time", "resolution", "hours")),
        lambda pod, b, g: _tickets_resolved(pod, b)
        .annotate(resolution=_duration("resolved_at", "opened_at"))
        .values(*TICKET_FIELDS, "resolution")
        .order_by("resolution", "pk"),
    ),
    "csat": Drilldown(
        "Rated tickets",
        "Tickets resolved in the period with a CSAT score; the figure is their mean score.",
        TICKET_COLUMNS,
        lambda pod, b, g: _tickets_resolved(pod, b)
        .filter(csat__isnull=False)
        .values(*TICKET_FIELDS)
        .order_by("csat", "-resolved_at", "-pk"),
    ),
    "open_backlog": Drilldown(
        "Open tickets at the end of the period",
        "Tickets opened before the period's end and not resolved by then.",
        TICKET_COLUMNS,
        lambda pod, b, g: SupportTicket.objects.filter(pod=pod, opened_at__lt=b.e)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=b.e))
        .values(*TICKET_FIELDS)
        .order_by("opened_at", "pk"),
    ),
    "activity_total": Drilldown(
        "Activities", "Activities in the period, across all jobs.", ACTIVITY_COLUMNS, _activities
    ),
    "digital_share": Drilldown(
        "Digital activities",
        "Activities over the digital channel in the period; the share is these ÷ all activities.",
        ACTIVITY_COLUMNS,
        lambda pod, b, g: _activities(pod, b, g, channel=Channel.DIGITAL),
    ),
    "rep_free_win_share": Drilldown(
        "Won opportunities, rep-free or not",
        "Wins of the period; rep-free: no in-person or partner activity of the account in the 90 days before closing.",
        (*OPPORTUNITY_COLUMNS, Column("Rep-free", "rep_free", "flag")),
        _rep_free_wins,
    ),
    "loopbacks": Drilldown(
        "Loopbacks",
        "Moves of an account back to an earlier buying job within the period.",
        TRANSITION_COLUMNS,
        lambda pod, b, g: _transitions(pod, b, loopbacks_only=True),
    ),
    "maze_index": Drilldown(
        "Journey transitions",
        "Every move of an account between buying jobs in the period; the index is the share of moving accounts "
        "that looped back at least once.",
        TRANSITION_COLUMNS,
        lambda pod, b, g: _transitions(pod, b),
    ),
    "staffed_job_coverage": Drilldown(
        "Staff on the last day of the period",
        "Assignments to the pod active on the period's last day, by buying job.",
        (
            Column("Person", "person__full_name"),
            Column("Job", "job", "job"),
            Column("Since", "started_on", "date"),
            Column("Until", "ended_on", "date"),
        ),
        _staffing,
    ),
}
