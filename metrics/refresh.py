"""Recompute pod snapshots: claim dirty pods, expand their dirty days into periods, run the
families of ``metrics.aggregation`` and upsert the results.

Concurrency: a refresh owns a pod by locking its ``PodMetricState`` row with
``FOR UPDATE SKIP LOCKED`` in the transaction that computes it, so any number of workers drain
different pods at once and never compute the same pod together.  The pod's dirty rows are
deleted in that same transaction: if the worker dies, the transaction rolls back and the rows
are dirty again.  A write committed while a pod is being computed leaves a new dirty row behind,
so the next refresh picks it up; recomputation replaces snapshots, so running twice is harmless.

A full rebuild marks every pod dirty from the beginning of time and runs the same code.

Period-to-date snapshots (docs/PERIOD-TO-DATE.md) are keys like the others, cut short after
``days`` local days: the period in progress up to the pod's today, and as many days of the previous
period and of the period a year earlier.  A pod is claimed when it is dirty or when its local date
has moved on since they were computed; "today" is the application's clock, passed in (``now``).
"""

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from jobs.choices import Channel
from pods.choices import BUYING_JOB_ORDER, Persona
from pods.models import Pod

from .aggregation import FAMILIES
from .catalogue import METRICS

logger = logging.getLogger(__name__)

CHANNELS = tuple(Channel.values)

# Periods after a pod's last fact stay materialised for a year so that year-over-year bookings
# (which look a year back) are stored; a week more covers "52 weeks earlier".
HORIZON_AFTER_LAST_FACT = "interval '1 year 7 days'"

Progress = Callable[[int, int], None]


def empty_metrics() -> dict:
    """Every key with the value of a period with nothing in it: 0 for counts and sums, null for ratios."""
    values = {}
    for metric in METRICS:
        if metric.key == "activities":
            values[metric.key] = {job: dict.fromkeys(CHANNELS, 0) for job in BUYING_JOB_ORDER}
        elif metric.key == "journey_transitions":
            values[metric.key] = {job: dict.fromkeys(BUYING_JOB_ORDER, 0) for job in BUYING_JOB_ORDER}
        elif metric.key == "staff_by_job":
            values[metric.key] = dict.fromkeys(BUYING_JOB_ORDER, 0)
        elif metric.key == "persona_coverage":
            values[metric.key] = {job: dict.fromkeys(Persona.values) for job in BUYING_JOB_ORDER}
        elif metric.key == "leads_rejected_by_reason":
            values[metric.key] = {}
        elif metric.key == "leads_decided_by_channel":
            values[metric.key] = {channel: {"accepted": 0, "rejected": 0} for channel in CHANNELS}
        elif metric.key == "staffed_job_coverage":
            values[metric.key] = 0.0
        elif metric.unit in ("count", "money"):
            values[metric.key] = 0
        else:
            values[metric.key] = None
    return values


# Metrics that carry over from one period to the next when nothing happens: a point-in-time
# figure at the period's end, not a count of what happened inside it.
CARRIED_FORWARD = ("open_backlog", "staff_by_job", "staffed_job_coverage")

TEMP_TABLES = (
    "uce_all_grains", "uce_claimed", "uce_ranges", "uce_horizon", "uce_keys", "uce_bounds", "uce_day_keys", "uce_parts",
)  # fmt: skip

GRAINS_SQL = """
    CREATE TEMP TABLE uce_all_grains ON COMMIT DROP AS
    SELECT * FROM (VALUES
        ('week', interval '1 week', interval '52 weeks'),
        ('month', interval '1 month', interval '1 year'),
        ('quarter', interval '3 months', interval '1 year'),
        ('year', interval '1 year', interval '1 year')
    ) v(grain, step, yoy_shift)
"""

