"""``manage.py benchmark``: a tiny run prints the whole table, writes the report and leaves no database behind.

The run builds its own database on the server (as the full benchmark does), so these tests need no
Django test database; the figures of a tiny run mean nothing, only the table's shape is checked.
"""

import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from devtools.benchmark import LATEST_RUN_START, Server, Size, write_report

# The measures the issue asks for, as a reader finds them in the first column, with their bars.
EXPECTED_ROWS = {
    "CSV import of": "≤ 2×",
    "Peak RSS of the import": "≤ 1.25×",
    "Full metric rebuild": "≤ 2×",
    "Incremental refresh after 1,000 activities": "≥ 100×",
    "on twice the history (flat)": "≤ 1.25×",
    "trivial signed-in view": "≤ 3×",
    "on the fly": "≥ 50×",
    "figures are not rendered yet": "—",
    "Dashboard queries": "= 1×",
    "Account page of the busiest account": "≤ 3×",
    "Account page not rendered yet": "—",
    "Account page queries": "= 1×",
    "Peak RSS of the full rebuild": "—",
}


def table_rows(text: str) -> list[list[str]]:
    """The body rows of the markdown table in ``text``, as lists of cells."""
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    assert lines[0] == "| measure | ours | baseline | ratio | bar | holds |"
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[1:]]


def server_databases() -> set[str]:
    with Server.from_settings().maintenance_connection() as conn:
        return {name for (name,) in conn.execute("SELECT datname FROM pg_database")}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    report = tmp_path_factory.mktemp("docs") / "PERFORMANCE.md"
    out = io.StringIO()
    call_command(
        "benchmark",
        "--activities=2000",
        "--pods=3",
        "--accounts=50",
        "--months=3",
        "--requests=3",
        f"--report={report}",
        # The child processes read the same clock as this one (frozen by make test-calendar).
        f"--as-of={timezone.now().isoformat()}",
        stdout=out,
    )
    return out.getvalue(), report


def test_the_table_has_every_measure_with_a_positive_ratio(tiny_run):
    output, _ = tiny_run
    rows = table_rows(output)
    assert len(rows) == len(EXPECTED_ROWS)
    for (start, bar), row in zip(EXPECTED_ROWS.items(), rows, strict=True):
        measure, ours, baseline, ratio, row_bar, holds = row
        assert start in measure
        assert ours and baseline
        assert float(ratio.rstrip("×").replace(",", "")) > 0
        assert row_bar == bar
        assert holds in {"yes", "**no**", "—"}


def test_the_dashboard_query_count_does_not_grow_with_the_data(tiny_run):
    output, _ = tiny_run
    queries = next(row for row in table_rows(output) if row[0].startswith("Dashboard queries"))
    assert queries[5] == "yes"


def test_the_account_page_query_count_does_not_grow_with_the_history(tiny_run):
    output, _ = tiny_run
    queries = next(row for row in table_rows(output) if row[0].startswith("Account page queries"))
    assert queries[5] == "yes"


def test_the_report_names_the_command_and_holds_the_table(tiny_run):
    output, report = tiny_run
    text = report.read_text()
    assert "`python manage.py benchmark --activities 2000 --pods 3 --accounts 50 --months 3 --requests 3`" in text
    assert table_rows(text) == table_rows(output)
    assert "PostgreSQL" in text and "Date:" in text


def test_the_fresh_database_and_its_copy_are_dropped_afterwards(tiny_run):
    output, _ = tiny_run
    created = re.search(r"created database (uce_bench_[0-9a-f]+)", output).group(1)
    assert f"copied the database to {created}_copy" in output
    assert not {name for name in server_databases() if name.startswith(created)}


def test_the_history_check_refreshes_what_the_incremental_step_refreshes_on_half_the_rows(tiny_run):
    output, _ = tiny_run
    full = re.search(r"Incremental: .* the refresh recomputed ([\d,]+) snapshots of (\d+) pods", output)
    half = re.search(
        r"History check .* with every other activity, ([\d,]+)\): .* recomputed ([\d,]+) snapshots of "
        r"(\d+) pods",
        output,
    )
    assert half.group(1) == "1,000"  # every other one of the 2,000
    assert (half.group(2), half.group(3)) == (full.group(1), full.group(2))
    assert int(full.group(2)) == 3  # the tiny run's three pods, one month each
    assert "Incremental refresh after 1,000 activities in 3 pod-months" in output


def test_a_new_run_replaces_only_the_latest_run_section(tmp_path):
    report = tmp_path / "PERFORMANCE.md"
    report.write_text(f"# Performance\n\nHow it is measured.\n\n{LATEST_RUN_START}\n\n| old table |\n")
    machine = {"cpu": "test CPU", "memory": "1 GiB", "os": "test OS", "python": "3.11"}
    write_report(report, size=Size(activities=5), machine=machine, table="| new table |", details="Steps.")
    text = report.read_text()
    assert text.startswith("# Performance\n\nHow it is measured.\n")
    assert "| old table |" not in text
    assert "| new table |" in text and "Steps." in text
    assert text.count(LATEST_RUN_START) == 1


def test_more_pods_than_accounts_is_refused():
    with pytest.raises(CommandError, match="--accounts must be at least --pods"):
        call_command("benchmark", "--pods=10", "--accounts=5", "--no-report")
