"""The metric definitions of METRICS.md, as SQL: one grouped statement per fact family.

Every statement works on the temporary tables the refresh fills first (``metrics.refresh``):

* ``uce_keys``   — the (pod, grain, period) snapshots being computed, with the period's start and
  end instants ``s``/``e`` (local midnight in the pod's zone), ``last_day`` and ``prev_start`` (the
  period a year earlier; 52 weeks for weeks).  A key with ``days`` is a period to date: its first
  ``days`` local days only, ``e`` and ``last_day`` cut accordingly, and ``prev_s``/``prev_e`` the
  same days a year earlier;
* ``uce_bounds`` — per pod, the instants that cover all its keys (``lo``/``hi``, and ``lo_prev``
  reaching back a year for year-over-year bookings), so each family reads only the facts it needs
  through the (pod, time) indexes;
* ``uce_day_keys`` — for each pod, every local day of its keys' periods and the key of each grain
  containing it.

A fact is put in its periods by its local date in the pod's zone (``(t AT TIME ZONE tz)::date``):
an equi-join on (pod, day) to ``uce_day_keys`` — the half-open interval ``[s, e)`` of the spec,
since periods start at local midnight — that the planner answers with a hash join whatever the
volume.  Each statement inserts its figures per key into ``uce_parts``; the refresh merges them
over the defaults (0 for counts and sums, null for ratios and medians) for keys with nothing to count.
"""

from jobs.choices import Channel
from pods.choices import BUYING_JOB_ORDER, Persona


def _sql_array(values) -> str:
    """A text-array literal of choice values (identifiers of this codebase, never user input)."""
    return "ARRAY[" + ", ".join(f"'{value}'" for value in values) + "]"


JOBS_SQL = _sql_array(BUYING_JOB_ORDER)
CHANNELS_SQL = _sql_array(Channel.values)
PERSONAS_SQL = _sql_array(Persona.values)
# A rejected lead whose reason is empty (or only spaces) is counted under this key.
UNSPECIFIED_REASON = "unspecified"

# Put each selected fact row in the key of every grain containing its local day. `{t}` is the
# timestamp column; the row source `f` must be joined to `uce_bounds b` already.
BUCKET_JOIN = """
    JOIN uce_day_keys dk ON dk.pod_id = f.pod_id AND dk.day = (f.{t} AT TIME ZONE b.tz)::date
    JOIN uce_keys k ON k.id = dk.key_id
"""


def _in_bounds(table: str, column: str, lo: str = "lo") -> str:
    return f"uce_bounds b JOIN {table} f ON f.pod_id = b.pod_id AND f.{column} >= b.{lo} AND f.{column} < b.hi"


def _merge(select: str) -> str:
    """Record ``(key_id, m jsonb)`` rows: the figures this family computed for each key it touched."""
    return f"INSERT INTO uce_parts (key_id, m) {select}"


def _day_bucket(day: str) -> str:
    """Join rows ``d`` carrying a pod and a local date ``day`` to the keys of every grain containing it."""
    return f"""
    JOIN uce_day_keys dk ON dk.pod_id = d.pod_id AND dk.day = {day}
    JOIN uce_keys k ON k.id = dk.key_id
    """


