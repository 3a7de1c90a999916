"""The references of an activity (pod, account, staff, contact) checked once per statement, not once per row.

PostgreSQL checks a foreign key with one trigger and one index probe per inserted row: 41% of a
large import.  These statement-level triggers enforce the same four references set-based, over
the statement's transition table, and the foreign keys go (``db_constraint=False``):

* on ``jobs_activity``, after every INSERT, UPDATE and COPY: the referenced rows are locked
  ``FOR KEY SHARE``, as PostgreSQL's own check does, so that a concurrent delete of one of them
  waits for this transaction; fewer rows locked than distinct values referenced raises
  ``foreign_key_violation`` (23503, Django's ``IntegrityError``) naming the constraint;
* on the referenced tables, after a DELETE, a change of ``id``, or a TRUNCATE: an activity still
  referencing a removed row raises the same.  Django's deletion collector protects or nulls the
  activities first (``on_delete``), so deletes through the ORM behave as before.

Unlike the foreign keys, which Django makes ``DEFERRABLE INITIALLY DEFERRED``, the check runs at
the end of each statement: the referenced row must exist before the activity is written.  Every
writer of activities does so (the ORM, the imports, the demo and benchmark generators, a
``loaddata`` of ``pods`` before ``jobs``).  ``FOR KEY SHARE`` does not conflict with the updates of
non-key columns: sign-ins (``pods_user.last_login``) never wait for an import.

Concurrent writers are covered at READ COMMITTED, Django's and PostgreSQL's default and the level
every writer here uses.  A transaction at REPEATABLE READ or SERIALIZABLE that deletes (or renumbers)
a referenced row checks with its own snapshot, so it does not see an activity committed after that
snapshot was taken and can leave it orphaned; PostgreSQL's foreign keys check with a fresh snapshot
there, which a trigger cannot take.  Delete pods, accounts, people and contacts at READ COMMITTED.
"""

from django.conf import settings
from django.db import migrations, models

# (column of jobs_activity, referenced table, the constraint's name in errors)
REFERENCES = [
    ("pod_id", "pods_pod", "activity_pod_fk"),
    ("account_id", "pods_account", "activity_account_fk"),
    ("staff_id", "pods_user", "activity_staff_fk"),
    ("contact_id", "pods_contact", "activity_contact_fk"),
]

FUNCTIONS = """
CREATE FUNCTION uce_references_present() RETURNS trigger LANGUAGE plpgsql AS $$
-- Statement trigger on the referencing table: TG_ARGV = (column, referenced table, constraint).
DECLARE
    col text := TG_ARGV[0];
    target text := TG_ARGV[1];
    wanted bigint;
    locked bigint;
    missing text;
BEGIN
    -- Counting what was locked, not what was seen: a row a concurrent transaction deletes is not
    -- locked, and one it adds meanwhile is not counted unless locked, so a delete cannot slip in.
    EXECUTE format(
        'WITH wanted AS (SELECT DISTINCT %1$I AS id FROM new_rows WHERE %1$I IS NOT NULL), '
        'locked AS (SELECT FROM %2$I t WHERE t.id IN (SELECT id FROM wanted) FOR KEY SHARE OF t) '
        'SELECT (SELECT count(*) FROM wanted), (SELECT count(*) FROM locked)',
        col, target) INTO wanted, locked;
    IF locked < wanted THEN
        EXECUTE format(
            'SELECT n.%1$I::text FROM new_rows n WHERE n.%1$I IS NOT NULL '
            'AND NOT EXISTS (SELECT FROM %2$I t WHERE t.id = n.%1$I) ORDER BY n.%1$I LIMIT 1',
            col, target) INTO missing;
        RAISE EXCEPTION 'insert or update on table "%" violates foreign key constraint "%"', TG_TABLE_NAME, TG_ARGV[2]
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = TG_ARGV[2], TABLE = TG_TABLE_NAME, COLUMN = col,
                  DETAIL = format('Key (%s)=(%s) is not present in table "%s".', col, coalesce(missing, '?'), target);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION uce_references_gone() RETURNS trigger LANGUAGE plpgsql AS $$
-- Trigger on the referenced table: TG_ARGV = (referencing table, its column, constraint).
DECLARE
    source text := TG_ARGV[0];
    col text := TG_ARGV[1];
    still text;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        EXECUTE format('SELECT %1$I::text FROM %2$I WHERE %1$I IS NOT NULL LIMIT 1', col, source) INTO still;
    ELSIF TG_LEVEL = 'ROW' THEN  -- a change of id
        EXECUTE format('SELECT %1$I::text FROM %2$I WHERE %1$I = $1 LIMIT 1', col, source) INTO still USING OLD.id;
    ELSE
        EXECUTE format(
            'SELECT a.%1$I::text FROM %2$I a WHERE a.%1$I IN (SELECT id FROM old_rows) LIMIT 1', col, source
        ) INTO still;
    END IF;
    IF still IS NOT NULL THEN
        RAISE EXCEPTION 'update or delete on table "%" violates foreign key constraint "%" on table "%"',
            TG_TABLE_NAME, TG_ARGV[2], source
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = TG_ARGV[2], TABLE = TG_TABLE_NAME,
                  DETAIL = format('Key (id)=(%s) is still referenced from table "%s".', still, source);
    END IF;
    RETURN NULL;
END $$;
"""


def triggers_sql(column: str, target: str, name: str) -> str:
    present = f"EXECUTE FUNCTION uce_references_present('{column}', '{target}', '{name}')"
    gone = f"EXECUTE FUNCTION uce_references_gone('jobs_activity', '{column}', '{name}')"
    return f"""
        CREATE TRIGGER {name}_insert AFTER INSERT ON jobs_activity
            REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT {present};
        CREATE TRIGGER {name}_update AFTER UPDATE ON jobs_activity
            REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT {present};
        CREATE TRIGGER {name}_delete AFTER DELETE ON {target}
            REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT {gone};
        CREATE TRIGGER {name}_key AFTER UPDATE OF id ON {target}
            FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) {gone};
        CREATE TRIGGER {name}_truncate AFTER TRUNCATE ON {target} FOR EACH STATEMENT {gone};
    """


def drop_triggers_sql(column: str, target: str, name: str) -> str:
    return "".join(
        f"DROP TRIGGER {name}_{event} ON {table};"
        for event, table in [
            ("insert", "jobs_activity"),
            ("update", "jobs_activity"),
            ("delete", target),
            ("key", target),
            ("truncate", target),
        ]
    )


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0008_import_preview_and_saved_mappings"),
        ("pods", "0003_pod_slug_not_reserved"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunSQL(FUNCTIONS, "DROP FUNCTION uce_references_present(); DROP FUNCTION uce_references_gone();"),
        *[migrations.RunSQL(triggers_sql(*reference), drop_triggers_sql(*reference)) for reference in REFERENCES],
        # The triggers are in place before the foreign keys go: no moment without a check.
        migrations.AlterField(
            model_name="activity",
            name="pod",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=models.deletion.PROTECT,
                related_name="+",
                to="pods.pod",
            ),
        ),
        migrations.AlterField(
            model_name="activity",
            name="account",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=models.deletion.PROTECT,
                related_name="+",
                to="pods.account",
            ),
        ),
        migrations.AlterField(
            model_name="activity",
            name="staff",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=models.deletion.SET_NULL,
                related_name="activities",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="activity",
            name="contact",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=models.deletion.SET_NULL,
                related_name="+",
                to="pods.contact",
            ),
        ),
    ]
