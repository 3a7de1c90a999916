"""The calling process of ``manage.py benchmark``: the fresh database, the CSV files, each measured step in a
child process of its own, then the table.
"""

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from django.conf import settings

from .organisation import Organisation, Size
from .phases import ON_THE_COPY, PHASE_TITLES, PHASES, as_of
from .report import format_details, format_table, machine, measures_of, write_report
from .server import BenchmarkFailed, Server


def _child_environment(database_url: str, workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE=os.environ.get("DJANGO_SETTINGS_MODULE", "uce.settings.local"),
        DEBUG="0",  # DEBUG keeps every query in memory: the import's memory would grow with the file
        UCE_REFRESH_ON_COMMIT="0",  # the benchmark runs refreshes itself; no worker is listening
        UCE_VAR_DIR=str(workdir / "var"),  # the broker's and uploads' folders of the children
        PYTHONUNBUFFERED="1",
    )
    return env


def _run_child(phase: str, workdir: Path, env: dict[str, str]) -> dict:
    command = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "benchmark", "--phase", phase]
    command += ["--workdir", str(workdir)]
    log_path = workdir / f"{phase}.log"
    with open(log_path, "wb") as output:
        completed = subprocess.run(command, env=env, stdout=output, stderr=subprocess.STDOUT, check=False)
    if completed.returncode != 0:
        tail = log_path.read_text(errors="replace")[-4000:]
        raise BenchmarkFailed(f"The benchmark step {phase!r} failed (exit {completed.returncode}):\n{tail}")
    return json.loads((workdir / f"{phase}.json").read_text())


def run(
    size: Size,
    *,
    keep: bool = False,
    report: Path | None = None,
    out: Callable[[str], None] = print,
    as_of_instant: str | None = None,
) -> str:
    """Build the organisation in a fresh database, measure every step, print the table; return the table.

    ``as_of_instant`` (ISO 8601) runs every step as if the clock read it (see :func:`as_of`).
    """
    with as_of(as_of_instant):
        return _run(size, keep=keep, report=report, out=out, as_of_instant=as_of_instant)


def _run(size: Size, *, keep: bool, report: Path | None, out: Callable[[str], None], as_of_instant: str | None) -> str:
    started = time.perf_counter()

    def say(message: str) -> None:
        out(f"[{time.perf_counter() - started:7.1f} s] {message}")

    server = Server.from_settings()
    database = server.create_database()
    workdir = Path(tempfile.mkdtemp(prefix="uce-benchmark-"))
    say(f"created database {database}; files in {workdir}")
    try:
        today = dt.datetime.now(dt.UTC).date()
        say(
            f"writing CSV files: {size.activities:,} activities, {size.pods} pods, {size.accounts:,} accounts, "
            f"{size.months} months"
        )
        generating = time.perf_counter()
        files = Organisation(size, workdir, today).write()
        generation_seconds = time.perf_counter() - generating
        spec = {"size": asdict(size), "today": today.isoformat(), "files": files, "as_of": as_of_instant}
        (workdir / "spec.json").write_text(json.dumps(spec))
        env = _child_environment(server.url_for(database), workdir)
        results = {}
        copy = None
        try:
            for phase in PHASES:
                on_the_copy = phase in ON_THE_COPY
                if on_the_copy and copy is None:
                    # Taken when no step is connected: after setup, before the activities.
                    copy = server.create_database(f"{database}_copy", template=database)
                    say(f"copied the database to {copy}, for the steps that run there")
                elif not on_the_copy and copy is not None:
                    server.drop_database(copy)
                    copy = None
                say(PHASE_TITLES[phase])
                phase_started = time.perf_counter()
                phase_env = _child_environment(server.url_for(copy), workdir) if on_the_copy else env
                results[phase] = _run_child(phase, workdir, phase_env)
                results[phase]["wall_seconds"] = time.perf_counter() - phase_started
        finally:
            if copy is not None:
                server.drop_database(copy)
        measures = measures_of(size, results)
        table = format_table(measures)
        say("done")
        out("")
        out(table)
        details = format_details(size, results, generation_seconds)
        out("")
        out(details)
        if report is not None:
            server_facts = results["setup"]["server"]
            write_report(report, size=size, machine={**machine(), **server_facts}, table=table, details=details)
            out(f"\nWritten to {report}")
        return table
    finally:
        if keep:
            out(f"Kept the database {database} and the files in {workdir}.")
        else:
            server.drop_database(database)
            shutil.rmtree(workdir, ignore_errors=True)
