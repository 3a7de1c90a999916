"""``make reliability``: run every reliability check, then write docs/RELIABILITY.md from their outputs.

The checks, in order (each one's output is kept in ``test-results/reliability/<step>.log``):

1. the access matrix (``tests/test_access_matrix.py -s``): cells checked, unauthorised 2xx found;
2. API fuzzing (``tests/test_api_fuzz.py``), deeper than in ``make test`` (``UCE_FUZZ_EXAMPLES``);
3. hostile inputs (``tests/test_hostile_input.py``);
4. the fault tests (``tests/faults``, with the broker down for a minute instead of 10 s) and the
   real-worker tests that SIGKILL a worker mid-rebuild and mid-import;
5. ``make audit``, when the Makefile has that target;
6. the load test (``scripts/loadtest.py``, two minutes by default: ``LOADTEST_SECONDS``).

Every step runs even if an earlier one failed; the report says which failed, and the exit status is
non-zero if any did.  The figures are read from what the steps print and from the files they write
(pytest's JUnit XML, the fault tests' JSON, the load test's JSON) — none is typed in here.
"""

import datetime as dt
import json
import os
import re
import shlex
import subprocess
import sys
import time
import xml.etree.ElementTree as ET  # noqa: S405 (our own pytest's report)
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "test-results" / "reliability"
REPORT = ROOT / "docs" / "RELIABILITY.md"
VENV_BIN = Path(sys.executable).parent
PYTEST = [str(VENV_BIN / "pytest"), "-q", "-p", "no:cacheprovider"]
# The SIGKILL tests live with the real-worker tests of their app; the rest of those files is not about faults.
KILL_TESTS = [
    "tests/metrics/test_real_worker.py::test_a_worker_killed_mid_rebuild_loses_and_doubles_nothing",
    "tests/jobs/imports/test_real_worker.py",
]

FAULTS = {
    "test_a_broker_outage_serves_stale_snapshots_keeps_writes_and_loses_no_work": (
        "Broker (Redis) stopped, then started again",
        "dashboard and metrics API answer 200 from the last snapshots, marked stale; activities logged meanwhile "
        "are saved without an error; a task queued before the stop and one running during it complete; "
        "the worker reconnects; after a beat tick every activity is shown; snapshots equal a clean rebuild",
    ),
    "test_a_postgres_restart_mid_refresh_shows_no_partial_snapshot_and_the_task_retries": (
        "PostgreSQL restarted (`pg_ctl restart -m fast`) while a refresh writes snapshots",
        "no reader ever sees part of a batch updated; the dirty marks survive; the task retries and "
        "completes; snapshots equal a clean rebuild",
    ),
    "test_a_worker_killed_mid_rebuild_loses_and_doubles_nothing": (
        "Worker SIGKILLed mid-rebuild (tests/metrics/test_real_worker.py)",
        "the killed transaction rolls back; another worker drains every dirty period; snapshots equal a clean rebuild",
    ),
    "test_a_worker_killed_mid_import_leaves_nothing_and_the_import_completes_later": (
        "Worker SIGKILLed mid-import of 200,000 rows (tests/jobs/imports/test_real_worker.py)",
        "nothing of the import is visible after the kill; the redelivered task imports every row once",
    ),
    "test_a_refresh_delivered_twice_at_once_and_again_later_equals_one_refresh": (
        "Refresh task delivered twice at once, and again later",
        "snapshots equal a clean rebuild; every activity counted once; the late delivery does nothing",
    ),
    "test_a_recomputation_delivered_twice_at_once_and_again_later_equals_one": (
        "Recompute task delivered twice at once, and again later",
        "the request succeeds once; snapshots equal a clean rebuild; the late delivery recomputes nothing",
    ),
    "test_an_import_delivered_twice_at_once_and_again_later_writes_its_rows_once": (
        "Import task delivered twice at once, and again later",
        "every row written once; the second delivery is busy (retried) or a no-op",
    ),
}


