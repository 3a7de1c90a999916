"""Run the suites whose results depend on "today" at every instant of tests/calendar/dates.py.

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

# Dashboard, comparison, home, metrics API defaults and targets, seed_demo, the benchmark's tiny run, scoping.
SUITES = [
    "tests/calendar",
    "tests/metrics/test_dashboard_views.py",
    "tests/metrics/test_home_and_compare.py",
    "tests/metrics/test_metrics_api.py",
    "tests/devtools/test_seed_demo.py",
    "tests/devtools/test_benchmark.py",
    "tests/pods/test_scoping.py",
]


def run_at(slots: queue.Queue, name: str, instant: str) -> tuple[str, str, int, float, str]:
    """One pytest session at ``instant``, on a test database no session running meanwhile uses."""
    slot = slots.get()
    try:
        env = {**os.environ, "UCE_TEST_NOW": instant, "UCE_TEST_DATABASE_NAME": f"test_uce_calendar_{slot}"}
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SUITES]
        started = time.monotonic()
        done = subprocess.run(command, cwd=ROOT, env=env, check=False, capture_output=True, text=True)
        return name, instant, done.returncode, time.monotonic() - started, done.stdout + done.stderr
    finally:
        slots.put(slot)


def main() -> int:
    workers = max(1, min(len(FROZEN_INSTANTS), os.cpu_count() or 1))
    print(f"Running {len(SUITES)} suites at {len(FROZEN_INSTANTS)} frozen dates, {workers} at a time.", flush=True)
    failed = []
    slots = queue.Queue()
    for slot in range(workers):
        slots.put(slot)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        runs = [pool.submit(run_at, slots, name, instant) for name, instant in FROZEN_INSTANTS.items()]
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