# The span of local days over which a pod has data: every date column of every fact family.
# Each branch is a min/max the planner answers from the (pod, time) indexes.
HORIZON_SQL = f"""
    INSERT INTO uce_horizon (pod_id, tz, first_day, last_day)
    SELECT c.pod_id, c.tz, min(span.lo), (max(span.hi) + {HORIZON_AFTER_LAST_FACT})::date
    FROM uce_claimed c
    CROSS JOIN LATERAL (
        SELECT (min(occurred_at) AT TIME ZONE c.tz)::date, (max(occurred_at) AT TIME ZONE c.tz)::date
            FROM jobs_activity WHERE pod_id = c.pod_id
        UNION ALL
        SELECT (min(created_at) AT TIME ZONE c.tz)::date,
               (greatest(max(created_at), max(decided_at)) AT TIME ZONE c.tz)::date
            FROM jobs_lead WHERE pod_id = c.pod_id
        UNION ALL
        SELECT (min(created_at) AT TIME ZONE c.tz)::date,
               (greatest(max(created_at), max(closed_at)) AT TIME ZONE c.tz)::date
            FROM jobs_opportunity WHERE pod_id = c.pod_id
        UNION ALL
        SELECT (min(ordered_at) AT TIME ZONE c.tz)::date,
               (greatest(max(ordered_at), max(installed_at)) AT TIME ZONE c.tz)::date
            FROM jobs_order WHERE pod_id = c.pod_id
        UNION ALL
        SELECT min(measured_on), max(measured_on) FROM jobs_adoptionreading WHERE pod_id = c.pod_id
        UNION ALL
        SELECT (min(opened_at) AT TIME ZONE c.tz)::date,
               (greatest(max(opened_at), max(resolved_at)) AT TIME ZONE c.tz)::date
            FROM jobs_supportticket WHERE pod_id = c.pod_id
        UNION ALL
        SELECT min(started_on), greatest(max(started_on), max(ended_on)) FROM pods_assignment WHERE pod_id = c.pod_id
    ) span(lo, hi)
    GROUP BY c.pod_id, c.tz
    HAVING min(span.lo) IS NOT NULL
"""  # nosec B608 # SQL assembled from constants, values are bound

# Every period of every grain overlapping [from, to] (clipped to the pod's horizon), plus every
# period of the horizon that the previous horizon did not reach (the pod's data grew in time).
# After each refresh a pod's snapshots are exactly the periods overlapping its horizon, so the
# periods overlapping the previous horizon exist already; the dirty ranges say which changed.
KEYS_SQL = """
    INSERT INTO uce_keys (pod_id, grain, period_start)
    SELECT r.pod_id, g.grain, gs::date
    FROM uce_ranges r
    JOIN uce_horizon h ON h.pod_id = r.pod_id
    CROSS JOIN uce_all_grains g
    CROSS JOIN LATERAL generate_series(
        date_trunc(g.grain, greatest(coalesce(r.from_day, h.first_day), h.first_day)::timestamp),
        least(coalesce(r.to_day, h.last_day), h.last_day)::timestamp,
        g.step) gs
    UNION
    SELECT h.pod_id, g.grain, gs::date
    FROM uce_horizon h
    JOIN metrics_podmetricstate st ON st.pod_id = h.pod_id
    CROSS JOIN uce_all_grains g
    CROSS JOIN LATERAL generate_series(date_trunc(g.grain, h.first_day::timestamp), h.last_day::timestamp, g.step) gs
    WHERE st.first_day IS NULL
       OR (gs + g.step)::date <= st.first_day
       OR gs::date > st.last_day
"""

# The periods to date of each claimed pod: for every grain, the period containing the pod's today
# up to and including today (``days`` local days), and the same number of days (at most the whole
# period) of the previous period and of the period a year earlier.  All of them on the first refresh
# of a local day; otherwise those whose days overlap a dirty range, as for whole periods.
TO_DATE_KEYS_SQL = """
    INSERT INTO uce_keys (pod_id, grain, period_start, days)
    WITH current AS (
        SELECT c.pod_id, c.to_date_stale, g.grain, g.step, g.yoy_shift,
               date_trunc(g.grain, c.today::timestamp)::date AS start,
               c.today - date_trunc(g.grain, c.today::timestamp)::date + 1 AS days
        FROM uce_claimed c CROSS JOIN uce_all_grains g
    ),
    windows AS (
        SELECT pod_id, to_date_stale, grain, start, days FROM current
        UNION
        SELECT pod_id, to_date_stale, grain, (start - step)::date, least(days, start - (start - step)::date)
        FROM current
        UNION
        SELECT pod_id, to_date_stale, grain, (start - yoy_shift)::date,
               least(days, (start - yoy_shift + step)::date - (start - yoy_shift)::date)
        FROM current
    )
    SELECT w.pod_id, w.grain, w.start, w.days FROM windows w
    WHERE w.to_date_stale OR EXISTS (
        SELECT 1 FROM uce_ranges r
        WHERE r.pod_id = w.pod_id
          AND (r.from_day IS NULL OR r.from_day < w.start + w.days)
          AND (r.to_day IS NULL OR r.to_day >= w.start)
    )
"""

