"""What a benchmark run prints and writes: the table of ratios against their bars, the details behind it,
the machine it ran on, and the "latest run" section of docs/PERFORMANCE.md.
"""

import datetime as dt
import os
import platform
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from .organisation import Size
from .phases import INCREMENTAL_ACTIVITIES, PHASE_TITLES, PHASES

# ---------------------------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    """One row of the table: ours against the baseline, the ratio, and the bar it should meet."""

    name: str
    ours: str
    baseline: str
    ratio: float
    bar: str
    holds: bool | None  # None: reported, no bar


def _seconds(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f} s"
    if value >= 1:
        return f"{value:.2f} s"
    return f"{value * 1000:.1f} ms"


def _megabytes(value: int) -> str:
    return f"{value / 1024 / 1024:,.0f} MB"


def _ratio(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}×"
    if value >= 10:
        return f"{value:.1f}×"
    if value >= 0.1:
        return f"{value:.2f}×"
    return f"{value:.3g}×"


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def measures_of(size: Size, results: dict[str, dict]) -> list[Measure]:
    """The rows of the table from the steps' results."""
    copy, imported, small = results["copy"], results["import"], results["import-small"]
    group_by, rebuild, incremental = results["group-by"], results["rebuild"], results["incremental"]
    board = results["dashboard"]
    dashboard, trivial, on_the_fly = _mean(board["dashboard"]), _mean(board["trivial"]), _mean(board["on_the_fly"])
    uncached = _mean(board["dashboard_uncached"])
    memory_ratio = imported["peak_rss"] / small["peak_rss"]
    speed_up = rebuild["seconds"] / incremental["seconds"]
    half = results["half-history"]
    history_ratio = incremental["seconds"] / half["seconds"]
    return [
        Measure(
            f"CSV import of {imported['rows']:,} activities",
            _seconds(imported["seconds"]),
            f"bare COPY of the same file: {_seconds(copy['seconds'])}",
            imported["seconds"] / copy["seconds"],
            "≤ 2×",
            imported["seconds"] <= 2 * copy["seconds"],
        ),
        Measure(
            "Peak RSS of the import (memory flat)",
            f"{_megabytes(imported['peak_rss'])} for {imported['rows']:,} rows",
            f"{_megabytes(small['peak_rss'])} for {small['rows']:,} rows",
            memory_ratio,
            "≤ 1.25×",
            memory_ratio <= 1.25,
        ),
        Measure(
            f"Full metric rebuild ({rebuild['snapshots']:,} snapshots)",
            _seconds(rebuild["seconds"]),
            f"one GROUP BY (pod, local month, job, channel): {_seconds(group_by['seconds'])}",
            rebuild["seconds"] / group_by["seconds"],
            "≤ 2×",
            rebuild["seconds"] <= 2 * group_by["seconds"],
        ),
        Measure(
            f"Incremental refresh after {INCREMENTAL_ACTIVITIES:,} activities in {incremental['pod_months']} "
            "pod-months (speed-up)",
            _seconds(incremental["seconds"]),
            f"full rebuild: {_seconds(rebuild['seconds'])}",
            speed_up,
            "≥ 100×",
            speed_up >= 100,
        ),
        Measure(
            f"Incremental refresh after the same {INCREMENTAL_ACTIVITIES:,} activities on twice the history (flat)",
            f"{_seconds(incremental['seconds'])} on {imported['rows']:,} activities",
            f"{_seconds(half['seconds'])} on {half['activities']:,} (every other one)",
            history_ratio,
            "≤ 1.25×",
            history_ratio <= 1.25,
        ),
        Measure(
            "Dashboard request vs a trivial signed-in view",
            _seconds(dashboard),
            f"trivial view: {_seconds(trivial)}",
            dashboard / trivial,
            "≤ 3×",
            dashboard <= 3 * trivial,
        ),
        Measure(
            "Dashboard request vs computing its figures on the fly (speed-up)",
            _seconds(dashboard),
            f"on the fly: {_seconds(on_the_fly)}",
            on_the_fly / dashboard,
            "≥ 50×",
            on_the_fly >= 50 * dashboard,
        ),
        Measure(
            "Dashboard request whose figures are not rendered yet (first view after a refresh)",
            _seconds(uncached),
            f"trivial view: {_seconds(trivial)}",
            uncached / trivial,
            "—",
            None,
        ),
        Measure(
            "Dashboard queries, full pod vs small pod (constant)",
            f"{board['queries']['full']} queries ({board['pod_activities']:,} activities; "
            f"{board['queries_month'][:7]}, {'with' if board['queries_with_engaged_list'] else 'no'} engaged list)",
            f"{board['queries']['small']} queries (20 activities)",
            board["queries"]["full"] / board["queries"]["small"],
            "= 1×",
            board["queries"]["full"] == board["queries"]["small"],
        ),
        Measure(
            f"Account page of the busiest account ({board['account_activities']:,} activities) vs a trivial view",
            _seconds(_mean(board["account_page"])),
            f"trivial view: {_seconds(trivial)}",
            _mean(board["account_page"]) / trivial,
            "≤ 3×",
            _mean(board["account_page"]) <= 3 * trivial,
        ),
        Measure(
            "Account page not rendered yet (first view after a change)",
            _seconds(_mean(board["account_page_uncached"])),
            f"trivial view: {_seconds(trivial)}",
            _mean(board["account_page_uncached"]) / trivial,
            "—",
            None,
        ),
        Measure(
            "Account page queries, busiest account vs a 20-activity one (constant)",
            f"{board['account_queries']['busiest']} queries",
            f"{board['account_queries']['small']} queries",
            board["account_queries"]["busiest"] / board["account_queries"]["small"],
            "= 1×",
            board["account_queries"]["busiest"] == board["account_queries"]["small"],
        ),
        Measure(
            "Peak RSS of the full rebuild",
            _megabytes(rebuild["peak_rss"]),
            f"Django process at rest: {_megabytes(results['at-rest']['peak_rss'])}",
            rebuild["peak_rss"] / results["at-rest"]["peak_rss"],
            "—",
            None,
        ),
    ]


