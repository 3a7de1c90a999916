"""Run the suites whose results depend on "today" at every instant of tests/calendar/dates.py
(those that build a whole organisation only at the instants named for them in ``SUITES_AT``).

``make test-calendar`` (part of ``make test``).  Each run is a pytest session with ``UCE_TEST_NOW``
set (tests/conftest.py freezes the clock there) and a test database of its own, so that as many run
side by side as the machine has cores; a failure names the date and shows that session's output.
"""

import os
import queue
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.calendar.dates import FROZEN_INSTANTS  # noqa: E402

# Dashboard, comparison, home, metrics API defaults and targets, scoping: at every date.
SUITES = [
    "tests/calendar",
    "tests/metrics/test_dashboard_views.py",
    "tests/metrics/test_home_and_compare.py",
    "tests/metrics/test_metrics_api.py",
    "tests/pods/test_scoping.py",
]

# Suites that build a whole organisation (most of a date's time) run at the dates whose boundaries they can
# get wrong, not at all seven.  The demo is dated back two years from today, with targets for the last
# twelve months and a quiet August: month, quarter and year ends, the leap day and a US clock change.  The
# benchmark's tiny run writes months of activities up to today and its incremental step "last month": month
# and year ends.
SUITES_AT = {
    "tests/devtools/test_seed_demo.py": (
        "first-of-month",
        "last-day-of-quarter",
        "new-year",
        "leap-day",
        "us-dst-change",
    ),
    "tests/devtools/test_benchmark.py": ("first-of-month", "new-year"),
}


def suites_at(name: str) -> list[str]:
    """The suites run at the frozen date ``name``."""
    return SUITES + [suite for suite, names in SUITES_AT.items() if name in names]


def run_at(slots: queue.Queue, name: str, instant: str) -> tuple[str, str, int, float, str]:
    """One pytest session at ``instant``, on a test database no session running meanwhile uses."""
    slot = slots.get()
    try:
        env = {**os.environ, "UCE_TEST_NOW": instant, "UCE_TEST_DATABASE_NAME": f"test_uce_calendar_{slot}"}
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *suites_at(name)]
        started = time.monotonic()
        done = subprocess.run(command, cwd=ROOT, env=env, check=False, capture_output=True, text=True)
        return name, instant, done.returncode, time.monotonic() - started, done.stdout + done.stderr
    finally:
        slots.put(slot)


def main() -> int:
    workers = max(1, min(len(FROZEN_INSTANTS), os.cpu_count() or 1))
    unknown = {name for names in SUITES_AT.values() for name in names} - FROZEN_INSTANTS.keys()
    if unknown:
        print(
            f"SUITES_AT names dates that tests/calendar/dates.py lacks: {', '.join(sorted(unknown))}", file=sys.stderr
        )
        return 2
    print(
        f"Running {len(SUITES)} suites at {len(FROZEN_INSTANTS)} frozen dates, {len(SUITES_AT)} more at some"
        f" of them, {workers} at a time.",
        flush=True,
    )
    failed = []
    slots = queue.Queue()
    for slot in range(workers):
        slots.put(slot)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        # The dates with the most suites first, so the two slots end together.
        dates = sorted(FROZEN_INSTANTS.items(), key=lambda item: -len(suites_at(item[0])))
        runs = [pool.submit(run_at, slots, name, instant) for name, instant in dates]
        for run in runs:
            name, instant, code, seconds, output = run.result()
            lines = output.strip().splitlines()
            summary = lines[-1] if lines else "(no output)"
            print(f"--- {name} ({instant}): {summary} [{seconds:.0f} s]", flush=True)
            if code != 0:
                failed.append(name)
                print(output, flush=True)
    if failed:
        print(f"Failed at: {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"Passed at all {len(FROZEN_INSTANTS)} frozen dates.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