# A key covers [period_start, period_end) of local days: the whole period, or its first ``days``.
# prev_start/prev_end: the same stretch a year earlier (52 weeks for weeks), for bookings growth.
KEY_DETAILS_SQL = """
    UPDATE uce_keys k SET
        period_end = coalesce(k.period_start + k.days, (k.period_start + g.step)::date),
        s = k.period_start::timestamp AT TIME ZONE c.tz,
        e = coalesce(k.period_start + k.days, (k.period_start + g.step)::date)::timestamp AT TIME ZONE c.tz,
        last_day = coalesce(k.period_start + k.days, (k.period_start + g.step)::date) - 1,
        prev_start = (k.period_start - g.yoy_shift)::date,
        prev_s = (k.period_start - g.yoy_shift)::timestamp AT TIME ZONE c.tz,
        prev_e = least((k.period_start - g.yoy_shift)::date + k.days,
                       (k.period_start - g.yoy_shift + g.step)::date)::timestamp AT TIME ZONE c.tz
    FROM uce_claimed c, uce_all_grains g
    WHERE c.pod_id = k.pod_id AND g.grain = k.grain
"""

BOUNDS_SQL = """
    INSERT INTO uce_bounds (pod_id, tz, lo, hi, lo_prev, lo_day, hi_day)
    SELECT k.pod_id, h.tz, min(k.s), max(k.e), min(k.prev_start::timestamp AT TIME ZONE h.tz),
           min(k.period_start), max(k.period_end)
    FROM uce_keys k JOIN uce_claimed h ON h.pod_id = k.pod_id
    GROUP BY k.pod_id, h.tz
"""

# Every local day of every key's period, with that key: facts find their periods by (pod, day).
DAY_KEYS_SQL = """
    CREATE TEMP TABLE uce_day_keys ON COMMIT DROP AS
    SELECT k.pod_id, day::date AS day, k.id AS key_id
    FROM uce_keys k
    CROSS JOIN LATERAL generate_series(k.period_start::timestamp, k.last_day::timestamp, interval '1 day') day
"""

# Each key's figures, as every family computed them (overlaid on the empty-period defaults below).
MERGED_PARTS_SQL = """
    LEFT JOIN (
        SELECT p.key_id, jsonb_object_agg(figure.key, figure.value) AS m
        FROM uce_parts p CROSS JOIN LATERAL jsonb_each(p.m) figure
        GROUP BY p.key_id
    ) parts ON parts.key_id = k.id
"""

# Each key's snapshot: the empty-period defaults overlaid with what every family computed for it.
UPSERT_SQL = f"""
    INSERT INTO metrics_podmetricsnapshot (pod_id, grain, period_start, period_end, metrics, computed_at)
    SELECT k.pod_id, k.grain, k.period_start, k.period_end, %s::jsonb || coalesce(parts.m, '{{}}'), now()
    FROM uce_keys k
    {MERGED_PARTS_SQL}
    WHERE k.days IS NULL
    ON CONFLICT (pod_id, grain, period_start) DO UPDATE
    SET period_end = EXCLUDED.period_end, metrics = EXCLUDED.metrics, computed_at = EXCLUDED.computed_at
"""  # nosec B608 # SQL assembled from this module's constants, no input

# A pod's periods to date of an earlier local day are no longer read: drop them when its date moved on.
TO_DATE_PRUNE_SQL = """
    DELETE FROM metrics_periodtodatesnapshot s
    USING uce_claimed c
    WHERE s.pod_id = c.pod_id AND c.to_date_stale
"""

TO_DATE_UPSERT_SQL = f"""
    INSERT INTO metrics_periodtodatesnapshot (pod_id, grain, period_start, days, metrics, computed_at)
    SELECT k.pod_id, k.grain, k.period_start, k.days, %s::jsonb || coalesce(parts.m, '{{}}'), now()
    FROM uce_keys k
    {MERGED_PARTS_SQL}
    WHERE k.days IS NOT NULL
    ON CONFLICT (pod_id, grain, period_start, days) DO UPDATE
    SET metrics = EXCLUDED.metrics, computed_at = EXCLUDED.computed_at
"""  # nosec B608 # SQL assembled from this module's constants, no input

# Snapshots outside the horizon (facts were deleted or moved in time) would be stale: drop them.
PRUNE_SQL = """
    DELETE FROM metrics_podmetricsnapshot s
    USING uce_claimed c
    LEFT JOIN uce_horizon h ON h.pod_id = c.pod_id
    WHERE s.pod_id = c.pod_id
      AND (h.pod_id IS NULL
           OR s.period_end <= h.first_day
           OR s.period_start > h.last_day)
"""

