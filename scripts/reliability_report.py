"""``make reliability``: run every reliability check, then write docs/RELIABILITY.md from their outputs.

The checks, in order (each one's output is kept in ``test-results/reliability/<step>.log``):

1. the access matrix (``tests/test_access_matrix.py -s``): cells checked, unauthorised 2xx found;
2. API fuzzing (``tests/test_api_fuzz.py``), deeper than in ``make test`` (``UCE_FUZZ_EXAMPLES``);
3. hostile inputs (``tests/test_hostile_input.py``);
4. the fault tests (``tests/faults``, with the broker down for a minute instead of 10 s) and the
   real-worker tests that SIGKILL a worker mid-rebuild and mid-import;
5. the supply chain, as ``make audit`` runs it: bandit (a medium or high finding not marked as reviewed
   fails), then pip-audit of the pinned requirements against PyPI's advisories, and against OSV's when
   PyPI's could not be read;
6. the load test (``scripts/loadtest.py``, two minutes by default: ``LOADTEST_SECONDS``).

Every step runs even if an earlier one failed; the report says which failed, and the exit status is
non-zero if any did.  One outcome is neither a pass nor a failure: pip-audit finding no advisory service it
can read (no network, or a mirror without PyPI's per-release JSON).  The report then says "not run here"
with the exact error, and that alone does not fail the run; a known vulnerability does, and so does a
dependency that is really missing from PyPI.  ``make audit`` itself stays strict (``--strict``): on a
machine with network it is the command that gives the real answer.

The figures are read from what the steps print and from the files they write (pytest's JUnit XML, the
fault tests' JSON, the load test's JSON, pip-audit's JSON) — none is typed in here.
"""

import datetime as dt
import json
import os
import re
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.request
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
# As the Makefile's `audit` target runs them; pip-audit without --strict (a skipped package is judged below) and
# with JSON output, so that findings, skipped packages and an unreachable service can be told apart.
# bandit without --quiet: its summary counts the reviewed (``# nosec``) findings.
BANDIT = [str(VENV_BIN / "bandit"), "-r", "pods", "jobs", "metrics", "devtools", "uce", "-ll"]
PIP_AUDIT = [str(VENV_BIN / "pip-audit"), "-r", "requirements.txt", "--progress-spinner", "off"]
PYPI_JSON = "https://pypi.org/pypi"  # where pip-audit's default service (pypi) reads a release's advisories
# What pip-audit prints when it cannot talk to its service: requests' and pip-audit's own connection errors.
UNREACHABLE = re.compile(
    r"ConnectionError|NameResolutionError|Max retries exceeded|Failed to resolve|Could not connect|ConnectTimeout|"
    r"ReadTimeout|timed out|SSLError|not redirecting|ServiceError|HTTPError",
    re.IGNORECASE,
)

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
    # Set after the run when the exit status alone does not tell: why the check could not be carried out here
    # (not a failure of the code), or what failed although the command exited 0.
    not_run: str | None = None
    failure: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def log(self) -> Path:
        return OUT / f"{self.name}.log"

    @property
    def xml(self) -> Path:
        return OUT / f"{self.name}.xml"

    @property
    def ok(self) -> bool:
        return self.failure is None and (self.returncode == 0 or self.not_run is not None)

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


def pip_audit_step(service: str) -> Step:
    return Step(
        f"pip-audit-{service}",
        f"Supply chain: pip-audit ({service})",
        [*PIP_AUDIT, "--vulnerability-service", service, "--format", "json", "--output",
         str(OUT / f"pip-audit-{service}.json")],
    )  # fmt: skip


# --- pip-audit: findings, or no advisory service reachable -------------------------------------------------


def fetch_error(url: str) -> str | None:
    """Why ``url`` cannot be read (the HTTP status or the connection error), or None when it can."""
    try:
        with urllib.request.urlopen(url, timeout=30):  # noqa: S310 (a fixed https URL)
            return None
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code} {error.reason}"
    except (urllib.error.URLError, OSError) as error:
        return f"{type(error).__name__}: {getattr(error, 'reason', error)}"


def advisories_unreadable(name: str, version: str) -> str | None:
    """Why PyPI's advisories for a release cannot be read although the release exists; None when the release
    is really not on PyPI (no project page, or one that does not list it) or its advisories can be read."""
    project_url, release_url = f"{PYPI_JSON}/{name}/json", f"{PYPI_JSON}/{name}/{version}/json"
    try:
        with urllib.request.urlopen(project_url, timeout=30) as answer:  # noqa: S310 (a fixed https URL)
            releases = json.load(answer).get("releases", {})
    except urllib.error.HTTPError as error:
        return None if error.code == 404 else f"GET {project_url} answered HTTP {error.code} {error.reason}"
    except (urllib.error.URLError, OSError, ValueError) as error:
        return f"GET {project_url} failed: {getattr(error, 'reason', error)}"
    if version not in releases:
        return None
    error = fetch_error(release_url)
    return f"GET {release_url} answered {error}, though {project_url} lists {version}" if error else None


