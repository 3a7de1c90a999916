"""An import into a table that is empty and known to be (analyzed) stays as fast as into any other.

That is the state autovacuum leaves a table in after an import into it was rolled back — a worker
killed mid-import, say — so the import run again after it meets it.  The planner then costs a scan
of the table at nothing; a write that looked its own table up row by row would reread, for each
row, every row it had written so far: minutes for a file that takes seconds.
"""

import pytest
from django.db import connection

from jobs.imports import loading
from jobs.imports.services import import_file
from tests.support.factories import AccountFactory, PodFactory

ROWS = 60_000  # seconds when each row is looked up once; minutes when each rereads the rows written before it


def activities(count):
    rows = (f"EMPTY-{n},2026-03-01T09:30:00Z,ACC-{n % 5},learn,digital,call\n" for n in range(count))
    return "external_id,occurred_at,account,job,channel,kind\n" + "".join(rows)


@pytest.mark.django_db
@pytest.mark.parametrize("bulk", [False, True], ids=["ordinary", "indexes-rebuilt"])
def test_a_file_imported_into_an_emptied_analyzed_table_is_written_in_seconds(bulk, csv_file, monkeypatch):
    if bulk:
        monkeypatch.setattr(loading, "BULK_ROWS", ROWS)  # the first-load way (indexes built afresh), too
    pod = PodFactory()
    for n in range(5):
        AccountFactory(external_id=f"ACC-{n}", pod=pod)
    path = csv_file(activities(ROWS))
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE jobs_activity")  # no pages left (as a VACUUM after the rollback leaves it)
        cursor.execute("ANALYZE jobs_activity")  # ... and known to be empty
        # Each statement of the import takes a second or two at most here.
        cursor.execute("SET LOCAL statement_timeout = '20s'")
    result = import_file("activities", path)
    assert (result.succeeded, result.created, result.updated) == (True, ROWS, 0)