# Activities are the largest table, so each row is read and sorted once: the journey order
# (previous activity of the same account) comes from one window over the pod's activities, and
# counts are pre-aggregated per local day before they are rolled up into the four grains. A
# transition belongs to a period when both of its activities do.
ACTIVITIES = _merge(
    f"""
    WITH rows AS MATERIALIZED (
        SELECT f.pod_id, f.account_id, f.job, f.channel, f.contact_id, (f.occurred_at AT TIME ZONE b.tz)::date AS day,
               lag(f.job) OVER journey AS from_job,
               (lag(f.occurred_at) OVER journey AT TIME ZONE b.tz)::date AS from_day
        FROM {_in_bounds("jobs_activity", "occurred_at")}
        WINDOW journey AS (PARTITION BY f.pod_id, f.account_id ORDER BY f.occurred_at, f.id)
    ),
    day_cells AS (
        SELECT pod_id, day, job, channel, count(*) AS n FROM rows GROUP BY pod_id, day, job, channel
    ),
    cells AS (
        SELECT k.id AS key_id, d.job, d.channel, sum(d.n) AS n
        FROM day_cells d {_day_bucket("d.day")}
        GROUP BY k.id, d.job, d.channel
    ),
    learn_days AS (
        SELECT DISTINCT pod_id, account_id, day FROM rows WHERE job = 'learn'
    ),
    engaged AS (
        SELECT k.id AS key_id, count(DISTINCT d.account_id) AS engaged
        FROM learn_days d {_day_bucket("d.day")}
        GROUP BY k.id
    ),
    matrix AS (
        SELECT key_id, jsonb_object_agg(job, channels) AS activities
        FROM (
            SELECT ks.key_id, j.job, jsonb_object_agg(c.channel, coalesce(cells.n, 0)) AS channels
            FROM (SELECT DISTINCT key_id FROM cells) ks
            CROSS JOIN unnest({JOBS_SQL}) j(job)
            CROSS JOIN unnest({CHANNELS_SQL}) c(channel)
            LEFT JOIN cells ON cells.key_id = ks.key_id AND cells.job = j.job AND cells.channel = c.channel
            GROUP BY ks.key_id, j.job
        ) per_job
        GROUP BY key_id
    ),
    totals AS (
        SELECT key_id, sum(n) AS total, coalesce(sum(n) FILTER (WHERE channel = 'digital'), 0) AS digital
        FROM cells GROUP BY key_id
    ),
    transitions AS (
        SELECT k.id AS key_id, d.account_id, d.from_job, d.job AS to_job,
               array_position({JOBS_SQL}, d.job) < array_position({JOBS_SQL}, d.from_job) AS is_loopback
        FROM (SELECT * FROM rows WHERE from_job IS NOT NULL AND from_job <> job) d
        {_day_bucket("d.day")}
        WHERE d.from_day >= k.period_start
    ),
    transition_cells AS (
        SELECT key_id, from_job, to_job, count(*) AS n FROM transitions GROUP BY key_id, from_job, to_job
    ),
    journey AS (
        SELECT key_id, jsonb_object_agg(from_job, tos) AS journey_transitions
        FROM (
            SELECT ks.key_id, fj.job AS from_job, jsonb_object_agg(tj.job, coalesce(tc.n, 0)) AS tos
            FROM (SELECT DISTINCT key_id FROM cells) ks
            CROSS JOIN unnest({JOBS_SQL}) fj(job)
            CROSS JOIN unnest({JOBS_SQL}) tj(job)
            LEFT JOIN transition_cells tc ON tc.key_id = ks.key_id AND tc.from_job = fj.job AND tc.to_job = tj.job
            GROUP BY ks.key_id, fj.job
        ) per_from
        GROUP BY key_id
    ),
    -- Persona coverage: per job, the accounts active in it (an activity of the job in the period), and
    -- among them those whose activities of the job in the period named a contact of each persona.
    job_accounts AS (
        SELECT k.id AS key_id, d.job, count(DISTINCT d.account_id) AS accounts
        FROM (SELECT DISTINCT pod_id, account_id, day, job FROM rows) d {_day_bucket("d.day")}
        GROUP BY k.id, d.job
    ),
    persona_accounts AS (
        SELECT k.id AS key_id, d.job, d.persona, count(DISTINCT d.account_id) AS accounts
        FROM (
            SELECT DISTINCT r.pod_id, r.account_id, r.day, r.job, c.persona
            FROM rows r JOIN pods_contact c ON c.id = r.contact_id
        ) d {_day_bucket("d.day")}
        GROUP BY k.id, d.job, d.persona
    ),
    personas AS (
        SELECT key_id, jsonb_object_agg(job, shares) AS persona_coverage,
               sum(without_executive) FILTER (WHERE job = 'buy') AS buy_without_executive
        FROM (
            SELECT ks.key_id, j.job,
                   jsonb_object_agg(p.persona, coalesce(pa.accounts, 0)::float8 / nullif(ja.accounts, 0)) AS shares,
                   max(coalesce(ja.accounts, 0) - coalesce(pa.accounts, 0)) FILTER (WHERE p.persona = 'executive')
                       AS without_executive
            FROM (SELECT DISTINCT key_id FROM cells) ks
            CROSS JOIN unnest({JOBS_SQL}) j(job)
            CROSS JOIN unnest({PERSONAS_SQL}) p(persona)
            LEFT JOIN job_accounts ja ON ja.key_id = ks.key_id AND ja.job = j.job
            LEFT JOIN persona_accounts pa ON pa.key_id = ks.key_id AND pa.job = j.job AND pa.persona = p.persona
            GROUP BY ks.key_id, j.job
        ) per_job
        GROUP BY key_id
    ),
    loops AS (
        SELECT key_id, count(*) FILTER (WHERE is_loopback) AS loopbacks,
               count(DISTINCT account_id) AS accounts_moving,
               count(DISTINCT account_id) FILTER (WHERE is_loopback) AS accounts_looping
        FROM transitions GROUP BY key_id
    )
    SELECT t.key_id, jsonb_build_object(
        'activities', m.activities,
        'activity_total', t.total,
        'digital_share', t.digital::float8 / t.total,
        'engaged_accounts', coalesce(e.engaged, 0),
        'journey_transitions', j.journey_transitions,
        'loopbacks', coalesce(l.loopbacks, 0),
        'maze_index', l.accounts_looping::float8 / nullif(l.accounts_moving, 0),
        'persona_coverage', pc.persona_coverage,
        'buy_accounts_without_executive', pc.buy_without_executive
    ) AS m
    FROM totals t
    JOIN matrix m USING (key_id)
    JOIN journey j USING (key_id)
    JOIN personas pc USING (key_id)
    LEFT JOIN engaged e USING (key_id)
    LEFT JOIN loops l USING (key_id)
    """  # nosec B608 # SQL assembled from this module's constants, no input
)

