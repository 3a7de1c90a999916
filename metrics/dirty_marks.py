"""SQL of the dirty-marking triggers: which local days of which pods a changed row affects.

A row marks every day whose periods could change with it, in every grain (the refresh expands a
day into its week, month, quarter and year).  Keys that move with a change:

* opportunities mark the day a year later and 52 weeks later (``bookings_yoy_growth`` of that period);
* an in-person or partner activity marks the closing days of the account's won opportunities in
  the 90 days after it, under whatever pod they are (``rep_free_win_share``);
* tickets mark every day from opened to resolved (``open_backlog`` at each period end in between);
* assignments mark every day from start to end (``staff_by_job`` on each period's last day);
* a pod whose time zone changes is dirty everywhere;
* a contact whose persona (or account) changes marks the days of its activities (``persona_coverage``),
  installed by migration 0005 (:data:`CONTACT_PERSONA_SQL`).

An open-ended range has a ``NULL`` bound; the refresh clips ranges to the pod's data.
"""

FACT_MARKS = {
    # table: SELECT returning (pod_id, from_day, to_day) from the transition table {rows}.
    "jobs_activity": """
        SELECT r.pod_id, (r.occurred_at AT TIME ZONE p.timezone)::date, (r.occurred_at AT TIME ZONE p.timezone)::date
        FROM {rows} r JOIN pods_pod p ON p.id = r.pod_id
        UNION
        SELECT o.pod_id, (o.closed_at AT TIME ZONE op.timezone)::date, (o.closed_at AT TIME ZONE op.timezone)::date
        FROM {rows} r
        JOIN jobs_opportunity o ON o.account_id = r.account_id AND o.status = 'won'
             AND o.closed_at >= r.occurred_at AND o.closed_at <= r.occurred_at + interval '7776000 seconds'
        JOIN pods_pod op ON op.id = o.pod_id
        WHERE r.channel IN ('in_person', 'partner')
    """,
    "jobs_lead": """
        SELECT r.pod_id, d, d FROM {rows} r JOIN pods_pod p ON p.id = r.pod_id,
        LATERAL (VALUES ((r.created_at AT TIME ZONE p.timezone)::date),
                        ((r.decided_at AT TIME ZONE p.timezone)::date)) v(d)
        WHERE d IS NOT NULL
    """,
    "jobs_opportunity": """
        SELECT r.pod_id, d, d FROM {rows} r JOIN pods_pod p ON p.id = r.pod_id,
        LATERAL (VALUES ((r.created_at AT TIME ZONE p.timezone)::date),
                        ((r.closed_at AT TIME ZONE p.timezone)::date),
                        ((r.closed_at AT TIME ZONE p.timezone)::date + 364),
                        (((r.closed_at AT TIME ZONE p.timezone)::date + interval '1 year')::date)) v(d)
        WHERE d IS NOT NULL
    """,
    "jobs_order": """
        SELECT r.pod_id, d, d FROM {rows} r JOIN pods_pod p ON p.id = r.pod_id,
        LATERAL (VALUES ((r.ordered_at AT TIME ZONE p.timezone)::date),
                        ((r.installed_at AT TIME ZONE p.timezone)::date)) v(d)
        WHERE d IS NOT NULL
    """,
    "jobs_adoptionreading": """
        SELECT r.pod_id, r.measured_on, r.measured_on FROM {rows} r
    """,
    "jobs_supportticket": """
        SELECT r.pod_id, (r.opened_at AT TIME ZONE p.timezone)::date, (r.resolved_at AT TIME ZONE p.timezone)::date
        FROM {rows} r JOIN pods_pod p ON p.id = r.pod_id
    """,
    "pods_assignment": """
        SELECT r.pod_id, r.started_on, r.ended_on FROM {rows} r
    """,
}


def _function_sql(table: str, select: str) -> str:
    insert = "INSERT INTO metrics_dirtyrange (pod_id, from_day, to_day) SELECT DISTINCT * FROM ({select}) marks;"
    return f"""
CREATE FUNCTION uce_mark_dirty_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        {insert.format(select=select.format(rows="new_rows"))}
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {insert.format(select=select.format(rows="old_rows"))}
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER {table}_dirty_insert AFTER INSERT ON {table}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION uce_mark_dirty_{table}();
CREATE TRIGGER {table}_dirty_update AFTER UPDATE ON {table}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION uce_mark_dirty_{table}();
CREATE TRIGGER {table}_dirty_delete AFTER DELETE ON {table}
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION uce_mark_dirty_{table}();
"""


POD_TIMEZONE_SQL = """
CREATE FUNCTION uce_mark_dirty_pod_timezone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.timezone IS DISTINCT FROM OLD.timezone THEN
        INSERT INTO metrics_dirtyrange (pod_id, from_day, to_day) VALUES (NEW.id, NULL, NULL);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER pods_pod_dirty_timezone AFTER UPDATE OF timezone ON pods_pod
    FOR EACH ROW EXECUTE FUNCTION uce_mark_dirty_pod_timezone();
"""


CONTACT_PERSONA_SQL = """
CREATE FUNCTION uce_mark_dirty_contact_persona() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO metrics_dirtyrange (pod_id, from_day, to_day)
    SELECT a.pod_id, min((a.occurred_at AT TIME ZONE p.timezone)::date),
           max((a.occurred_at AT TIME ZONE p.timezone)::date)
    FROM old_rows o
    JOIN new_rows n ON n.id = o.id
    JOIN jobs_activity a ON a.contact_id = n.id
    JOIN pods_pod p ON p.id = a.pod_id
    WHERE n.persona IS DISTINCT FROM o.persona OR n.account_id IS DISTINCT FROM o.account_id
    GROUP BY a.pod_id;
    RETURN NULL;
END $$;
CREATE TRIGGER pods_contact_dirty_persona AFTER UPDATE ON pods_contact
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION uce_mark_dirty_contact_persona();
"""
CONTACT_PERSONA_UNINSTALL_SQL = "DROP FUNCTION uce_mark_dirty_contact_persona() CASCADE;"


def install_sql() -> str:
    return "\n".join(_function_sql(table, select) for table, select in FACT_MARKS.items()) + POD_TIMEZONE_SQL


def uninstall_sql() -> str:
    drops = [f"DROP FUNCTION uce_mark_dirty_{table}() CASCADE;" for table in FACT_MARKS]
    return "\n".join([*drops, "DROP FUNCTION uce_mark_dirty_pod_timezone() CASCADE;"])