def format_table(measures: list[Measure]) -> str:
    lines = ["| measure | ours | baseline | ratio | bar | holds |", "|---|---|---|---|---|---|"]
    for measure in measures:
        holds = "—" if measure.holds is None else ("yes" if measure.holds else "**no**")
        lines.append(
            f"| {measure.name} | {measure.ours} | {measure.baseline} | {_ratio(measure.ratio)} | {measure.bar} "
            f"| {holds} |"
        )
    return "\n".join(lines)


def format_details(size: Size, results: dict[str, dict], generation_seconds: float) -> str:
    """What is behind the table: every step's time and memory, the engine's families, the dashboard's spread."""
    lines = ["Steps (wall time of the child process, its peak RSS):", ""]
    lines.append(f"- writing the CSV files (calling process): {_seconds(generation_seconds)}")
    for phase in PHASES:
        result = results[phase]
        lines.append(
            f"- {PHASE_TITLES[phase]}: {_seconds(result['wall_seconds'])}, peak RSS {_megabytes(result['peak_rss'])}"
        )
    lines += ["", "Imports before the activities (rows, seconds, rows per second):", ""]
    for kind, imported in results["setup"]["imports"].items():
        rate = imported["rows"] / imported["seconds"] if imported["seconds"] else 0
        lines.append(f"- {kind}: {imported['rows']:,} rows in {_seconds(imported['seconds'])} ({rate:,.0f}/s)")
    imported, small = results["import"], results["import-small"]
    lines.append(
        f"- activities: {imported['rows']:,} rows in {_seconds(imported['seconds'])} "
        f"({imported['rows'] / imported['seconds']:,.0f}/s); N/10: {small['rows']:,} rows in "
        f"{_seconds(small['seconds'])}; bare COPY: {results['copy']['rows']:,} rows in "
        f"{_seconds(results['copy']['seconds'])}"
    )
    statements = imported.get("statements", {})
    if statements:
        lines += ["", "The activities import, by what it does:", ""]
        accounted = sum(statements.values()) + imported["commit_seconds"]
        parts = {
            **statements,
            "commit (deferred checks)": imported["commit_seconds"],
            "reading, parsing and streaming the file to staging (Python, COPY)": imported["seconds"] - accounted,
        }
        for name, seconds in sorted(parts.items(), key=lambda item: -item[1]):
            lines.append(f"- {name}: {_seconds(seconds)}")
    rebuild = results["rebuild"]
    if rebuild["families"]:
        lines += ["", "Full rebuild, time per metric family (summed over pod batches):", ""]
        for name, seconds in sorted(rebuild["families"].items(), key=lambda item: -item[1]):
            lines.append(f"- {name}: {_seconds(seconds)}")
    group_by = results["group-by"]
    lines += [
        "",
        f"GROUP BY baseline: {group_by['groups']:,} groups; runs {', '.join(_seconds(s) for s in group_by['runs'])}.",
    ]
    incremental, half = results["incremental"], results["half-history"]
    lines.append(
        f"Incremental: inserting the {INCREMENTAL_ACTIVITIES:,} activities (triggers mark them dirty) took "
        f"{_seconds(incremental['insert_seconds'])}, {incremental['dirty_ranges']} dirty ranges; the refresh "
        f"recomputed {incremental['snapshots']:,} snapshots of {incremental['pods']} pods; runs "
        f"{', '.join(_seconds(s) for s in incremental['runs'])}."
    )
    lines.append(
        f"History check (a copy of the database with every other activity, {half['activities']:,}): import "
        f"{_seconds(half['import_seconds'])}, rebuild {_seconds(half['rebuild_seconds'])}; the same refresh "
        f"recomputed {half['snapshots']:,} snapshots of {half['pods']} pods; runs "
        f"{', '.join(_seconds(s) for s in half['runs'])}."
    )
    board = results["dashboard"]
    uncached = _mean(board["dashboard_uncached"])
    grain_only = board["on_the_fly_grain_only"]
    lines.append(
        f"Dashboard of {board['pod']} ({board['pod_activities']:,} activities), {len(board['dashboard'])} requests: "
        f"mean {_seconds(_mean(board['dashboard']))}, min {_seconds(min(board['dashboard']))}, "
        f"max {_seconds(max(board['dashboard']))}; figures not yet rendered (the cache emptied before each "
        f"request) mean {_seconds(uncached)}; trivial view mean {_seconds(_mean(board['trivial']))}; "
        f"on the fly ({len(board['on_the_fly'])} requests, "
        f"{'month keys only' if grain_only else 'every grain: the engine could not be limited to months'}) "
        f"mean {_seconds(_mean(board['on_the_fly']))}."
    )
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------------
# docs/PERFORMANCE.md
# ---------------------------------------------------------------------------------------------------------------

