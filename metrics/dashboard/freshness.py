"""How fresh the dashboard's figures are, and the key their rendering is cached under.

On every request the dashboard reads, in the statement that reads its pod (:func:`with_freshness`,
columns :data:`FRESHNESS_SQL`), when the pod was last computed, whether changes are waiting, and a
version of everything the figures of a grain are made of; :func:`figures_cache_key` turns that version
and the page's state into the cache key of the rendered figures, so an entry never goes stale: any
change gives a new key.  :func:`dashboard_freshness` reads the same for a pod already in hand.
"""

import datetime as dt
from dataclasses import dataclass

from django.db import models
from django.db.models.expressions import RawSQL
from django.utils import timezone

from pods.models import Pod

from ..models import RecomputeRequest
from .state import DashboardState


@dataclass(frozen=True)
class Freshness:
    """What the dashboard says about its figures, read afresh on every request (never cached).

    ``figures_version`` changes whenever anything the figures of a grain are made of changes: the
    pod recomputed (its state's ``computed_at``, a clock reading), a snapshot of that grain written
    or deleted, a target of that grain set, changed or removed.
    The rendered figures are cached under it (:func:`figures_cache_key`).
    ``propensity_fit_version`` is the newest propensity fit's id: a refit changes the engaged list's
    scores, so that list is cached under it too.
    """

    computed_at: dt.datetime | None
    pending_changes: bool
    has_data: bool
    figures_version: str
    running_recompute: RecomputeRequest | None
    propensity_fit_version: str = "0"


# Read with the pod, in its own statement (:func:`with_freshness`): each column is a subquery on the
# pod's id. Every refresh of the pod sets its state's computed_at; snapshots written otherwise change
# their count or newest time; targets have no timestamp, so their values are hashed (a few rows per
# pod). The newest propensity fit (its id, from the primary key's index) rides along too.
FRESHNESS_SQL = {
    "computed_at": (
        'SELECT computed_at FROM metrics_podmetricstate WHERE pod_id = "pods_pod"."id"',
        models.DateTimeField(),
    ),
    "pending_changes": (
        'SELECT EXISTS (SELECT FROM metrics_dirtyrange WHERE pod_id = "pods_pod"."id")',
        models.BooleanField(),
    ),
    "has_data": (
        'SELECT EXISTS (SELECT FROM metrics_podmetricsnapshot WHERE pod_id = "pods_pod"."id")',
        models.BooleanField(),
    ),
    "figures_version": (
        """SELECT concat_ws('/',
            (SELECT computed_at FROM metrics_podmetricstate WHERE pod_id = "pods_pod"."id"),
            (SELECT concat_ws('/', count(*), max(computed_at))
               FROM metrics_podmetricsnapshot WHERE pod_id = "pods_pod"."id" AND grain = %s),
            (SELECT md5(coalesce(string_agg(concat_ws(':', metric, period_start, value), ','
                                            ORDER BY metric, period_start), ''))
               FROM metrics_target WHERE pod_id = "pods_pod"."id" AND grain = %s))""",
        models.TextField(),
    ),
    "recomputing": (
        """SELECT EXISTS (SELECT FROM metrics_recomputerequest
                          WHERE pod_id = "pods_pod"."id" AND status IN ('pending', 'running'))""",
        models.BooleanField(),
    ),
    "propensity_fit_version": ("SELECT coalesce(max(id), 0) FROM metrics_propensityfit", models.BigIntegerField()),
}


def with_freshness(pods: models.QuerySet[Pod], grain: str) -> models.QuerySet[Pod]:
    """``pods`` with what :func:`freshness_of` reads at ``grain``: the page's pod and its freshness in one query."""
    columns = {}
    for name, (sql, field) in FRESHNESS_SQL.items():
        # Constant SQL; the grain is a bound parameter.
        columns[f"freshness_{name}"] = RawSQL(f"({sql})", [grain] * sql.count("%s"), output_field=field)  # noqa: S611
    return pods.annotate(**columns)


def freshness_of(pod: Pod) -> Freshness:
    """The freshness of a pod read through :func:`with_freshness` (one more query while it is recomputing)."""
    computed_at = pod.freshness_computed_at
    return Freshness(
        # The database's clock may run ahead of this machine's: "computed 3 seconds from now" reads as "now".
        computed_at=min(computed_at, timezone.now()) if computed_at else None,
        pending_changes=pod.freshness_pending_changes,
        has_data=pod.freshness_has_data,
        figures_version=pod.freshness_figures_version,
        running_recompute=running_recompute(pod) if pod.freshness_recomputing else None,
        propensity_fit_version=str(pod.freshness_propensity_fit_version),
    )


def dashboard_freshness(pod: Pod, grain: str) -> Freshness:
    """The pod's freshness and the version of its figures at ``grain``: one query (two while recomputing)."""
    return freshness_of(with_freshness(Pod.objects.filter(pk=pod.pk), grain).get())


def figures_cache_key(pod: Pod, state: DashboardState, freshness: Freshness) -> str:
    """What the rendered figures depend on: the pod as shown, the page's state, and the data's version.

    Nothing in the figures depends on who looks at them (access is checked before), so people who
    may see the pod share the entry.  An entry never goes stale: any change gives a new key.
    """
    return "|".join(
        (
            str(pod.pk),
            pod.slug,
            pod.name,
            pod.timezone,
            state.query(),
            str(pod.local_today()),
            freshness.figures_version,
        )
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
