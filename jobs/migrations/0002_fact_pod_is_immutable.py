"""A fact keeps the pod it was created under: the database refuses to change ``pod_id`` later."""

from django.db import migrations

FACT_TABLES = [
    "jobs_activity",
    "jobs_lead",
    "jobs_opportunity",
    "jobs_order",
    "jobs_adoptionreading",
    "jobs_supportticket",
]

FUNCTION = """
CREATE FUNCTION uce_fact_pod_is_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.pod_id IS DISTINCT FROM OLD.pod_id THEN
        RAISE EXCEPTION 'a fact keeps the pod it was created under (% id %)', TG_TABLE_NAME, OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
"""


def trigger_sql(table):
    return (
        f"CREATE TRIGGER {table}_pod_immutable BEFORE UPDATE OF pod_id ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION uce_fact_pod_is_immutable();"
    )


class Migration(migrations.Migration):
    dependencies = [("jobs", "0001_initial")]

    operations = [
        migrations.RunSQL(FUNCTION, "DROP FUNCTION uce_fact_pod_is_immutable();"),
        *[
            migrations.RunSQL(trigger_sql(table), f"DROP TRIGGER {table}_pod_immutable ON {table};")
            for table in FACT_TABLES
        ],
    ]