# clock_timestamp(), not now(): two refreshes in one transaction (a test, a savepoint) still differ, and
# the dashboard's cached figures are keyed by this time (metrics.dashboard.freshness.FRESHNESS_SQL).
STATE_SQL = """
    UPDATE metrics_podmetricstate st
    SET computed_at = clock_timestamp(), first_day = h.first_day, last_day = h.last_day, to_date_as_of = c.today
    FROM uce_claimed c LEFT JOIN uce_horizon h ON h.pod_id = c.pod_id
    WHERE st.pod_id = c.pod_id
"""


@dataclass
class RefreshResult:
    pods: int = 0
    snapshots: int = 0
    pod_ids: list[int] = field(default_factory=list)


def mark_pods_dirty(pod_ids: Iterable[int] | None = None) -> int:
    """Mark every period of the given pods (all pods when ``None``) dirty; return how many pods."""
    with connection.cursor() as cursor:
        if pod_ids is None:
            cursor.execute(
                "INSERT INTO metrics_dirtyrange (pod_id, from_day, to_day) SELECT id, NULL, NULL FROM pods_pod"
            )
        else:
            cursor.execute(
                "INSERT INTO metrics_dirtyrange (pod_id, from_day, to_day) SELECT unnest(%s::bigint[]), NULL, NULL",
                [list(pod_ids)],
            )
        return cursor.rowcount


def _ensure_state_rows(cursor) -> None:
    cursor.execute(
        "INSERT INTO metrics_podmetricstate (pod_id) SELECT id FROM pods_pod ON CONFLICT (pod_id) DO NOTHING"
    )


def _claim(cursor, pod_ids: list[int] | None, limit: int, now: dt.datetime) -> list[int]:
    """Lock up to ``limit`` pods with work: dirty ones, and those whose local date moved on since
    their periods to date were computed."""
    only = "AND st.pod_id = ANY(%(only)s)" if pod_ids is not None else ""
    cursor.execute(
        f"""
        SELECT st.pod_id FROM metrics_podmetricstate st JOIN pods_pod p ON p.id = st.pod_id
        WHERE (EXISTS (SELECT 1 FROM metrics_dirtyrange d WHERE d.pod_id = st.pod_id)
               OR st.to_date_as_of IS DISTINCT FROM (%(now)s::timestamptz AT TIME ZONE p.timezone)::date) {only}
        ORDER BY st.pod_id
        LIMIT %(limit)s
        FOR UPDATE OF st SKIP LOCKED
        """,  # nosec B608 # SQL assembled from constants, values are bound
        {"only": pod_ids, "now": now, "limit": limit},
    )
    return [row[0] for row in cursor.fetchall()]


