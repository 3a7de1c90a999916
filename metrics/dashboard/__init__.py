"""Reads behind the pod dashboard, its drill-downs, the home page and the pod comparison.

The figures come from snapshots only (``metrics.selectors.pod_metric_series``, or
:func:`~metrics.dashboard.pods.snapshots_for_pods` for many pods in one query); only the drill-downs
and the engaged accounts without a lead read facts.  One module per part:

``state``       :class:`DashboardState` (grain, period, comparison: all of it in the URL), period labels
``kpis``        :class:`Kpi` and its change and target, :func:`pod_dashboard`: the dashboard page of one pod
``freshness``   :func:`with_freshness` (read with the pod) and :func:`figures_cache_key` of the rendered figures
``pods``        many pods at once: :func:`pod_headlines` (home), :func:`pod_comparison`, who may compare
``drilldowns``  period bounds as the engine computes them, engaged accounts without a lead, :data:`DRILLDOWNS`

Dependencies run ``state`` ← ``freshness`` ← ``kpis`` ← ``pods``; ``kpis`` links each figure to its
drill-down.  The names below are re-exported, so ``from metrics.dashboard import X`` works for each.
"""

from .drilldowns import (
    DRILLDOWNS,
    Column,
    Drilldown,
    LocalMidnight,
    PeriodBounds,
    bounds_of,
    engaged_accounts_without_lead,
)
from .freshness import (
    FRESHNESS_SQL,
    Freshness,
    dashboard_freshness,
    figures_cache_key,
    freshness_of,
    running_recompute,
    with_freshness,
)
from .kpis import (
    ACROSS_KEYS,
    CHANNEL_LABELS,
    CURRENCY_SYMBOL,
    HEADLINE_KEYS,
    JOB_LABELS,
    Change,
    JobGroup,
    Kpi,
    PeriodProgress,
    PodDashboard,
    build_kpi,
    change_between,
    journey_rows,
    period_targets,
    pod_dashboard,
)
from .pods import (
    COMPARE_KEYS,
    ComparisonRow,
    PodHeadline,
    carried_forward_for_pods,
    may_compare_pods,
    metrics_or_empty,
    pod_comparison,
    pod_headlines,
    snapshots_for_pods,
    targets_for_pods,
)
from .state import (
    COMPARE_CHOICES,
    COMPARE_LAST_YEAR,
    COMPARE_PREVIOUS,
    TREND_PERIODS,
    DashboardState,
    period_label,
)

__all__ = [
    "ACROSS_KEYS",
    "CHANNEL_LABELS",
    "COMPARE_CHOICES",
    "COMPARE_KEYS",
    "COMPARE_LAST_YEAR",
    "COMPARE_PREVIOUS",
    "CURRENCY_SYMBOL",
    "DRILLDOWNS",
    "FRESHNESS_SQL",
    "HEADLINE_KEYS",
    "JOB_LABELS",
    "TREND_PERIODS",
    "Change",
    "Column",
    "ComparisonRow",
    "DashboardState",
    "Drilldown",
    "Freshness",
    "JobGroup",
    "Kpi",
    "LocalMidnight",
    "PeriodBounds",
    "PeriodProgress",
    "PodDashboard",
    "PodHeadline",
    "bounds_of",
    "build_kpi",
    "carried_forward_for_pods",
    "change_between",
    "dashboard_freshness",
    "engaged_accounts_without_lead",
    "figures_cache_key",
    "freshness_of",
    "journey_rows",
    "may_compare_pods",
    "metrics_or_empty",
    "period_label",
    "period_targets",
    "pod_comparison",
    "pod_dashboard",
    "pod_headlines",
    "running_recompute",
    "snapshots_for_pods",
    "targets_for_pods",
    "with_freshness",
]
