"""A first large import builds the table's plain indexes afresh, and changes nothing else about the table.

The threshold (``loading.BULK_ROWS``, 100,000 rows) is lowered here so small files take that way.
"""

import threading
import time
import uuid

import pytest
from django.db import IntegrityError, connection, connections, transaction

from jobs.imports import loading
from jobs.imports.services import import_file
from jobs.models import Activity, Lead
from tests.support.factories import AccountFactory, ContactFactory, PodFactory, UserFactory

from .conftest import table_dump

HEADER = "external_id,occurred_at,account,job,channel,kind,staff,contact,minutes,notes\n"


def activities(first, count, account=lambda n: f"ACC-{n % 5}"):
    return HEADER + "".join(
        f"ACT-{n},2026-03-0{1 + n % 9}T09:30:00-05:00,{account(n)},learn,digital,call,"
        f"{'mlopez' if n % 2 else ''},{'C-' + account(n) if n % 3 == 0 else ''},{n % 60},note {n}\n"
        for n in range(first, first + count)
    )


@pytest.fixture
def world(db):
    pods = [PodFactory(slug="southeast-us"), PodFactory(slug="dach", timezone="Europe/Berlin")]
    for n in range(5):
        account = AccountFactory(external_id=f"ACC-{n}", pod=pods[n % 2])
        ContactFactory(external_id=f"C-ACC-{n}", account=account)
    UserFactory(username="mlopez")


@pytest.fixture
def bulk_from_50_rows(monkeypatch):
    monkeypatch.setattr(loading, "BULK_ROWS", 50)


def indexes(table="jobs_activity"):
    """Name, definition and identity (oid) of every index of the table."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid), i.indexrelid FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass ORDER BY 1",
            [table],
        )
        return {name: (definition, oid) for name, definition, oid in cursor.fetchall()}


def definitions(found):
    return {name: definition for name, (definition, _) in found.items()}


def rebuilt(before, after):
    return sorted(name for name in before if before[name][1] != after[name][1])


@pytest.mark.django_db
def test_a_first_large_import_rebuilds_the_plain_indexes_as_they_were(world, bulk_from_50_rows, csv_file):
    before = indexes()
    result = import_file("activities", csv_file(activities(0, 200)))
    assert (result.succeeded, result.rows, result.created, result.updated) == (True, 200, 200, 0)
    after = indexes()
    assert definitions(after) == definitions(before)
    # Built afresh: the indexes of no constraint and not unique.  The key's own index is kept.
    assert "jobs_activity_pkey" not in rebuilt(before, after)
    assert "jobs_activity_external_id_key" not in rebuilt(before, after)
    assert {"activity_pod_time_contact", "activity_account_time", "activity_staff_recent"} <= set(
        rebuilt(before, after)
    )

    activity = Activity.objects.get(external_id="ACT-3")
    assert (activity.account.external_id, activity.pod.slug, activity.contact.external_id) == (
        "ACC-3",
        "dach",
        "C-ACC-3",
    )
    assert (activity.staff.username, activity.minutes, activity.notes) == ("mlopez", 3, "note 3")
    # The indexes answer queries again, with the rows in them.
    assert Activity.objects.filter(pod__slug="dach").count() == 80


@pytest.mark.django_db
def test_after_a_bulk_import_foreign_keys_are_checked_at_the_commit_again(world, bulk_from_50_rows, csv_file):
    assert import_file("activities", csv_file(activities(0, 100))).succeeded
    # Checked at the commit (deferred), as Django expects: creating the row does not raise yet.
    # (A lead: an activity's references are checked by its statement, migration 0009.)
    with transaction.atomic():
        first = Activity.objects.first()
        Lead.objects.create(pod_id=first.pod_id, account_id=10**9, created_at=first.occurred_at, channel="digital")
        with pytest.raises(IntegrityError), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_importing_the_large_file_again_writes_nothing_and_builds_nothing(world, bulk_from_50_rows, csv_file):
    path = csv_file(activities(0, 200))
    assert import_file("activities", path).succeeded
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE jobs_activity")  # as after any large import: the table knows its size
    before, dump = indexes(), table_dump()
    result = import_file("activities", path)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 200)
    assert table_dump() == dump
    assert rebuilt(before, indexes()) == []


@pytest.mark.django_db
def test_a_large_import_into_a_larger_table_keeps_its_indexes(world, bulk_from_50_rows, csv_file):
    assert import_file("activities", csv_file(activities(0, 300))).succeeded
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE jobs_activity")
    before = indexes()
    # 100 new rows and 50 changed ones: fewer than the 300 rows the table has.
    result = import_file("activities", csv_file(activities(250, 150, account=lambda n: f"ACC-{(n + 1) % 5}")))
    assert (result.created, result.updated) == (100, 50)
    assert rebuilt(before, indexes()) == []
    assert Activity.objects.count() == 400
    moved = Activity.objects.get(external_id="ACT-260")
    assert moved.account.external_id == "ACC-1"
    assert moved.pod.slug == "southeast-us"  # the pod it was created under (ACC-0's), kept


@pytest.mark.django_db(transaction=True)
def test_a_bulk_import_does_not_wait_for_a_table_in_use(monkeypatch, csv_file):
    """A reader holds the table: the import gives up having it alone after LOCK_WAIT and goes the ordinary way."""
    ContactFactory(external_id="C-ACC-0", account=AccountFactory(external_id="ACC-0", pod=PodFactory()))
    UserFactory(username="mlopez")
    monkeypatch.setattr(loading, "BULK_ROWS", 50)
    monkeypatch.setattr(loading, "LOCK_WAIT", "200ms")
    before = indexes()
    reader_has_the_table, done = threading.Event(), threading.Event()

    def reader():
        try:
            with transaction.atomic():
                Activity.objects.count()  # ACCESS SHARE on jobs_activity until this transaction ends
                reader_has_the_table.set()
                done.wait(timeout=60)
        finally:
            connections.close_all()

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        assert reader_has_the_table.wait(timeout=30)
        started = time.monotonic()
        result = import_file("activities", csv_file(activities(0, 100, account=lambda n: "ACC-0")))
        waited = time.monotonic() - started
    finally:
        done.set()
        thread.join(timeout=60)
    assert (result.succeeded, result.created) == (True, 100)
    assert rebuilt(before, indexes()) == []
    assert waited < 30
    # The lock wait was this import's own business: the session's setting is as it was.
    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        assert cursor.fetchone()[0] == "0"


@pytest.mark.django_db
def test_a_role_that_may_only_read_and_write_rows_imports_too(world, bulk_from_50_rows, csv_file):
    """Not the tables' owner, no right to create tables: temporary work tables, and the indexes kept up row by row."""
    role = f"uce_import_writer_{uuid.uuid4().hex[:8]}"  # created in this test's transaction, gone with it
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role}")
        cursor.execute(f"GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO {role}")
        cursor.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}")
        cursor.execute("SELECT has_schema_privilege(%s, 'public', 'CREATE')", [role])
        assert cursor.fetchone()[0] is False
    before = indexes()
    with connection.cursor() as cursor:
        cursor.execute(f"SET ROLE {role}")
    try:
        result = import_file("activities", csv_file(activities(0, 100)))
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
    assert (result.succeeded, result.created) == (True, 100), result.errors
    assert rebuilt(before, indexes()) == []
    assert Activity.objects.filter(pod__slug="dach").count() == 40