def _compute_claimed(cursor, claimed: list[int], progress: Progress | None, now: dt.datetime) -> tuple[int, list[int]]:
    """Recompute the dirty periods of the claimed pods. Runs inside the claiming transaction.

    Returns the number of snapshots written and the pods actually computed.
    """
    steps = 2 + len(FAMILIES)
    # Sorts for medians, windows and distinct counts stay in memory instead of spilling to disk.
    cursor.execute("SET LOCAL work_mem = '64MB'")
    # Unanalysed temp tables and generate_series give huge cost estimates, which would make
    # PostgreSQL JIT-compile every statement: ~0.4 s each, more than the work of an incremental run.
    cursor.execute("SET LOCAL jit = off")
    # ON COMMIT DROP does not fire when the caller's transaction goes on (a savepoint): drop explicitly.
    cursor.execute(f"DROP TABLE IF EXISTS {', '.join(TEMP_TABLES)}")
    cursor.execute(GRAINS_SQL)
    cursor.execute(
        """
        CREATE TEMP TABLE uce_ranges ON COMMIT DROP AS
        WITH taken AS (DELETE FROM metrics_dirtyrange WHERE pod_id = ANY(%s) RETURNING pod_id, from_day, to_day)
        SELECT DISTINCT pod_id, from_day, to_day FROM taken
        """,
        [claimed],
    )
    # A pod whose work was done by a refresh that committed just before this claim locked its row
    # has nothing left to do: only pods with marks taken here, or periods to date of an earlier
    # date, are computed.
    cursor.execute(
        """
        CREATE TEMP TABLE uce_claimed ON COMMIT DROP AS
        SELECT pod_id, tz, today, to_date_stale FROM (
            SELECT p.id AS pod_id, p.timezone AS tz, (%(now)s::timestamptz AT TIME ZONE p.timezone)::date AS today,
                   st.to_date_as_of, p.id IN (SELECT pod_id FROM uce_ranges) AS dirty
            FROM pods_pod p JOIN metrics_podmetricstate st ON st.pod_id = p.id
            WHERE p.id = ANY(%(claimed)s)
        ) c, LATERAL (SELECT c.to_date_as_of IS DISTINCT FROM c.today AS to_date_stale) stale
        WHERE dirty OR to_date_stale
        """,
        {"now": now, "claimed": claimed},
    )
    cursor.execute("SELECT pod_id FROM uce_claimed ORDER BY pod_id")
    computed = [row[0] for row in cursor.fetchall()]
    cursor.execute(
        "CREATE TEMP TABLE uce_horizon (pod_id bigint PRIMARY KEY, tz text, first_day date, last_day date) "
        "ON COMMIT DROP"
    )
    cursor.execute(
        """
        CREATE TEMP TABLE uce_keys (
            id serial PRIMARY KEY, pod_id bigint, grain text, period_start date, days int, period_end date,
            s timestamptz, e timestamptz, last_day date, prev_start date, prev_s timestamptz, prev_e timestamptz
        ) ON COMMIT DROP
        """
    )
    cursor.execute(
        """
        CREATE TEMP TABLE uce_bounds (
            pod_id bigint PRIMARY KEY, tz text, lo timestamptz, hi timestamptz, lo_prev timestamptz,
            lo_day date, hi_day date
        ) ON COMMIT DROP
        """
    )
    cursor.execute(HORIZON_SQL)
    cursor.execute(PRUNE_SQL)
    cursor.execute(KEYS_SQL)
    cursor.execute(TO_DATE_KEYS_SQL)
    cursor.execute(KEY_DETAILS_SQL)
    cursor.execute("CREATE UNIQUE INDEX ON uce_keys (pod_id, grain, period_start, days)")
    cursor.execute("ANALYZE uce_keys")
    cursor.execute(BOUNDS_SQL)
    cursor.execute("ANALYZE uce_bounds")
    cursor.execute(DAY_KEYS_SQL)
    cursor.execute("CREATE INDEX ON uce_day_keys (pod_id, day)")
    cursor.execute("ANALYZE uce_day_keys")
    cursor.execute("CREATE TEMP TABLE uce_parts (key_id int, m jsonb) ON COMMIT DROP")
    cursor.execute("SELECT count(*) FROM uce_keys")
    (keys,) = cursor.fetchone()
    if progress:
        progress(1, steps)
    for done, (name, sql) in enumerate(FAMILIES, start=2):
        started = time.monotonic()
        if keys:
            cursor.execute(sql)
        if progress:
            progress(done, steps)
        logger.debug("family %s: %.3f s for %s keys of pods %s", name, time.monotonic() - started, keys, claimed)
    cursor.execute(UPSERT_SQL, [json.dumps(empty_metrics())])
    cursor.execute(TO_DATE_PRUNE_SQL)
    cursor.execute(TO_DATE_UPSERT_SQL, [json.dumps(empty_metrics())])
    cursor.execute(STATE_SQL)
    if progress:
        progress(steps, steps)
    return keys, computed


def refresh(
    *,
    pod_ids: Iterable[int] | None = None,
    pods_per_batch: int | None = None,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
) -> RefreshResult:
    """Recompute what is dirty, pod batch by pod batch, until nothing claimable is left.

    Each batch is one transaction holding its pods; smaller batches spread the work of one
    refresh over more workers (``UCE_REFRESH_PODS_PER_BATCH``), larger ones cost fewer statements.
    ``now`` (default: the application's clock) decides each pod's today for its periods to date.
    """
    pods_per_batch = pods_per_batch or settings.UCE_REFRESH_PODS_PER_BATCH
    now = now or timezone.now()
    only = sorted(set(pod_ids)) if pod_ids is not None else None
    result = RefreshResult()
    with connection.cursor() as cursor:
        _ensure_state_rows(cursor)
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            claimed = _claim(cursor, only, pods_per_batch, now)
            if not claimed:
                break
            snapshots, computed = _compute_claimed(cursor, claimed, progress, now)
        result.snapshots += snapshots
        result.pods += len(computed)
        result.pod_ids.extend(computed)
    return result


def rebuild(*, pod_ids: Iterable[int] | None = None, progress: Progress | None = None) -> RefreshResult:
    """Full rebuild: the same code as :func:`refresh`, with every period of the pods dirty."""
    ids = list(pod_ids) if pod_ids is not None else list(Pod.objects.values_list("pk", flat=True))
    with transaction.atomic():
        mark_pods_dirty(ids)
    return refresh(pod_ids=ids, progress=progress)