@dataclass
class Step:
    name: str
    title: str
    command: list[str]
    env: dict = field(default_factory=dict)
    junit: bool = False
    returncode: int | None = None
    seconds: float = 0.0

    @property
    def log(self) -> Path:
        return OUT / f"{self.name}.log"

    @property
    def xml(self) -> Path:
        return OUT / f"{self.name}.xml"

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def shown(self) -> str:
        """The command as one would type it from the project folder."""

        def relative(word: str) -> str:
            return word.replace(str(ROOT) + "/", "")

        assignments = [f"{key}={relative(value)}" for key, value in self.env.items()]
        return " ".join([*assignments, *(shlex.quote(relative(word)) for word in self.command)])

    def run(self) -> None:
        command = self.command + ([f"--junitxml={self.xml}"] if self.junit else [])
        print(f"\n=== {self.title}: {self.shown()}", flush=True)
        started = time.monotonic()
        with open(self.log, "w") as log:
            process = subprocess.Popen(command, cwd=ROOT, env=os.environ | self.env, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True)  # fmt: skip
            for line in process.stdout:
                sys.stdout.write(line)
                log.write(line)
            self.returncode = process.wait()
        self.seconds = time.monotonic() - started

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def cases(self) -> dict[str, str]:
        """Each test of the step and its outcome (passed, failed, error, skipped), from the JUnit XML."""
        if not self.xml.exists():
            return {}
        outcomes = {}
        for case in ET.parse(self.xml).iter("testcase"):  # noqa: S314 (written by our own pytest run)
            outcome = "passed"
            for child in case:
                if child.tag in ("failure", "error", "skipped"):
                    outcome = {"failure": "failed"}.get(child.tag, child.tag)
            outcomes[case.get("name")] = outcome
        return outcomes

    def counts(self) -> str:
        cases = self.cases()
        if not cases:
            return "no tests ran"
        tally: dict[str, int] = {}
        for outcome in cases.values():
            tally[outcome] = tally.get(outcome, 0) + 1
        return ", ".join(f"{count} {outcome}" for outcome, count in sorted(tally.items()))


def has_make_target(target: str) -> bool:
    makefile = (ROOT / "Makefile").read_text()
    return re.search(rf"^{re.escape(target)}\s*:", makefile, re.MULTILINE) is not None


def steps() -> list[Step]:
    load_seconds = os.environ.get("LOADTEST_SECONDS", "120")
    fault_env = {"UCE_FAULTS_BROKER_DOWN_SECONDS": os.environ.get("UCE_FAULTS_BROKER_DOWN_SECONDS", "60")}
    found = [
        Step("access", "Access matrix", [*PYTEST, "-s", "tests/test_access_matrix.py"], junit=True),
        Step(
            "fuzz",
            "API fuzzing",
            [*PYTEST, "-s", "tests/test_api_fuzz.py"],
            env={"UCE_FUZZ_EXAMPLES": os.environ.get("UCE_FUZZ_EXAMPLES", "20")},
            junit=True,
        ),  # fmt: skip
        Step("hostile", "Hostile inputs", [*PYTEST, "-s", "tests/test_hostile_input.py"], junit=True),
        Step(
            "faults",
            "Faults",
            [*PYTEST, "tests/faults", *KILL_TESTS],
            env=fault_env | {"UCE_RELIABILITY_DIR": str(OUT)},
            junit=True,
        ),
    ]
    if has_make_target("audit"):
        found.append(Step("audit", "Supply chain (make audit)", ["make", "--no-print-directory", "audit"]))
    found.append(
        Step(
            "load",
            "Load",
            [
                sys.executable,
                str(ROOT / "scripts" / "loadtest.py"),
                "--duration",
                load_seconds,
                "--json",
                str(OUT / "load.json"),
            ],
        )  # fmt: skip
    )
    return found


# --- The report ----------------------------------------------------------------------------------------


def status(step: Step) -> str:
    return "passed" if step.ok else f"**FAILED** (exit {step.returncode})"


def summary_lines(text: str, prefix: str) -> list[str]:
    """Lines a test printed as its own summary, like ``access matrix: ... cells checked``: they start with
    ``prefix`` (any case) and hold a figure."""
    pattern = re.compile(rf"^[ \t]*{prefix}.*\d.*$", re.IGNORECASE | re.MULTILINE)
    return list(dict.fromkeys(match.group(0).strip() for match in pattern.finditer(text)))


