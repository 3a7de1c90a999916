"""An activity's pod, account, staff and contact exist: the database refuses any other (migration 0009).

The references are checked once per statement by triggers rather than by foreign keys, row by
row; these tests hold them to what the foreign keys promised, concurrent writers included.
"""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone

from jobs.imports.services import import_file
from jobs.models import Activity
from pods.models import Account, Contact, Pod
from tests.support.factories import AccountFactory, ActivityFactory, ContactFactory, UserFactory

MISSING = 10**12

REFERENCES = {  # field: (constraint, referenced model)
    "pod_id": ("activity_pod_fk", Pod),
    "account_id": ("activity_account_fk", Account),
    "staff_id": ("activity_staff_fk", get_user_model()),
    "contact_id": ("activity_contact_fk", Contact),
}


def activity(account, **fields) -> Activity:
    values = {
        "pod_id": account.pod_id,
        "account_id": account.pk,
        "occurred_at": timezone.now(),
        "job": "learn",
        "channel": "digital",
        "kind": "call",
    }
    return Activity(**{**values, **fields})


def constraint_of(error: IntegrityError) -> str:
    return error.__cause__.diag.constraint_name


@pytest.mark.django_db
@pytest.mark.parametrize("field", REFERENCES)
def test_an_activity_naming_a_missing_row_is_refused(field):
    account = AccountFactory()
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        activity(account, **{field: MISSING}).save()
    assert constraint_of(refused.value) == REFERENCES[field][0]
    assert f"Key ({field})=({MISSING}) is not present" in str(refused.value.__cause__.diag.message_detail)
    assert not Activity.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["account_id", "staff_id", "contact_id"])  # a fact's pod never changes
def test_an_activity_moved_to_a_missing_row_is_refused(field):
    written = ActivityFactory(staff=UserFactory(), contact=ContactFactory())
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        Activity.objects.filter(pk=written.pk).update(**{field: MISSING})
    assert constraint_of(refused.value) == REFERENCES[field][0]


@pytest.mark.django_db
def test_one_bad_row_in_a_bulk_insert_writes_none_of_them():
    account = AccountFactory()
    rows = [activity(account) for _ in range(500)] + [activity(account, contact_id=MISSING)]
    with pytest.raises(IntegrityError), transaction.atomic():
        Activity.objects.bulk_create(rows)
    assert not Activity.objects.exists()


@pytest.mark.django_db
def test_an_import_naming_a_missing_account_reports_it_and_writes_nothing(tmp_path):
    AccountFactory(external_id="ACC-1")
    path = tmp_path / "activities.csv"
    path.write_text(
        "external_id,occurred_at,account,job,channel,kind\n"
        "A-1,2026-03-01T09:30:00Z,ACC-1,learn,digital,call\n"
        "A-2,2026-03-01T09:30:00Z,ACC-404,learn,digital,call\n"
    )
    result = import_file("activities", path)
    assert not result.succeeded
    assert result.errors == [{"line": 3, "column": "account", "message": 'Unknown account "ACC-404".'}]
    assert not Activity.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("field", REFERENCES)
def test_deleting_a_referenced_row_in_sql_is_refused(field):
    written = ActivityFactory(staff=UserFactory(), contact=ContactFactory())
    constraint, model = REFERENCES[field]
    with pytest.raises(IntegrityError) as refused, transaction.atomic(), connection.cursor() as cursor:
        # Other tables' foreign keys to the row are deferred to the commit: this check comes first.
        cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE id = %s", [getattr(written, field)])  # noqa: S608
    assert constraint_of(refused.value) == constraint


@pytest.mark.django_db
@pytest.mark.parametrize("field", REFERENCES)
def test_changing_the_id_of_a_referenced_row_in_sql_is_refused(field):
    written = ActivityFactory(staff=UserFactory(), contact=ContactFactory())
    constraint, model = REFERENCES[field]
    with pytest.raises(IntegrityError) as refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {model._meta.db_table} SET id = %s WHERE id = %s",  # noqa: S608
            [MISSING, getattr(written, field)],
        )
    assert constraint_of(refused.value) == constraint