# A lead is decided when it is accepted or rejected; its time to decision runs from created_at to decided_at.
LEADS = _merge(
    f"""
    WITH events AS (
        SELECT k.id AS key_id, 'created' AS what, NULL::text AS channel, NULL::text AS reason, NULL::float8 AS days
        FROM {_in_bounds("jobs_lead", "created_at")}
        {BUCKET_JOIN.format(t="created_at")}
        UNION ALL
        SELECT k.id, f.status, f.channel,
               coalesce(nullif(btrim(f.rejection_reason), ''), '{UNSPECIFIED_REASON}'),
               extract(epoch FROM f.decided_at - f.created_at)::float8 / 86400
        FROM {_in_bounds("jobs_lead", "decided_at")}
        {BUCKET_JOIN.format(t="decided_at")}
        WHERE f.status IN ('accepted', 'rejected')
    ),
    counts AS (
        SELECT key_id,
               count(*) FILTER (WHERE what = 'created') AS created,
               count(*) FILTER (WHERE what = 'accepted') AS accepted,
               count(*) FILTER (WHERE what = 'rejected') AS rejected,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY days) FILTER (WHERE what <> 'created') AS median_days
        FROM events GROUP BY key_id
    ),
    reasons AS (
        SELECT key_id, jsonb_object_agg(reason, n) AS by_reason
        FROM (SELECT key_id, reason, count(*) AS n FROM events WHERE what = 'rejected' GROUP BY 1, 2) per_reason
        GROUP BY key_id
    ),
    channel_cells AS (
        SELECT key_id, channel, count(*) FILTER (WHERE what = 'accepted') AS accepted,
               count(*) FILTER (WHERE what = 'rejected') AS rejected
        FROM events WHERE what <> 'created' GROUP BY 1, 2
    ),
    channels AS (
        SELECT c.key_id, jsonb_object_agg(
                   ch.channel,
                   jsonb_build_object('accepted', coalesce(cc.accepted, 0), 'rejected', coalesce(cc.rejected, 0))
               ) AS by_channel
        FROM counts c
        CROSS JOIN unnest({CHANNELS_SQL}) ch(channel)
        LEFT JOIN channel_cells cc ON cc.key_id = c.key_id AND cc.channel = ch.channel
        GROUP BY c.key_id
    )
    SELECT key_id, jsonb_build_object(
        'lead_volume', created,
        'leads_accepted', accepted,
        'leads_rejected', rejected,
        'lead_acceptance_rate', accepted::float8 / nullif(accepted + rejected, 0),
        'leads_rejected_by_reason', coalesce(r.by_reason, '{{}}'::jsonb),
        'leads_decided_by_channel', ch.by_channel,
        'median_days_to_lead_decision', median_days
    ) AS m
    FROM counts JOIN channels ch USING (key_id) LEFT JOIN reasons r USING (key_id)
    """  # nosec B608 # SQL assembled from this module's constants, no input
)