def access_section(step: Step) -> tuple[list[str], str]:
    summary = summary_lines(step.output(), "access matrix:")
    match = re.search(r"(\d+) cells checked.*?unauthorised 2xx found: (\d+)", summary[-1]) if summary else None
    figure = f"{match[1]} cells, {match[2]} unauthorised 2xx" if match else "no summary printed"
    body = [f"- Result: {status(step)} — tests {step.counts()}."]
    body += [f"- Printed: `{line}`" for line in summary[-1:]]
    return body, figure


def fuzz_section(step: Step) -> tuple[list[str], str]:
    summary = summary_lines(step.output(), r"(api )?fuzz\w*:")
    body = [f"- Result: {status(step)} — tests {step.counts()} (a 5xx response fails its test)."]
    body += [f"- Printed: `{line}`" for line in summary]
    examples = re.search(r"(\d+) examples", " ".join(summary))
    errors = re.search(r"(\d+) server errors?", " ".join(summary))
    if examples or errors:
        figure = f"{examples[1] if examples else '?'} examples, {errors[1] if errors else '?'} server errors"
    else:
        figure = f"tests {step.counts()}; " + ("0 server errors" if step.ok else "see log")
    return body, figure


def hostile_section(step: Step) -> tuple[list[str], str]:
    cases = step.cases()
    refused = sum(outcome == "passed" for outcome in cases.values())
    summary = summary_lines(step.output(), r"hostile[\w ]*:")
    body = [f"- Result: {status(step)} — tests {step.counts()}; each passing test is a hostile input refused."]
    body += [f"- Printed: `{line}`" for line in summary]
    figure = f"{refused} of {len(cases)} refused" if cases else "no tests ran"
    return body, figure


def fault_figures() -> dict[str, dict]:
    folder = OUT / "faults"
    return {path.stem: json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))}


def faults_section(step: Step) -> tuple[list[str], str, str]:
    cases = step.cases()
    figures = fault_figures()
    body = [
        f"- Result: {status(step)} — tests {step.counts()}.",
        "",
        "| Fault | What must hold | Outcome | Measured |",
        "| --- | --- | --- | --- |",
    ]
    survived = 0
    for name, (fault, must_hold) in FAULTS.items():
        outcome = cases.get(name, "not run")
        survived += outcome == "passed"
        measured = "; ".join(f"{key.replace('_', ' ')}: {value}" for key, value in figures.get(name, {}).items())
        body.append(f"| {fault} | {must_hold} | {outcome} | {measured or '—'} |")
    lost = rows_lost(cases, figures)
    body += ["", f"- Rows lost: **{lost}** (must be 0)."]
    return body, f"{survived} of {len(FAULTS)} survived", lost


def rows_lost(cases: dict, figures: dict) -> str:
    """Rows written and then missing, over the fault tests that count them; unknown if one of them failed."""
    counted = [
        "test_a_broker_outage_serves_stale_snapshots_keeps_writes_and_loses_no_work",
        "test_an_import_delivered_twice_at_once_and_again_later_writes_its_rows_once",
        "test_a_worker_killed_mid_import_leaves_nothing_and_the_import_completes_later",
    ]
    if any(cases.get(name) != "passed" for name in counted):
        return "unknown (a test that counts them did not pass)"
    broker = figures.get(counted[0], {}).get("rows_lost", 0)
    imported = figures.get(counted[1], {})
    # The SIGKILL import test asserts that all 200,000 rows are there; it passed, so none is missing.
    return str(broker + imported.get("import_rows", 0) - imported.get("import_rows_stored", 0))


