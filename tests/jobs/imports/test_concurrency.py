"""Two imports of the same file at the same time, each on its own database connection: no duplicates."""

import threading

import pytest
from django.db import connections

from jobs.imports.services import import_file
from jobs.models import Activity, Lead
from pods.models import Account
from tests.support.factories import AccountFactory, PodFactory

pytestmark = pytest.mark.django_db(transaction=True)


def import_twice_at_once(kind, path):
    """Run two imports of ``path`` in two threads (two connections), started together; return both results."""
    start = threading.Barrier(2)
    results, failures = [], []

    def run():
        try:
            start.wait()
            results.append(import_file(kind, path))
        except Exception as error:  # reported by the assertion below
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    return results


def test_the_same_fact_file_imported_twice_at_once_leaves_each_row_once(csv_file):
    pods = [PodFactory(slug="southeast-us"), PodFactory(slug="dach", timezone="Europe/Berlin")]
    for n in range(50):
        AccountFactory(external_id=f"ACC-{n}", pod=pods[n % 2])
    rows = 20_000
    path = csv_file(
        "external_id,occurred_at,account,job,channel,kind\n"
        + "".join(f"ACT-{n},2026-03-01T09:30:00Z,ACC-{n % 50},learn,digital,call\n" for n in range(rows))
    )
    results = import_twice_at_once("activities", path)
    assert all(result.succeeded for result in results)
    assert sorted((result.created, result.updated) for result in results) == [(0, 0), (rows, 0)]
    assert Activity.objects.count() == rows
    assert Activity.objects.values("external_id").distinct().count() == rows


def test_the_same_dimension_file_imported_twice_at_once_leaves_each_row_once(csv_file):
    PodFactory(slug="southeast-us")
    path = csv_file("external_id,name,pod\n" + "".join(f"ACC-{n},Account {n},southeast-us\n" for n in range(2000)))
    results = import_twice_at_once("accounts", path)
    assert all(result.succeeded for result in results)
    assert Account.objects.count() == 2000


def test_imports_of_different_kinds_run_side_by_side(csv_file):
    AccountFactory(external_id="ACME", pod=PodFactory(slug="southeast-us"))
    leads = csv_file(
        "external_id,account,created_at,channel,status\n"
        + "".join(f"L-{n},ACME,2026-03-01T09:30:00Z,digital,open\n" for n in range(5000))
    )
    activities = csv_file(
        "external_id,occurred_at,account,job,channel,kind\n"
        + "".join(f"A-{n},2026-03-01T09:30:00Z,ACME,learn,digital,call\n" for n in range(5000))
    )
    results = []

    def run(kind, path):
        try:
            results.append(import_file(kind, path))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=args) for args in (("leads", leads), ("activities", activities))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert [result.succeeded for result in results] == [True, True]
    assert (Lead.objects.count(), Activity.objects.count()) == (5000, 5000)