def judge_pip_audit(step: Step) -> None:
    """Tell a clean audit, known vulnerabilities (a failure), a dependency really missing from PyPI (a failure)
    and an advisory service that could not be read (not run here) apart, from pip-audit's JSON and output."""
    report = OUT / f"{step.name}.json"
    output = step.output()
    if not report.exists():
        errors = [line.strip() for line in output.splitlines() if UNREACHABLE.search(line)]
        if errors:
            step.not_run = f"the advisory service could not be reached: `{errors[-1]}`"
        elif step.ok:
            step.failure = "pip-audit wrote no report"
        return
    dependencies = json.loads(report.read_text())["dependencies"]
    vulnerable = [(dep, vuln) for dep in dependencies for vuln in dep.get("vulns", [])]
    step.notes += [
        f"{dep['name']} {dep['version']}: {vuln['id']} ({', '.join(vuln.get('aliases', [])) or 'no alias'}), "
        f"fixed in {', '.join(vuln['fix_versions']) or 'no release yet'}"
        for dep, vuln in vulnerable
    ]
    if vulnerable:
        step.failure = f"{len(vulnerable)} known vulnerabilities"
        return
    skipped = [dep for dep in dependencies if "skip_reason" in dep]
    audited = len(dependencies) - len(skipped)
    looked_up = f"{audited} of {len(dependencies)} packages looked up, {len(skipped)} skipped"
    step.notes.append(looked_up + (", 0 known vulnerabilities" if audited else ""))
    if not skipped:
        return
    causes, missing = [], []
    for dep in skipped:
        release = re.search(r"(\S+) \(([^()]+)\)$", dep["skip_reason"])
        cause = advisories_unreadable(*release.groups()) if release else None
        if cause:
            causes.append(cause)
        else:
            missing.append(dep["skip_reason"])
    if missing:
        step.failure = f"{len(missing)} packages could not be audited: {'; '.join(missing[:3])}"
        return
    step.not_run = (
        f"the advisory service could not be read for {len(skipped)} of {len(dependencies)} packages: pip-audit "
        f"said `{skipped[0]['skip_reason']}`; {causes[0]}"
        + (f" (and likewise for the other {len(causes) - 1})" if len(causes) > 1 else "")
    )


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
    found += [
        Step("bandit", "Supply chain: bandit", BANDIT),
        pip_audit_step("pypi"),  # followed by the osv service when this one could not look every package up
    ]
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
    if step.failure:
        return f"**FAILED** ({step.failure})"
    if step.not_run:
        return f"not run here: {step.not_run}"
    return "passed" if step.ok else f"**FAILED** (exit {step.returncode})"


def check(step: Step) -> str:
    """The step's outcome in a word or two, for the summary table (the reasons are in its section)."""
    if step.failure:
        return "**FAILED**"
    return "not run here" if step.not_run else status(step)


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
    # One line per role: the figures are the sums over the roles.
    examples = [int(n) for line in summary for n in re.findall(r"(\d+) examples", line)]
    errors = [int(n) for line in summary for n in re.findall(r"(\d+) server errors?", line)]
    if examples and len(errors) == len(examples):
        figure = f"{sum(examples)} examples over {len(examples)} roles, {sum(errors)} server errors"
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
        f"- Lag from an activity logged (`POST /api/activities/` answered) to the metrics API counting it (the "
        f"dashboard renders the same snapshots, `metrics.selectors.pod_metric_series`): "
        f"median **{load['lag_median_seconds']} s**, max **{load['lag_max_seconds']} s** over "
        f"{load['lag_samples']} samples ({load['lag_not_shown']} not shown within 90 s).",
        "- The machine is shared with the load generator and the database (2 cores): latencies are an upper "
        "bound of what the application needs, not a capacity figure.",
    ]
    if any(row["name"] == "sign in" for row in load["requests"]):
        body.append(
            "- `sign in`: every leader signs in during the first second (locust spawns them all at once), and each "
            "sign-in hashes the password with Django's PBKDF2 on purpose slowly: a burst queued on 2 cores, not "
            "the steady state."
        )
    held = "held" if step.ok else "not held"
    total = load["requests"][-1]
    figure = f"{held}: {total['requests']} requests, {load['error_rate']:.2%} errors, p95 {total['p95_ms']:.0f} ms"
    lag = f"median {load['lag_median_seconds']} s, max {load['lag_max_seconds']} s"
    return body, figure, lag