@pytest.mark.django_db
def test_rows_no_activity_references_may_be_deleted_or_renumbered_in_sql():
    """Only the rows still referenced are refused: the others, in the same statement or not, go."""
    written = ActivityFactory()
    spare = [AccountFactory(pod=written.pod) for _ in range(2)]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE pods_account SET id = %s WHERE id = %s", [MISSING, spare[0].pk])
        cursor.execute("DELETE FROM pods_account WHERE id IN (%s, %s)", [MISSING, spare[1].pk])
    assert list(Account.objects.values_list("pk", flat=True)) == [written.account_id]


@pytest.mark.django_db
def test_truncating_a_referenced_table_is_refused():
    ActivityFactory(contact=ContactFactory())
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE refuses to run with checks pending
    with pytest.raises(IntegrityError) as refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE pods_contact")
    assert constraint_of(refused.value) == "activity_contact_fk"


@pytest.mark.django_db
def test_deletes_through_the_orm_behave_as_before():
    staff, contact = UserFactory(), ContactFactory()
    written = ActivityFactory(account=contact.account, pod=contact.account.pod, staff=staff, contact=contact)
    contact.delete()  # SET_NULL
    staff.delete()  # SET_NULL
    written.refresh_from_db()
    assert (written.staff_id, written.contact_id) == (None, None)


# ---------- two connections at once ----------


def _waiting_for_a_lock(pid: int) -> bool:
    watcher = connections.create_connection("default")
    try:
        with watcher.cursor() as cursor:
            for _ in range(100):
                cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
                if cursor.fetchone()[0] == "Lock":
                    return True
                threading.Event().wait(0.05)
        return False
    finally:
        watcher.close()


def _in_thread(work):
    """Run ``work(connection)`` on a connection of its own in a thread; return (thread, outcome, its pid)."""
    other = connections.create_connection("default")
    other.inc_thread_sharing()  # opened here, used and closed in the thread
    other.ensure_connection()
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    outcome = {}

    def run():
        try:
            with other.cursor() as cursor:
                cursor.execute("SET lock_timeout = '20s'")
            work(other)
            outcome["error"] = None
        except Exception as error:  # noqa: BLE001 # reported to the test
            outcome["error"] = error
        finally:
            other.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome, pid


def _insert_sql(account) -> tuple[str, list]:
    return (
        "INSERT INTO jobs_activity (pod_id, account_id, occurred_at, job, channel, kind, notes, created_at) "
        "VALUES (%s, %s, now(), 'learn', 'digital', 'call', '', now())",
        [account.pod_id, account.pk],
    )


def _orphans() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM jobs_activity a "
            "WHERE NOT EXISTS (SELECT FROM pods_account c WHERE c.id = a.account_id)"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_an_account_deleted_while_an_activity_naming_it_is_being_written_leaves_no_orphan():
    account = AccountFactory()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(*_insert_sql(account))  # uncommitted: the account is locked FOR KEY SHARE

        def delete(other):
            with other.cursor() as cursor:
                cursor.execute("DELETE FROM pods_account WHERE id = %s", [account.pk])

        thread, outcome, pid = _in_thread(delete)
        assert _waiting_for_a_lock(pid)  # the delete waits for the insert's transaction
    thread.join(30)
    assert constraint_of(outcome["error"]) == "activity_account_fk"
    assert Account.objects.filter(pk=account.pk).exists()
    assert _orphans() == 0


@pytest.mark.django_db(transaction=True)
def test_an_activity_written_while_its_account_is_being_deleted_is_refused():
    account = AccountFactory()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM pods_account WHERE id = %s", [account.pk])  # uncommitted

        def insert(other):
            with other.cursor() as cursor:
                cursor.execute(*_insert_sql(account))

        thread, outcome, pid = _in_thread(insert)
        assert _waiting_for_a_lock(pid)  # the insert waits to know whether the account stays
    thread.join(30)
    assert constraint_of(outcome["error"]) == "activity_account_fk"
    assert not Activity.objects.exists()
    assert _orphans() == 0


@pytest.mark.django_db(transaction=True)
def test_a_sign_in_does_not_wait_for_an_import_that_references_the_user():
    staff = UserFactory()
    account = AccountFactory()
    with transaction.atomic():
        Activity.objects.bulk_create([activity(account, staff_id=staff.pk) for _ in range(100)])

        def sign_in(other):
            with other.cursor() as cursor:
                cursor.execute("SET lock_timeout = '2s'")
                cursor.execute("UPDATE pods_user SET last_login = now() WHERE id = %s", [staff.pk])

        thread, outcome, _ = _in_thread(sign_in)
        thread.join(30)
        assert outcome["error"] is None