# rep-free: no in-person or partner activity of the account, under any pod, in [closed_at - 90 days, closed_at].
OPPORTUNITIES = _merge(
    f"""
    WITH won_buckets AS (
        SELECT f.pod_id, g.grain, date_trunc(g.grain, f.closed_at AT TIME ZONE b.tz)::date AS period_start,
               sum(f.amount) AS bookings
        FROM {_in_bounds("jobs_opportunity", "closed_at", lo="lo_prev")}
        CROSS JOIN (VALUES ('week'), ('month'), ('quarter'), ('year')) g(grain)
        WHERE f.status = 'won'
        GROUP BY 1, 2, 3
    ),
    closed AS MATERIALIZED (
        SELECT f.id, f.pod_id, f.closed_at, f.status, b.tz,
               extract(epoch FROM f.closed_at - f.created_at) / 86400 AS cycle_days,
               f.status = 'won' AND NOT EXISTS (
                   SELECT 1 FROM jobs_activity x
                   WHERE x.account_id = f.account_id AND x.channel IN ('in_person', 'partner')
                     AND x.occurred_at >= f.closed_at - interval '7776000 seconds' AND x.occurred_at <= f.closed_at
               ) AS rep_free
        FROM {_in_bounds("jobs_opportunity", "closed_at")}
        WHERE f.status IN ('won', 'lost')
    ),
    closed_stats AS (
        SELECT k.id AS key_id,
               count(*) FILTER (WHERE f.status = 'won') AS won,
               count(*) FILTER (WHERE f.status = 'lost') AS lost,
               count(*) FILTER (WHERE f.status = 'won' AND f.rep_free) AS won_rep_free,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY f.cycle_days) FILTER (WHERE f.status = 'won') AS median_cycle
        FROM closed f JOIN uce_bounds b ON b.pod_id = f.pod_id
        {BUCKET_JOIN.format(t="closed_at")}
        GROUP BY k.id
    ),
    created AS (
        SELECT k.id AS key_id, sum(f.amount) AS pipeline
        FROM {_in_bounds("jobs_opportunity", "created_at")}
        {BUCKET_JOIN.format(t="created_at")}
        GROUP BY k.id
    )
    SELECT k.id AS key_id, jsonb_build_object(
        'pipeline_created', coalesce(c.pipeline, 0),
        'bookings', coalesce(cur.bookings, 0),
        'win_rate', cs.won::float8 / nullif(cs.won + cs.lost, 0),
        'median_sales_cycle_days', cs.median_cycle,
        'rep_free_win_share', cs.won_rep_free::float8 / nullif(cs.won, 0),
        'bookings_yoy_growth',
            ((coalesce(cur.bookings, 0) - prev.bookings) / nullif(prev.bookings, 0))::float8
    ) AS m
    FROM uce_keys k
    LEFT JOIN created c ON c.key_id = k.id
    LEFT JOIN closed_stats cs ON cs.key_id = k.id
    LEFT JOIN won_buckets cur_period
        ON k.days IS NULL AND cur_period.pod_id = k.pod_id AND cur_period.grain = k.grain
       AND cur_period.period_start = k.period_start
    LEFT JOIN won_buckets prev_period
        ON k.days IS NULL AND prev_period.pod_id = k.pod_id AND prev_period.grain = k.grain
       AND prev_period.period_start = k.prev_start
    -- A period to date (a few keys): its days, and the same days a year earlier, read by range.
    LEFT JOIN LATERAL (
        SELECT sum(w.amount) FILTER (WHERE w.closed_at >= k.s) AS cur_bookings,
               sum(w.amount) FILTER (WHERE w.closed_at < k.prev_e) AS prev_bookings
        FROM jobs_opportunity w
        WHERE k.days IS NOT NULL AND w.pod_id = k.pod_id AND w.status = 'won'
          AND ((w.closed_at >= k.s AND w.closed_at < k.e) OR (w.closed_at >= k.prev_s AND w.closed_at < k.prev_e))
    ) to_date ON true
    CROSS JOIN LATERAL (
        SELECT coalesce(cur_period.bookings, to_date.cur_bookings) AS bookings
    ) cur
    CROSS JOIN LATERAL (
        SELECT coalesce(prev_period.bookings, to_date.prev_bookings) AS bookings
    ) prev
    WHERE c.key_id IS NOT NULL OR cs.key_id IS NOT NULL OR cur.bookings IS NOT NULL OR prev.bookings IS NOT NULL
    """  # nosec B608 # SQL assembled from this module's constants, no input
)

