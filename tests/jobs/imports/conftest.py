"""Fixtures of the import tests: uploads under a temporary VAR_DIR, CSV files, table dumps."""

import textwrap

import pytest
from django.db import connection

# Every table an import may write, and the dirty marks its triggers leave behind.
WRITTEN_TABLES = [
    "pods_user",
    "pods_pod",
    "pods_pod_leaders",
    "pods_assignment",
    "pods_account",
    "pods_contact",
    "jobs_activity",
    "jobs_lead",
    "jobs_opportunity",
    "jobs_order",
    "jobs_adoptionreading",
    "jobs_supportticket",
    "metrics_target",
    "metrics_dirtyrange",
]


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    """Uploaded files go under a temporary folder, never the project's var/."""
    settings.VAR_DIR = tmp_path / "var"
    return settings.VAR_DIR


@pytest.fixture
def csv_file(tmp_path):
    """``csv_file(text, name=...)``: a UTF-8 file of the dedented text; ``csv_file(bytes)``: those bytes."""
    counter = iter(range(1_000_000))

    def write(content, name=None):
        path = tmp_path / (name or f"file-{next(counter)}.csv")
        if isinstance(content, str):
            content = textwrap.dedent(content).lstrip("\n").encode()
        path.write_bytes(content)
        return path

    return write


def table_dump() -> dict[str, list[tuple]]:
    """Every row of every table an import writes, with its row version (``xmin``, ``ctid``).

    A row rewritten with identical values gets a new version, so equal dumps mean nothing was
    written at all, not merely that the values came out the same.
    """
    dump = {}
    with connection.cursor() as cursor:
        for table in WRITTEN_TABLES:
            cursor.execute(f"SELECT xmin::text, ctid::text, t.* FROM {table} t ORDER BY 3")  # noqa: S608
            dump[table] = cursor.fetchall()
    return dump
