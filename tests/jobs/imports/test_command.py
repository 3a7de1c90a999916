"""``manage.py import_csv KIND PATH`` as a shell runs it: exit codes, the summary, the error report."""

import os
import subprocess
import sys

import pytest

from devtools.workers import ROOT, database_url_of_test_db
from jobs.models import Activity
from tests.support.factories import AccountFactory, PodFactory

# The command runs in its own process, so the rows it writes must be visible to it and to the test.
pytestmark = pytest.mark.django_db(transaction=True)


def import_csv(*args):
    env = os.environ | {"DATABASE_URL": database_url_of_test_db(), "DJANGO_SETTINGS_MODULE": "uce.settings.test"}
    return subprocess.run(
        [sys.executable, "manage.py", "import_csv", *map(str, args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_good_file_exits_0_with_a_one_line_summary_and_again_changes_nothing(csv_file):
    AccountFactory(external_id="ACME", pod=PodFactory(slug="southeast-us"))
    path = csv_file(
        """
        external_id,occurred_at,account,job,channel,kind
        ACT-1,2026-03-01T09:30:00-05:00,ACME,learn,digital,webinar
        ACT-2,2026-03-02T09:30:00-05:00,ACME,buy,in_person,demo
        """
    )
    first = import_csv("activities", path)
    assert (first.returncode, first.stdout, first.stderr) == (
        0,
        "2 rows imported (2 new, 0 updated, 0 unchanged)\n",
        "",
    )
    again = import_csv("activities", path)
    assert (again.returncode, again.stdout) == (0, "2 rows imported (0 new, 0 updated, 2 unchanged)\n")
    assert Activity.objects.count() == 2


def test_a_bad_file_exits_1_with_the_error_report_and_writes_nothing(csv_file):
    AccountFactory(external_id="ACME", pod=PodFactory(slug="southeast-us"))
    path = csv_file(
        """
        external_id,occurred_at,account,job,channel,kind
        ACT-1,2026-03-01T09:30:00-05:00,ACME,learn,digital,webinar
        ACT-2,2026-03-02T09:30:00,ACME,buy,in_person,demo
        ACT-3,2026-03-02T09:30:00Z,GHOST,buy,in_person,demo
        """
    )
    run = import_csv("activities", path)
    assert run.returncode == 1
    assert run.stdout == ""
    report = run.stderr.splitlines()
    assert report[0].startswith("line 3, column occurred_at: ")
    assert report[1] == 'line 4, column account: Unknown account "GHOST".'
    assert report[2] == "CommandError: Nothing was imported: 2 errors in the file."
    assert not Activity.objects.exists()


def test_an_unknown_kind_or_a_missing_file_exits_1(tmp_path):
    unknown = import_csv("invoices", tmp_path / "x.csv")
    assert unknown.returncode == 1
    assert 'Unknown kind "invoices"' in unknown.stderr
    missing = import_csv("accounts", tmp_path / "nowhere.csv")
    assert missing.returncode == 1
    assert "No such file" in missing.stderr