ORDERS = _merge(
    f"""
    WITH events AS (
        SELECT k.id AS key_id, 'ordered' AS what, NULL::float8 AS install_days
        FROM {_in_bounds("jobs_order", "ordered_at")}
        {BUCKET_JOIN.format(t="ordered_at")}
        UNION ALL
        SELECT k.id, 'installed', extract(epoch FROM f.installed_at - f.ordered_at) / 86400
        FROM {_in_bounds("jobs_order", "installed_at")}
        {BUCKET_JOIN.format(t="installed_at")}
    )
    SELECT key_id, jsonb_build_object(
        'orders', count(*) FILTER (WHERE what = 'ordered'),
        'installs', count(*) FILTER (WHERE what = 'installed'),
        'median_days_to_install',
            percentile_cont(0.5) WITHIN GROUP (ORDER BY install_days) FILTER (WHERE what = 'installed')
    ) AS m
    FROM events GROUP BY key_id
    """  # nosec B608 # SQL assembled from this module's constants, no input
)

# For each account, its latest reading in the period; a date belongs to the period containing it.
ADOPTION = _merge(
    """
    WITH latest AS (
        SELECT DISTINCT ON (k.id, f.account_id) k.id AS key_id, f.licensed_seats, f.active_seats
        FROM uce_bounds b
        JOIN jobs_adoptionreading f ON f.pod_id = b.pod_id AND f.measured_on >= b.lo_day AND f.measured_on < b.hi_day
        JOIN uce_day_keys dk ON dk.pod_id = f.pod_id AND dk.day = f.measured_on
        JOIN uce_keys k ON k.id = dk.key_id
        ORDER BY k.id, f.account_id, f.measured_on DESC
    )
    SELECT key_id, jsonb_build_object(
        'adoption_rate', sum(active_seats)::float8 / nullif(sum(licensed_seats), 0)
    ) AS m
    FROM latest GROUP BY key_id
    """
)

