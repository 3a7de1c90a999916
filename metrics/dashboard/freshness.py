"""How fresh the dashboard's figures are, and the key their rendering is cached under.

:func:`dashboard_freshness` reads, in one statement (:data:`FRESHNESS_SQL`) on every request, when the
pod was last computed, whether changes are waiting, and a version of everything the figures of a grain
are made of; :func:`figures_cache_key` turns that version and the page's state into the cache key of
the rendered figures, so an entry never goes stale: any change gives a new key.
"""

import datetime as dt
from dataclasses import dataclass

from django.db import connection
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