def load_section(step: Step) -> tuple[list[str], str, str]:
    path = OUT / "load.json"
    if not path.exists():
        return [f"- Result: {status(step)} — no figures written; see `{step.log.relative_to(ROOT)}`."], "—", "—"
    load = json.loads(path.read_text())
    body = [
        f"- Result: {status(step)} — {load['leaders']} leaders reading dashboards and {load['staff']} staff "
        f"logging activities for {load['duration_seconds']} s, plus one lag probe; gunicorn with "
        f"{load['web_workers']} workers and a Celery worker with beat on 127.0.0.1, demo data at scale "
        f"{load['seed_scale']}.",
        "",
        "| Request | Count | Errors | p50 ms | p95 ms | p99 ms | req/s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in load["requests"]:
        body.append(
            f"| {row['name']} | {row['requests']} | {row['failures']} | {row['p50_ms']:.0f} | {row['p95_ms']:.0f} "
            f"| {row['p99_ms']:.0f} | {row['requests_per_second']:.1f} |"
        )
    body += [
        "",
        f"- Error rate: **{load['error_rate']:.3%}** (the run fails above 1 %).",
        f"- Lag from an activity logged (`POST /api/activities/` answered) to the metrics API counting it: "
        f"median **{load['lag_median_seconds']} s**, max **{load['lag_max_seconds']} s** over "
        f"{load['lag_samples']} samples ({load['lag_not_shown']} not shown within 90 s).",
        "- The machine is shared with the load generator and the database (2 cores): latencies are an upper "
        "bound of what the application needs, not a capacity figure.",
    ]
    held = "held" if step.ok else "not held"
    total = load["requests"][-1]
    figure = f"{held}: {total['requests']} requests, {load['error_rate']:.2%} errors, p95 {total['p95_ms']:.0f} ms"
    lag = f"median {load['lag_median_seconds']} s, max {load['lag_max_seconds']} s"
    return body, figure, lag


def audit_section(step: Step) -> list[str]:
    summary = [
        line
        for line in step.output().splitlines()
        if re.search(r"vulnerab|no issues|issues identified|found \d+|^Total|severity", line, re.IGNORECASE)
    ]
    return [f"- Result: {status(step)}."] + [f"- Printed: `{line.strip()}`" for line in summary[-6:]]


def git_revision() -> str:
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    revision = git("rev-parse", "--short", "HEAD") or "unknown"
    return revision + (" with uncommitted changes" if git("status", "--porcelain") else "")


def write_report(ran: list[Step]) -> None:
    by_name = {step.name: step for step in ran}
    sections, summary = [], []

    def add(title: str, step: Step, body: list[str]):
        sections.extend([f"## {title}", "", *body, f"- Command: `{step.shown()}` ({step.seconds:.0f} s)", ""])

    body, figure = access_section(by_name["access"])
    add("Access matrix", by_name["access"], body)
    summary.append(("Access-matrix cells tested, unauthorised 2xx", figure, by_name["access"]))
    body, figure = fuzz_section(by_name["fuzz"])
    add("API fuzzing", by_name["fuzz"], body)
    summary.append(("Fuzz examples, server errors", figure, by_name["fuzz"]))
    body, figure = hostile_section(by_name["hostile"])
    add("Hostile inputs", by_name["hostile"], body)
    summary.append(("Hostile inputs refused", figure, by_name["hostile"]))
    body, figure, lost = faults_section(by_name["faults"])
    add("Faults", by_name["faults"], body)
    summary.append(("Faults survived", figure, by_name["faults"]))
    summary.append(("Rows lost (must be 0)", lost, by_name["faults"]))
    if "audit" in by_name:
        add("Supply chain", by_name["audit"], audit_section(by_name["audit"]))
        summary.append(("Supply-chain audit", status(by_name["audit"]), by_name["audit"]))
    body, figure, lag = load_section(by_name["load"])
    add("Load", by_name["load"], body)
    summary.append(("Load held", figure, by_name["load"]))
    summary.append(("Lag, activity logged → dashboard", lag, by_name["load"]))

    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Reliability",
        "",
        f"Written by `make reliability` ({Path(__file__).relative_to(ROOT)}) on {when}, revision "
        f"{git_revision()}, on a machine with {os.cpu_count()} cores. Each figure below comes from the output "
        f"of the command shown with it; the full outputs are in `{OUT.relative_to(ROOT)}/`.",
        "",
        "| Figure | Value | Check | Command |",
        "| --- | --- | --- | --- |",
    ]
    lines += [f"| {label} | {value} | {status(step)} | `{step.shown()}` |" for label, value, step in summary]
    lines += ["", *sections]
    REPORT.write_text("\n".join(lines).rstrip() + "\n")


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for stale in OUT.glob("**/*"):
        if stale.is_file():
            stale.unlink()
    ran = steps()
    for step in ran:
        step.run()
    write_report(ran)
    failed = [step.title for step in ran if not step.ok]
    outcome = f"FAILED: {', '.join(failed)}." if failed else "Every check passed."
    print(f"\nWrote {REPORT.relative_to(ROOT)}. {outcome}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