TICKETS = _merge(
    f"""
    WITH events AS (
        SELECT k.id AS key_id, 'opened' AS what, NULL::float8 AS hours, NULL::int AS csat
        FROM {_in_bounds("jobs_supportticket", "opened_at")}
        {BUCKET_JOIN.format(t="opened_at")}
        UNION ALL
        SELECT k.id, 'resolved', extract(epoch FROM f.resolved_at - f.opened_at) / 3600, f.csat
        FROM {_in_bounds("jobs_supportticket", "resolved_at")}
        {BUCKET_JOIN.format(t="resolved_at")}
    )
    SELECT key_id, jsonb_build_object(
        'tickets_opened', count(*) FILTER (WHERE what = 'opened'),
        'tickets_resolved', count(*) FILTER (WHERE what = 'resolved'),
        'median_resolution_hours',
            percentile_cont(0.5) WITHIN GROUP (ORDER BY hours) FILTER (WHERE what = 'resolved'),
        'csat', avg(csat) FILTER (WHERE what = 'resolved')::float8
    ) AS m
    FROM events GROUP BY key_id
    """  # nosec B608 # SQL assembled from this module's constants, no input
)

# open_backlog at e = tickets opened before e minus tickets resolved before e (resolved_at >= opened_at).
# "before e" is "on a local day before the period's end date", so a running sum over every day of
# the pod's horizon, looked up on each key's last day, answers every key with one equi-join.
OPEN_BACKLOG = _merge(
    """
    WITH moves AS (
        SELECT f.pod_id, (f.opened_at AT TIME ZONE b.tz)::date AS day, 1 AS delta
        FROM uce_bounds b JOIN jobs_supportticket f ON f.pod_id = b.pod_id
        UNION ALL
        SELECT f.pod_id, (f.resolved_at AT TIME ZONE b.tz)::date, -1
        FROM uce_bounds b JOIN jobs_supportticket f ON f.pod_id = b.pod_id
        WHERE f.resolved_at IS NOT NULL
    ),
    daily AS (
        SELECT pod_id, day, sum(delta) AS net FROM moves GROUP BY pod_id, day
    ),
    days AS (
        SELECT h.pod_id, day::date AS day
        FROM uce_horizon h
        JOIN uce_bounds b ON b.pod_id = h.pod_id
        CROSS JOIN LATERAL generate_series(h.first_day::timestamp, b.hi_day::timestamp, interval '1 day') day
    ),
    running AS (
        SELECT days.pod_id, days.day,
               sum(coalesce(daily.net, 0)) OVER (PARTITION BY days.pod_id ORDER BY days.day) AS backlog
        FROM days LEFT JOIN daily ON daily.pod_id = days.pod_id AND daily.day = days.day
    )
    SELECT k.id AS key_id, jsonb_build_object('open_backlog', r.backlog) AS m
    FROM uce_keys k
    JOIN running r ON r.pod_id = k.pod_id AND r.day = k.last_day
    WHERE r.backlog <> 0
    """
)

STAFFING = _merge(
    f"""
    WITH counts AS (
        SELECT k.id AS key_id, a.job, count(*) AS n
        FROM uce_keys k
        JOIN pods_assignment a ON a.pod_id = k.pod_id AND a.started_on <= k.last_day
                              AND (a.ended_on IS NULL OR a.ended_on > k.last_day)
        GROUP BY k.id, a.job
    )
    SELECT ks.key_id, jsonb_build_object(
        'staff_by_job', jsonb_object_agg(j.job, coalesce(c.n, 0)),
        'staffed_job_coverage', count(c.n)::float8 / 5
    ) AS m
    FROM (SELECT DISTINCT key_id FROM counts) ks
    CROSS JOIN unnest({JOBS_SQL}) j(job)
    LEFT JOIN counts c ON c.key_id = ks.key_id AND c.job = j.job
    GROUP BY ks.key_id
    """  # nosec B608 # SQL assembled from this module's constants, no input
)

FAMILIES: tuple[tuple[str, str], ...] = (
    ("activities", ACTIVITIES),
    ("leads", LEADS),
    ("opportunities", OPPORTUNITIES),
    ("orders", ORDERS),
    ("adoption", ADOPTION),
    ("tickets", TICKETS),
    ("open backlog", OPEN_BACKLOG),
    ("staffing", STAFFING),
)
