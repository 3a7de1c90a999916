"""``python manage.py benchmark``: performance at scale, measured against PostgreSQL itself (docs/PERFORMANCE.md).

Builds the organisation in a fresh database on the configured server through the real import path,
measures each step in a child process and prints the table of ratios; the logic is in the
``devtools/benchmark`` package.  ``--phase`` is how the command runs one of those child steps.
"""

import argparse
import datetime as dt
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from devtools import benchmark


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number")
    return value


def instant(text: str) -> str:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError as error:
        message = f"{text!r} is not an ISO 8601 instant such as 2027-03-01T05:30:00+00:00"
        raise argparse.ArgumentTypeError(message) from error
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no UTC offset; add one, e.g. +00:00")
    return moment.isoformat()


class Command(BaseCommand):
    help = (
        "Build a large organisation in a fresh database through the real import path and measure import, "
        "rebuild, incremental refresh and dashboard against PostgreSQL baselines; print the table and write "
        "it to docs/PERFORMANCE.md."
    )

    def add_arguments(self, parser):
        default = benchmark.Size()
        parser.add_argument("--activities", type=positive, default=default.activities, help="default 10,000,000")
        parser.add_argument("--pods", type=positive, default=default.pods, help="default 200")
        parser.add_argument("--accounts", type=positive, default=default.accounts, help="default 100,000")
        parser.add_argument("--months", type=positive, default=default.months, help="of history, default 36")
        parser.add_argument(
            "--requests",
            type=positive,
            default=default.requests,
            help="dashboard requests timed after warm-up, default 20",
        )
        parser.add_argument("--seed", type=int, default=default.seed, help="of the generated data")
        parser.add_argument("--keep", action="store_true", help="keep the database and the CSV files")
        parser.add_argument(
            "--report",
            type=Path,
            default=Path(settings.BASE_DIR) / "docs" / "PERFORMANCE.md",
            help="where the latest run is written (default: docs/PERFORMANCE.md)",
        )
        parser.add_argument("--no-report", action="store_true", help="only print the table")
        parser.add_argument(
            "--as-of",
            type=instant,
            help="run as if the clock read this ISO 8601 instant, e.g. 2027-03-01T05:30:00+00:00 (needs time-machine)",
        )
        # A measured step, run by the benchmark itself in a child process.
        parser.add_argument("--phase", choices=list(benchmark.PHASES), help=argparse.SUPPRESS)
        parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)

    def handle(self, *args, **options):
        if options["phase"]:
            benchmark.run_phase(options["phase"], options["workdir"])
            return
        if options["accounts"] < options["pods"]:
            raise CommandError("Every pod needs an account: --accounts must be at least --pods.")
        size = benchmark.Size(
            activities=options["activities"],
            pods=options["pods"],
            accounts=options["accounts"],
            months=options["months"],
            requests=options["requests"],
            seed=options["seed"],
        )
        try:
            benchmark.run(
                size,
                keep=options["keep"],
                report=None if options["no_report"] else options["report"],
                out=self.stdout.write,
                as_of_instant=options["as_of"],
            )
        except benchmark.BenchmarkFailed as error:
            raise CommandError(str(error)) from error