def bandit_section(step: Step) -> tuple[list[str], str]:
    """Medium and high findings left (each fails the step) and those marked reviewed (``# nosec``)."""
    output = step.output()
    severity = re.search(r"Total issues \(by severity\):(.*?)Total issues \(by confidence\)", output, re.DOTALL)
    counts = dict(re.findall(r"(Low|Medium|High): (\d+)", severity[1])) if severity else {}
    reviewed = re.search(r"skipped due to specifically being disabled.*?: (\d+)", output)
    issues = [
        (block.splitlines()[0], location[1])
        for block in output.split(">> Issue: ")[1:]
        if (location := re.search(r"^\s*Location: (\S+)", block, re.MULTILINE))
    ]
    if counts:
        figure = (
            f"{int(counts.get('Medium', 0)) + int(counts.get('High', 0))} medium or high findings unreviewed, "
            f"{reviewed[1] if reviewed else '?'} reviewed (`# nosec`)"
        )
    else:
        figure = "no summary printed"
    body = [f"- Result: {status(step)} — {figure}."]
    body += [f"- Finding: `{location}` {issue}" for issue, location in issues]
    return body, figure


def pip_audit_sections(runs: list[Step]) -> tuple[list[str], str, Step]:
    """The pip-audit runs (PyPI's service, then OSV's when needed) and the figure of the one that counts: the
    first that looked every package up, else a failing one, else the reasons none could be carried out."""
    body = []
    for step in runs:
        body += [f"- `{step.name}`: {status(step)}."]
        body += [f"  - {note}" for note in step.notes]
        body += [f"  - Command: `{step.shown()}` ({step.seconds:.0f} s)"]
    deciding = next((step for step in runs if step.ok and not step.not_run), None)
    deciding = deciding or next((step for step in runs if not step.ok), None)
    if deciding:
        service = deciding.name.removeprefix("pip-audit-")
        figure = f"{deciding.notes[-1]} (service: {service})"
        if not deciding.ok:
            figure = "; ".join([deciding.failure or f"exit {deciding.returncode}", *deciding.notes])
        return body, figure, deciding
    reasons = "; ".join(f"{step.name.removeprefix('pip-audit-')}: {step.not_run}" for step in runs)
    return body, f"not run here: {reasons}", runs[-1]


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
    body, figure = bandit_section(by_name["bandit"])
    add("Supply chain: bandit", by_name["bandit"], body)
    summary.append(("bandit: medium or high findings", figure, by_name["bandit"]))
    audits = [step for step in ran if step.name.startswith("pip-audit-")]
    body, figure, deciding = pip_audit_sections(audits)
    sections.extend(["## Supply chain: pip-audit", "", *body, "", *PIP_AUDIT_NOTE, ""])
    summary.append(("pip-audit: known vulnerabilities", figure, deciding))
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
    lines += [f"| {label} | {value} | {check(step)} | `{step.shown()}` |" for label, value, step in summary]
    lines += ["", *sections]
    REPORT.write_text("\n".join(lines).rstrip() + "\n")


PIP_AUDIT_NOTE = [
    "pip-audit runs here without `--strict` and with JSON output so that the report can tell a finding from a "
    "service it could not read; `make audit` runs it with `--strict`, which fails in both cases. On a machine "
    "that reaches pypi.org's JSON API (or api.osv.dev), `make audit` is the real answer: see docs/SECURITY.md.",
]


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for stale in OUT.glob("**/*"):
        if stale.is_file():
            stale.unlink()
    ran = []
    for step in steps():
        step.run()
        ran.append(step)
        if step.name.startswith("pip-audit-"):
            judge_pip_audit(step)
            print(f"--- {step.name}: {status(step)}", flush=True)
            if step.not_run and step.name == "pip-audit-pypi":
                fallback = pip_audit_step("osv")
                fallback.run()
                judge_pip_audit(fallback)
                print(f"--- {fallback.name}: {status(fallback)}", flush=True)
                ran.append(fallback)
    write_report(ran)
    failed = [step.title for step in ran if not step.ok]
    outcome = f"FAILED: {', '.join(failed)}." if failed else "Every check passed."
    print(f"\nWrote {REPORT.relative_to(ROOT)}. {outcome}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