LATEST_RUN_START = "<!-- latest run: written by `python manage.py benchmark`; everything below is replaced -->"
REPORT_HEADER = "# Performance at scale\n\nHow the figures below are measured: see the method in docs/PERFORMANCE.md.\n"


def machine() -> dict[str, str]:
    """What the numbers were measured on."""
    cpu = platform.processor() or platform.machine()
    with suppress(OSError), open("/proc/cpuinfo") as info:
        cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), cpu)
    memory = ""
    with suppress(OSError), open("/proc/meminfo") as info:
        total_kb = next((int(line.split()[1]) for line in info if line.startswith("MemTotal:")), 0)
        memory = f"{total_kb / 1024 / 1024:.1f} GiB"
    return {
        "cpu": f"{cpu}, {os.cpu_count()} logical CPUs",
        "memory": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
    }


def write_report(path: Path, *, size: Size, machine: dict[str, str], table: str, details: str) -> None:
    """Replace the "latest run" section of ``path`` (everything after its marker), keeping what precedes it."""
    path = Path(path)
    text = path.read_text(encoding="utf-8") if path.exists() else REPORT_HEADER
    kept = text.split(LATEST_RUN_START)[0].rstrip()
    now = dt.datetime.now().astimezone()
    section = [
        LATEST_RUN_START,
        "",
        "## Latest run",
        "",
        f"- Date: {now:%Y-%m-%d %H:%M %Z}",
        f"- Command: `{size.command}`",
        f"- Machine: {machine['cpu']}, {machine['memory']} RAM; {machine['os']}; Python {machine['python']}",
        f"- PostgreSQL {machine.get('server_version', '?')}: shared_buffers {machine.get('shared_buffers', '?')}, "
        f"work_mem {machine.get('work_mem', '?')}, max_wal_size {machine.get('max_wal_size', '?')}, "
        f"synchronous_commit {machine.get('synchronous_commit', '?')}",
        f"- Data: {size.activities:,} activities, {size.pods} pods, {size.accounts:,} accounts over {size.months} "
        f"months, plus leads, opportunities and tickets (5% of the activities each), orders and adoption "
        "readings (1% each), one contact per account, two staff per pod and job",
        "",
        table,
        "",
        details,
        "",
    ]
    path.write_text(f"{kept}\n\n" + "\n".join(section), encoding="utf-8")
