"""Performance at scale: a large organisation built through the real import path in a fresh database,
each part of the product timed against what PostgreSQL does with the same data by hand.

``python manage.py benchmark`` calls :func:`run`.  The calling process does only what is not
measured: it creates a database on the configured server, streams the CSV files to a temporary
directory, runs the measured steps and prints the table.  Every measured step is a child process
of its own (``manage.py benchmark --phase NAME``, :func:`run_phase`) with ``DATABASE_URL``
pointing at the fresh database, so each step's peak memory is its own and no step warms Python
caches for the next.  What each bar means and why each baseline is fair: ``docs/PERFORMANCE.md``.
"""

import bisect
import csv
import datetime as dt
import json
import logging
import os
import platform
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import zoneinfo
from collections.abc import Callable
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import DatabaseError, connection, transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import include, path, reverse

from pods.choices import BUYING_JOB_ORDER

from .demo import MINUTES  # how long each kind of activity takes, as in the demo

# ---------------------------------------------------------------------------------------------------------------
# Sizes and the shape of the generated organisation
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Size:
    """How large the organisation is, and how many dashboard requests are timed."""

    activities: int = 10_000_000
    pods: int = 200
    accounts: int = 100_000
    months: int = 36
    requests: int = 20
    seed: int = 1

    @property
    def command(self) -> str:
        """The command that reproduces this run."""
        default = Size()
        parts = ["python manage.py benchmark"]
        for name in ("activities", "pods", "accounts", "months", "requests", "seed"):
            value = getattr(self, name)
            if value != getattr(default, name) or name in ("activities", "pods", "accounts", "months"):
                parts.append(f"--{name} {value}")
        return " ".join(parts)


# Other facts, as a share of the activities: enough that every metric family has real work to do.
FACT_SHARES = {"leads": 0.05, "opportunities": 0.05, "tickets": 0.05, "orders": 0.01, "adoption": 0.01}
STAFF_PER_POD_AND_JOB = 2
CONTACT_SHARE = 0.3  # activities naming the account's contact
MEMORY_CHECK_DIVISOR = 10  # "import memory flat": N / 10 rows against N rows
INCREMENTAL_ACTIVITIES = 1_000
INCREMENTAL_PODS = 10  # one month each: at most 10 pod-months
ON_THE_FLY_REQUESTS = 3
WORK_MEM = "64MB"  # what the engine sets for its own statements; the hand-written GROUP BY gets the same

# (IANA zone, region) of the pods, cycled.
REGIONS = (
    ("America/New_York", "Southeast US"),
    ("America/Chicago", "Central US"),
    ("America/Denver", "Mountain US"),
    ("America/Los_Angeles", "West US"),
    ("America/Sao_Paulo", "Brazil"),
    ("Europe/London", "UK & Ireland"),
    ("Europe/Berlin", "DACH"),
    ("Europe/Paris", "France"),
    ("Asia/Kolkata", "India"),
    ("Asia/Singapore", "Southeast Asia"),
    ("Asia/Tokyo", "Japan"),
    ("Australia/Sydney", "ANZ"),
)
SEGMENTS = ("enterprise", "mid-market", "smb")
PERSONAS = ("end_user", "champion", "executive")
CHANNELS = ("digital", "in_person", "partner")
# Learn is the busiest job; buy and support follow (shares of all activities).
JOB_WEIGHTS = {"learn": 0.38, "buy": 0.2, "order_install": 0.1, "adopt": 0.16, "support": 0.16}
# Channel mix (digital, in_person, partner) per job, and the kinds each (job, channel) produces.
CHANNEL_MIX = {
    "learn": (0.78, 0.16, 0.06),
    "buy": (0.3, 0.6, 0.1),
    "order_install": (0.3, 0.5, 0.2),
    "adopt": (0.55, 0.37, 0.08),
    "support": (0.68, 0.26, 0.06),
}
KINDS = {
    ("learn", "digital"): ("website_visit", "content_download", "webinar", "email"),
    ("learn", "in_person"): ("call", "event", "meeting"),
    ("learn", "partner"): ("event", "meeting"),
    ("buy", "digital"): ("email", "demo", "proposal"),
    ("buy", "in_person"): ("meeting", "demo", "call", "proposal", "negotiation"),
    ("buy", "partner"): ("meeting", "proposal"),
    ("order_install", "digital"): ("email", "onboarding"),
    ("order_install", "in_person"): ("installation", "onboarding", "meeting"),
    ("order_install", "partner"): ("installation", "onboarding"),
    ("adopt", "digital"): ("training", "email", "webinar"),
    ("adopt", "in_person"): ("training", "meeting"),
    ("adopt", "partner"): ("training",),
    ("support", "digital"): ("ticket", "email"),
    ("support", "in_person"): ("health_check", "call"),
    ("support", "partner"): ("health_check",),
}
NOTES = (
    "New stakeholder from finance joined the thread",
    "Asked for pricing, ROI calculator and references",
    'Wants a "quick win" before the renewal',
    "Came back after the partner event",
)
REJECTION_REASONS = ("no budget", "no decision-maker engaged", "timing: next fiscal year", "duplicate")

HMS = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]


def _offset_text(zone: str, day: dt.date) -> str:
    """The zone's UTC offset on ``day`` as ISO 8601 (``-05:00``): CRM exports write local time with an offset."""
    offset = zoneinfo.ZoneInfo(zone).utcoffset(dt.datetime(day.year, day.month, day.day))
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


class Organisation:
    """Writes the CSV files of one organisation, a row at a time (nothing large is held in memory).

    Account ``i`` belongs to pod ``i % pods``; a fifth of all facts go to the busiest 5% of the
    accounts.  Timestamps fall over ``months`` months before today (mostly in business hours),
    written as local wall-clock time with the pod's UTC offset.
    """

    def __init__(self, size: Size, directory: Path, today: dt.date):
        self.size, self.directory = size, directory
        self.rng = random.Random(size.seed)
        self.first_day = today - dt.timedelta(days=round(size.months * 365.25 / 12))
        # Wall-clock days before yesterday: whatever the offset, no instant lies in the future.
        self.days = max(1, (today - self.first_day).days - 1)
        self.day_text = [(self.first_day + dt.timedelta(days=d)).isoformat() for d in range(self.days)]
        self.pods = []
        for index in range(size.pods):
            zone, region = REGIONS[index % len(REGIONS)]
            slug = f"pod-{index + 1:03d}"
            self.pods.append((slug, f"{region} {index // len(REGIONS) + 1}", zone, _offset_text(zone, self.first_day)))
        self.hot_accounts = max(1, size.accounts // 20)

    # --- building blocks ---

    def _account(self) -> int:
        rng = self.rng
        return rng.randrange(self.hot_accounts) if rng.random() < 0.2 else rng.randrange(self.size.accounts)

    def _moment(self) -> int:
        """Seconds after the first day's local midnight: 80% in business hours (08:00-18:00)."""
        rng = self.rng
        second = 28_800 + rng.randrange(36_000) if rng.random() < 0.8 else rng.randrange(86_400)
        return rng.randrange(self.days) * 86_400 + second

    def _instant(self, moment: int, pod: int) -> str:
        day, second = divmod(moment, 86_400)
        return f"{self.day_text[day]}T{HMS[second]}{self.pods[pod][3]}"

    def _in_window(self, moment: int) -> bool:
        return moment < self.days * 86_400

    def _writer(self, name: str, header: list[str]):
        handle = open(self.directory / f"{name}.csv", "w", newline="", encoding="utf-8")  # noqa: SIM115
        writer = csv.writer(handle)
        writer.writerow(header)
        return handle, writer

    def _count(self, kind: str) -> int:
        return max(1, int(self.size.activities * FACT_SHARES[kind]))

    # --- files ---

    def write(self) -> dict[str, dict[str, Any]]:
        """Write every file; ``{kind: {"path", "rows"}}``."""
        files = {}
        for kind, writer in (
            ("pods", self.write_pods),
            ("staff", self.write_staff),
            ("accounts", self.write_accounts),
            ("contacts", self.write_contacts),
            ("leads", self.write_leads),
            ("opportunities", self.write_opportunities),
            ("orders", self.write_orders),
            ("adoption", self.write_adoption),
            ("tickets", self.write_tickets),
            ("activities", self.write_activities),
        ):
            rows = writer()
            files[kind] = {"path": str(self.directory / f"{kind}.csv"), "rows": rows}
        small = self.size.activities // MEMORY_CHECK_DIVISOR
        files["activities_small"] = {"path": str(self.directory / "activities_small.csv"), "rows": small}
        return files

    def write_pods(self) -> int:
        handle, writer = self._writer("pods", ["slug", "name", "timezone", "territory", "leaders"])
        with handle:
            for slug, name, zone, _ in self.pods:
                writer.writerow([slug, name, zone, f"{zone.split('/')[-1].replace('_', ' ')} area", f"lead-{slug}"])
        return len(self.pods)

    def write_staff(self) -> int:
        started_on = (self.first_day - dt.timedelta(days=30)).isoformat()
        handle, writer = self._writer("staff", ["username", "full_name", "email", "pod", "job", "started_on"])
        rows = 0
        with handle:
            for slug, *_ in self.pods:
                for job in BUYING_JOB_ORDER:
                    for number in range(1, STAFF_PER_POD_AND_JOB + 1):
                        username = f"{slug}.{job}.{number}"
                        full_name = f"{job.replace('_', ' ').title()} {number} of {slug}"
                        writer.writerow([username, full_name, f"{username}@example.com", slug, job, started_on])
                        rows += 1
        return rows

    def write_accounts(self) -> int:
        handle, writer = self._writer("accounts", ["external_id", "name", "pod", "segment"])
        with handle:
            for index in range(self.size.accounts):
                pod = self.pods[index % self.size.pods][0]
                writer.writerow([f"ACC-{index:07d}", f"Customer {index:07d} Inc.", pod, SEGMENTS[index % 3]])
        return self.size.accounts

    def write_contacts(self) -> int:
        handle, writer = self._writer("contacts", ["external_id", "account", "name", "email", "persona"])
        with handle:
            for index in range(self.size.accounts):
                writer.writerow([f"CON-{index:07d}", f"ACC-{index:07d}", f"Contact {index}", "", PERSONAS[index % 3]])
        return self.size.accounts

    def write_leads(self) -> int:
        rng, count = self.rng, self._count("leads")
        header = ["external_id", "account", "created_at", "channel", "status", "decided_at", "rejection_reason"]
        handle, writer = self._writer("leads", header)
        with handle:
            for number in range(count):
                account = self._account()
                pod = account % self.size.pods
                created = self._moment()
                decided = created + rng.randrange(3_600, 21 * 86_400)
                roll = rng.random()
                status = "accepted" if roll < 0.7 else "rejected"
                if roll < 0.15 or not self._in_window(decided):
                    status = "open"
                writer.writerow(
                    [
                        f"LEAD-{number:08d}",
                        f"ACC-{account:07d}",
                        self._instant(created, pod),
                        rng.choices(CHANNELS, (0.6, 0.25, 0.15))[0],
                        status,
                        "" if status == "open" else self._instant(decided, pod),
                        rng.choice(REJECTION_REASONS) if status == "rejected" else "",
                    ]
                )
        return count

    def write_opportunities(self) -> int:
        rng, count = self.rng, self._count("opportunities")
        header = ["external_id", "account", "name", "amount", "created_at", "status", "closed_at"]
        handle, writer = self._writer("opportunities", header)
        with handle:
            for number in range(count):
                account = self._account()
                pod = account % self.size.pods
                created = self._moment()
                closed = created + rng.randrange(7 * 86_400, 150 * 86_400)
                roll = rng.random()
                status = "open" if roll < 0.25 or not self._in_window(closed) else "won" if roll < 0.6 else "lost"
                writer.writerow(
                    [
                        f"OPP-{number:08d}",
                        f"ACC-{account:07d}",
                        f"Deal {number}",
                        f"{rng.randrange(100_000, 25_000_000) / 100:.2f}",
                        self._instant(created, pod),
                        status,
                        "" if status == "open" else self._instant(closed, pod),
                    ]
                )
        return count

    def write_orders(self) -> int:
        rng, count = self.rng, self._count("orders")
        handle, writer = self._writer("orders", ["external_id", "account", "ordered_at", "installed_at", "seats"])
        with handle:
            for number in range(count):
                account = self._account()
                pod = account % self.size.pods
                ordered = self._moment()
                installed = ordered + rng.randrange(86_400, 45 * 86_400)
                writer.writerow(
                    [
                        f"ORD-{number:08d}",
                        f"ACC-{account:07d}",
                        self._instant(ordered, pod),
                        self._instant(installed, pod) if self._in_window(installed) else "",
                        rng.randrange(5, 500),
                    ]
                )
        return count

    def write_adoption(self) -> int:
        """One reading per account and month at most (the file's key is account and day)."""
        rng = self.rng
        months = max(1, (self.days - 28) // 30)
        count = min(self._count("adoption"), self.size.accounts * months)
        handle, writer = self._writer("adoption", ["account", "measured_on", "licensed_seats", "active_seats"])
        with handle:
            for number in range(count):
                account, month = number % self.size.accounts, number // self.size.accounts
                licensed = rng.randrange(10, 500)
                day = self.day_text[month * 30 + account % 28]
                writer.writerow([f"ACC-{account:07d}", day, licensed, rng.randrange(0, licensed + 1)])
        return count

    def write_tickets(self) -> int:
        rng, count = self.rng, self._count("tickets")
        header = ["external_id", "account", "opened_at", "resolved_at", "csat", "channel"]
        handle, writer = self._writer("tickets", header)
        with handle:
            for number in range(count):
                account = self._account()
                pod = account % self.size.pods
                opened = self._moment()
                resolved = opened + rng.randrange(600, 240 * 3_600)
                is_resolved = rng.random() < 0.85 and self._in_window(resolved)
                csat = rng.choices((1, 2, 3, 4, 5), (0.05, 0.07, 0.18, 0.4, 0.3))[0] if rng.random() < 0.6 else ""
                writer.writerow(
                    [
                        f"TCK-{number:08d}",
                        f"ACC-{account:07d}",
                        self._instant(opened, pod),
                        self._instant(resolved, pod) if is_resolved else "",
                        csat if is_resolved else "",
                        rng.choices(CHANNELS, (0.7, 0.2, 0.1))[0],
                    ]
                )
        return count

    def write_activities(self) -> int:
        """The large file, and its first tenth again as the small file of the memory check.

        The one loop of the benchmark that runs per row in Python: one ``random()`` per decision and
        precomputed strings keep it at a few microseconds a row.
        """
        size = self.size
        header = ["external_id", "occurred_at", "account", "job", "channel", "kind", "staff", "contact", "minutes"]
        header.append("notes")
        handle, writer = self._writer("activities", header)
        small_handle, small_writer = self._writer("activities_small", header)
        # Every (job, channel, kind) with its probability, picked with one random number.
        combinations, cumulative, total = [], [], 0.0
        for job, job_weight in JOB_WEIGHTS.items():
            for channel, channel_weight in zip(CHANNELS, CHANNEL_MIX[job], strict=True):
                kinds = KINDS[(job, channel)]
                for kind in kinds:
                    span = MINUTES.get(kind) if channel != "digital" else None
                    minutes = (span[0], span[1] - span[0] + 1) if span else None
                    combinations.append((job, channel, kind, minutes))
                    total += job_weight * channel_weight / len(kinds)
                    cumulative.append(total)
        cumulative[-1] = float("inf")
        random_, pods, accounts, hot = self.rng.random, size.pods, size.accounts, self.hot_accounts
        day_text, days, offsets = self.day_text, self.days, [pod[3] for pod in self.pods]
        slugs = [pod[0] for pod in self.pods]
        small_rows = size.activities // MEMORY_CHECK_DIVISOR
        with handle, small_handle:
            for number in range(size.activities):
                account = int(random_() * hot) if random_() < 0.2 else int(random_() * accounts)
                pod = account % pods
                job, channel, kind, minutes = combinations[bisect.bisect(cumulative, random_() * total)]
                second = 28_800 + int(random_() * 36_000) if random_() < 0.8 else int(random_() * 86_400)
                row = (
                    f"ACT-{number:09d}",
                    f"{day_text[int(random_() * days)]}T{HMS[second]}{offsets[pod]}",
                    f"ACC-{account:07d}",
                    job,
                    channel,
                    kind,
                    f"{slugs[pod]}.{job}.{1 + int(random_() * STAFF_PER_POD_AND_JOB)}" if random_() < 0.85 else "",
                    f"CON-{account:07d}" if random_() < CONTACT_SHARE else "",
                    minutes[0] + int(random_() * minutes[1]) if minutes else "",
                    NOTES[int(random_() * len(NOTES))] if random_() < 0.1 else "",
                )
                writer.writerow(row)
                if number < small_rows:
                    small_writer.writerow(row)
        return size.activities


# ---------------------------------------------------------------------------------------------------------------
# The fresh database
# ---------------------------------------------------------------------------------------------------------------


class BenchmarkFailed(Exception):
    """A step of the benchmark failed; the message holds the end of its output."""


class Server:
    """The PostgreSQL server of ``settings.DATABASE_URL`` (a ``DATABASE_URL`` or the embedded server)."""

    def __init__(self, url: str):
        self.url = url

    @classmethod
    def from_settings(cls) -> "Server":
        return cls(settings.DATABASE_URL)

    def url_for(self, database: str) -> str:
        parts = urlsplit(self.url)
        return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))

    def _libpq_url(self, database: str) -> str:
        # Django's URL schemes (postgres://, pgsql://, ...) are not all libpq's.
        parts = urlsplit(self.url_for(database))
        return urlunsplit(("postgresql", parts.netloc, parts.path, parts.query, parts.fragment))

    @contextmanager
    def maintenance_connection(self):
        """An autocommit connection to the server, for CREATE/DROP DATABASE."""
        import psycopg

        configured = urlsplit(self.url).path.lstrip("/")
        problem = None
        for database in dict.fromkeys(name for name in (configured, "postgres", "template1") if name):
            try:
                conn = psycopg.connect(self._libpq_url(database), autocommit=True)
            except psycopg.OperationalError as error:
                problem = error
                continue
            try:
                yield conn
            finally:
                conn.close()
            return
        raise BenchmarkFailed(f"Cannot connect to the PostgreSQL server of DATABASE_URL: {problem}")

    def create_database(self) -> str:
        name = f"uce_bench_{secrets.token_hex(4)}"
        with self.maintenance_connection() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        with self.maintenance_connection() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---------------------------------------------------------------------------------------------------------------
# Measured steps (child processes)
# ---------------------------------------------------------------------------------------------------------------

SETUP_KINDS = ("pods", "staff", "accounts", "contacts", "leads", "opportunities", "orders", "adoption", "tickets")
FACT_TABLES = (
    "jobs_activity",
    "jobs_lead",
    "jobs_opportunity",
    "jobs_order",
    "jobs_adoptionreading",
    "jobs_supportticket",
    "pods_assignment",
)
BARE_TABLE = "benchmark_bare_activity"

# The hand-written baseline of the full rebuild: activities per pod, local month, job and channel.
GROUP_BY_SQL = """
    CREATE TEMPORARY TABLE benchmark_group_by AS
    SELECT a.pod_id, date_trunc('month', a.occurred_at AT TIME ZONE p.timezone)::date AS month, a.job, a.channel,
           count(*) AS activities, count(DISTINCT a.account_id) AS accounts
    FROM jobs_activity a JOIN pods_pod p ON p.id = a.pod_id
    GROUP BY 1, 2, 3, 4
"""


def peak_rss_bytes() -> int:
    """This process's peak resident memory.

    Read from ``VmHWM`` rather than ``getrusage``: on Linux ``ru_maxrss`` of a child keeps the
    peak of the parent it was forked from, which would put the benchmark's own memory into every
    step's figure.
    """
    with suppress(OSError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _checkpoint() -> None:
    """Start a measured step with no dirty buffers of the previous one to write (superusers only; else skipped)."""
    with suppress(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")


def _imported(kind: str, path: str) -> dict[str, Any]:
    from jobs.imports.service import format_error, import_file

    started = time.perf_counter()
    result = import_file(kind, path)
    seconds = time.perf_counter() - started
    if not result.succeeded:
        details = "; ".join(format_error(error) for error in result.errors[:5])
        raise RuntimeError(f"The generated {kind} file was refused ({result.error_count} errors): {details}")
    return {"rows": result.rows, "created": result.created, "seconds": seconds}


def phase_at_rest(spec: dict) -> dict:
    """A Django process that did one query: the floor of every other step's memory."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {}


def phase_setup(spec: dict) -> dict:
    """Migrate, then import everything but the activities through the real import path."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    imports = {kind: _imported(kind, spec["files"][kind]["path"]) for kind in SETUP_KINDS}
    with connection.cursor() as cursor:
        server = {}
        for name in ("server_version", "shared_buffers", "work_mem", "max_wal_size", "synchronous_commit"):
            cursor.execute(f"SHOW {name}")
            server[name] = cursor.fetchone()[0]
    return {"imports": imports, "server": server}


def _bare_columns(header: list[str]) -> list[tuple[str, str]]:
    """The CSV's columns typed like the jobs_activity columns they fill (references as the key they name)."""
    from jobs.models import Activity
    from pods.models import Account, Contact, User

    referenced = {
        "account": Account._meta.get_field("external_id"),
        "staff": User._meta.get_field("username"),
        "contact": Contact._meta.get_field("external_id"),
    }
    return [
        (name, (referenced.get(name) or Activity._meta.get_field(name)).db_type(connection) or "text")
        for name in header
    ]


def phase_copy(spec: dict) -> dict:
    """The baseline of the import: COPY of the same file into a bare table with the same columns."""
    file = spec["files"]["activities"]["path"]
    with open(file, encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    columns = _bare_columns(header)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {BARE_TABLE}")
        cursor.execute(f"CREATE TABLE {BARE_TABLE} ({', '.join(f'{name} {kind}' for name, kind in columns)})")
    _checkpoint()
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        copy_sql = f"COPY {BARE_TABLE} ({', '.join(header)}) FROM STDIN (FORMAT csv, HEADER true)"
        # psycopg queues what is written for a sending thread: small chunks keep that queue small.
        with cursor.cursor.copy(copy_sql) as copy, open(file, "rb") as data:
            while chunk := data.read(1 << 15):
                copy.write(chunk)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {BARE_TABLE}")  # noqa: S608 (a constant)  # nosec B608 # a constant of this module
        (rows,) = cursor.fetchone()
        cursor.execute(f"DROP TABLE {BARE_TABLE}")
    return {"seconds": seconds, "rows": rows, "columns": [f"{name} {kind}" for name, kind in columns]}


def phase_import_small(spec: dict) -> dict:
    """The memory check's small import (N / 10 rows), rolled back so the large one starts from the same state."""
    _checkpoint()
    with transaction.atomic():
        imported = _imported("activities", spec["files"]["activities_small"]["path"])
        transaction.set_rollback(True)
    return imported


class _StatementTimes:
    """Times the statements the import sends through Django's connection, by what they do.

    The rows themselves travel by COPY, which bypasses this wrapper: that time, with reading and
    parsing the file, is what remains of the total.
    """

    def __init__(self):
        self.seconds: dict[str, float] = {}

    # (what the statement starts with or contains, what it does), in the order of the import (jobs.imports.loading)
    LABELS = (
        ("SELECT DISTINCT", "checks in Python, once per distinct value"),
        ("_cells AS SELECT", "checking every cell (one pass over the staged rows)"),
        ("_checked AS SELECT", "typing the values, looking up references, row checks (one pass)"),
        ("SELECT line, column_name", "the error report (problems, repeated keys)"),
        ("SELECT count(*) FROM uce_import_", "counting the new rows (whether to rebuild the indexes)"),
        ("DROP INDEX", "dropping the plain indexes before a large first load"),
        ("UPDATE jobs_activity", "update of the rows already there"),
        ("INSERT INTO jobs_activity", "insert of the new rows (the dirty-marking trigger)"),
        ("SET CONSTRAINTS ALL IMMEDIATE", "foreign-key checks of the new rows (pod, account, staff, contact)"),
        ("CREATE INDEX", "rebuilding the plain indexes"),
        ("ANALYZE", "ANALYZE"),
    )

    @classmethod
    def label(cls, sql: str) -> str:
        text = " ".join(sql.split())
        for start, label in cls.LABELS:
            if start in text:
                return label
        return "other statements"

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            label = self.label(sql)
            self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - started


def phase_import(spec: dict) -> dict:
    """The measured import; its statements are timed too, and its commit (deferred foreign-key checks) apart.

    The import runs in a transaction of its own making, so its ``atomic`` block becomes a savepoint
    of this one: the same single transaction, whose commit can be timed on its own.
    """
    _checkpoint()
    statements = _StatementTimes()
    started = time.perf_counter()
    with connection.execute_wrapper(statements), transaction.atomic():
        imported = _imported("activities", spec["files"]["activities"]["path"])
        committing = time.perf_counter()
    imported["seconds"] = time.perf_counter() - started
    imported["commit_seconds"] = time.perf_counter() - committing
    imported["statements"] = statements.seconds
    return imported


def phase_group_by(spec: dict) -> dict:
    """The baseline of the rebuild: one GROUP BY over every activity (best of two runs, the first warms up)."""
    with connection.cursor() as cursor:
        # The state autovacuum reaches after a bulk load (visibility map, statistics), for both sides alike.
        cursor.execute(f"VACUUM (ANALYZE) {', '.join(FACT_TABLES)}")
    _checkpoint()
    runs = []
    for _ in range(2):
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
            cursor.execute(GROUP_BY_SQL)
            cursor.execute("SELECT count(*) FROM benchmark_group_by")
            (groups,) = cursor.fetchone()
            cursor.execute("DROP TABLE benchmark_group_by")
        runs.append(time.perf_counter() - started)
    return {"seconds": min(runs), "runs": runs, "groups": groups}


class _FamilyTimes(logging.Handler):
    """Collects the engine's per-family timings from its debug log (``family NAME: SECONDS s ...``)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.seconds: dict[str, float] = {}

    def emit(self, record):
        args = record.args if isinstance(record.args, tuple) else ()
        if str(record.msg).startswith("family") and len(args) >= 2 and isinstance(args[1], float):
            self.seconds[str(args[0])] = self.seconds.get(str(args[0]), 0.0) + args[1]


def phase_rebuild(spec: dict) -> dict:
    from metrics import refresh
    from metrics.models import PodMetricSnapshot

    engine_log = logging.getLogger(refresh.__name__)
    families = _FamilyTimes()
    engine_log.addHandler(families)
    engine_log.setLevel(logging.DEBUG)
    _checkpoint()
    started = time.perf_counter()
    result = refresh.rebuild()
    seconds = time.perf_counter() - started
    engine_log.removeHandler(families)
    return {
        "seconds": seconds,
        "pods": result.pods,
        "snapshots": PodMetricSnapshot.objects.count(),
        "families": families.seconds,
    }


def phase_incremental(spec: dict) -> dict:
    """1,000 activities in at most 10 pod-months (the 10th-20th of last month), then a dirty refresh."""
    from jobs.models import Activity
    from metrics import refresh
    from metrics.models import DirtyRange
    from pods.models import Account, Pod

    refresh.refresh()  # nothing should be left dirty by the rebuild; make sure of it, untimed
    _checkpoint()  # the rebuild's writes are not this step's to pay for
    today = dt.date.fromisoformat(spec["today"])
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=10)
    pods = list(Pod.objects.order_by("slug")[:INCREMENTAL_PODS])
    accounts = {pod.pk: list(Account.objects.filter(pod=pod).values_list("pk", flat=True)[:50]) for pod in pods}
    rng = random.Random(spec["size"]["seed"])
    jobs, weights = list(JOB_WEIGHTS), list(JOB_WEIGHTS.values())
    rows = []
    for number in range(INCREMENTAL_ACTIVITIES):
        pod = pods[number % len(pods)]
        job = rng.choices(jobs, weights)[0]
        channel = rng.choices(CHANNELS, CHANNEL_MIX[job])[0]
        # Noon UTC of the 10th-20th lies in that month in every zone.
        moment = dt.datetime.combine(last_month, dt.time(12), dt.UTC) + dt.timedelta(
            days=rng.randrange(11), minutes=rng.randrange(-360, 360)
        )
        rows.append(
            Activity(
                pod=pod,
                account_id=rng.choice(accounts[pod.pk]),
                occurred_at=moment,
                job=job,
                channel=channel,
                kind=rng.choice(KINDS[(job, channel)]),
                external_id=f"INC-{number:05d}",
            )
        )
    started = time.perf_counter()
    with transaction.atomic():
        Activity.objects.bulk_create(rows)
    insert_seconds = time.perf_counter() - started
    dirty = DirtyRange.objects.count()
    started = time.perf_counter()
    result = refresh.refresh()
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "insert_seconds": insert_seconds,
        "pods": result.pods,
        "pod_months": len(pods),
        "snapshots": result.snapshots,
        "dirty_ranges": dirty,
    }


# --- Dashboard: the real page, a trivial signed-in page, and the page computing its figures itself ----------------


@login_required
def trivial_view(request):
    """What any signed-in page costs before it does anything: the dashboard's floor."""
    return HttpResponse("ok", content_type="text/plain")


def _grains_sql_limited_to(grain: str) -> str | None:
    """The engine's ``GRAINS_SQL`` followed by the deletion of every other grain, or ``None`` when the engine
    no longer fills its grains that way (then the on-the-fly page computes every grain: a slower, and so
    less strict, baseline, which the details say)."""
    from metrics import refresh

    original = getattr(refresh, "GRAINS_SQL", "")
    if "uce_all_grains" not in original or grain not in GRAINS:
        return None
    return f"{original}; DELETE FROM uce_all_grains WHERE grain <> '{grain}'"  # noqa: S608 (one of GRAINS)  # nosec B608 # a constant of this module


GRAINS = ("week", "month", "quarter", "year")


@login_required
def dashboard_on_the_fly(request, slug):
    """The dashboard computing its figures in the request, from the raw tables.

    The engine's own SQL computes exactly the periods the page shows (the trend's 12 periods of the
    grain, the comparison period among them), then the real dashboard view renders them; everything
    is rolled back, so each request computes afresh.
    """
    from metrics import refresh, views
    from metrics.dashboard import DashboardState, local_today
    from metrics.models import DirtyRange
    from pods.scoping import pods_visible_to

    pod = get_object_or_404(pods_visible_to(request.user), slug=slug)
    state = DashboardState.from_query(request.GET, today=local_today(pod))
    first = min(state.trend_first, state.comparison_period)
    grains_sql = _grains_sql_limited_to(state.grain)
    with transaction.atomic():
        DirtyRange.objects.create(pod=pod, from_day=first, to_day=state.end - dt.timedelta(days=1))
        if grains_sql is None:
            refresh.refresh(pod_ids=[pod.pk])
        else:
            with mock.patch.object(refresh, "GRAINS_SQL", grains_sql):
                refresh.refresh(pod_ids=[pod.pk])
        response = views.dashboard(request, slug)
        transaction.set_rollback(True)
    return response


def benchmark_urlconf():
    """The project's URLs plus the two comparison pages, as a ``ROOT_URLCONF`` for the dashboard step."""

    class BenchmarkUrls:
        urlpatterns = [
            path("benchmark/ok/", trivial_view, name="benchmark-trivial"),
            path("benchmark/on-the-fly/<slug:slug>/", dashboard_on_the_fly, name="benchmark-on-the-fly"),
            path("", include("uce.urls")),
        ]

    return BenchmarkUrls


def _time_requests(
    client, url: str, count: int, warmup: int = 2, before: Callable[[], None] | None = None
) -> list[float]:
    """Seconds of each of ``count`` requests after ``warmup`` untimed ones; ``before`` runs, untimed, before each."""
    for _ in range(warmup):
        _get(client, url)
    times = []
    for _ in range(count):
        if before is not None:
            before()
        started = time.perf_counter()
        _get(client, url)
        times.append(time.perf_counter() - started)
    return times


def _get(client, url: str):
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    return response


def _measured_month(pod, today: dt.date) -> tuple[dt.date, bool]:
    """The month whose dashboard the query count measures, and whether its "engaged accounts without a
    lead" list has rows.

    The count compares like with like: a complete month (not the one in progress, whose content depends
    on the day of the month the benchmark runs), and the same sections on both pages.  Django's
    paginator skips the rows query of an empty list, so a page with an empty list makes one query
    fewer; the latest complete month in which the big pod's list has rows is measured when there is
    one, and the small pod is built to match.
    """
    from metrics.dashboard import bounds_of, engaged_accounts_without_lead

    last_complete = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    month = last_complete
    for _ in range(36):
        if engaged_accounts_without_lead(pod=pod, bounds=bounds_of(pod, "month", month)).exists():
            return month, True
        month = (month - dt.timedelta(days=1)).replace(day=1)
    return last_complete, False


def _small_pod(month: dt.date, *, with_engaged_list: bool):
    """A pod with 20 activities in ``month``, its snapshots computed: the "small data" of the query count.

    With ``with_engaged_list`` one account has four Learn activities and no lead (a row of the
    "engaged accounts without a lead" list); without, no activity is a Learn one.
    """
    from jobs.models import Activity
    from metrics import refresh
    from pods.models import Account, Pod

    pod = Pod.objects.create(slug="benchmark-small", name="Benchmark small pod", timezone="UTC")
    account = Account.objects.create(external_id="BENCH-SMALL-1", name="Small customer", pod=pod)
    jobs = BUYING_JOB_ORDER if with_engaged_list else BUYING_JOB_ORDER[1:]
    noon = dt.datetime.combine(month, dt.time(12), tzinfo=dt.UTC)
    Activity.objects.bulk_create(
        Activity(
            pod=pod,
            account=account,
            occurred_at=noon + dt.timedelta(days=number % 25, minutes=number),
            job=jobs[number % len(jobs)],
            channel=CHANNELS[number % 3],
            kind="email",
        )
        for number in range(20)
    )
    refresh.refresh(pod_ids=[pod.pk])
    return pod


def phase_dashboard(spec: dict) -> dict:
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    from jobs.models import Activity
    from pods.models import Pod, User

    _checkpoint()
    requests = spec["size"]["requests"]
    pod = Pod.objects.order_by("slug").first()
    admin = User.objects.create_user(username="benchmark-admin", is_superuser=True, is_staff=True)
    month, with_list = _measured_month(pod, dt.date.fromisoformat(spec["today"]))
    small = _small_pod(month, with_engaged_list=with_list)
    client = Client()
    client.force_login(admin)
    hosts = [*settings.ALLOWED_HOSTS, "testserver"]
    with override_settings(ROOT_URLCONF=benchmark_urlconf(), ALLOWED_HOSTS=hosts, DEBUG=False):
        dashboard_url = reverse("pod-dashboard", args=[pod.slug]) + "?grain=month"
        # As people see it: the figures of this version were rendered by an earlier request.
        dashboard = _time_requests(client, dashboard_url, requests)
        # The first request after a refresh renders the figures (an empty cache is the same).
        dashboard_uncached = _time_requests(client, dashboard_url, requests, before=cache.clear)
        trivial = _time_requests(client, reverse("benchmark-trivial"), requests)
        on_the_fly_url = reverse("benchmark-on-the-fly", args=[pod.slug]) + "?grain=month"
        on_the_fly = _time_requests(client, on_the_fly_url, ON_THE_FLY_REQUESTS, warmup=1, before=cache.clear)
        queries = {}
        for name, measured in (("full", pod), ("small", small)):
            cache.clear()  # both pay for assembling their figures
            url = reverse("pod-dashboard", args=[measured.slug]) + f"?grain=month&period={month.isoformat()}"
            with CaptureQueriesContext(connection) as captured:
                _get(client, url)
            queries[name] = len(captured)
    return {
        "pod": pod.slug,
        "pod_activities": Activity.objects.filter(pod=pod).count(),
        "dashboard": dashboard,
        "dashboard_uncached": dashboard_uncached,
        "trivial": trivial,
        "on_the_fly": on_the_fly,
        "on_the_fly_grain_only": _grains_sql_limited_to("month") is not None,
        "queries": queries,
        "queries_month": month.isoformat(),
        "queries_with_engaged_list": with_list,
    }


PHASES: dict[str, Callable[[dict], dict]] = {
    "at-rest": phase_at_rest,
    "setup": phase_setup,
    "copy": phase_copy,
    "import-small": phase_import_small,
    "import": phase_import,
    "group-by": phase_group_by,
    "rebuild": phase_rebuild,
    "incremental": phase_incremental,
    "dashboard": phase_dashboard,
}
PHASE_TITLES = {
    "at-rest": "Django process at rest",
    "setup": "migrate; import pods, staff, accounts, contacts, leads, opportunities, orders, adoption, tickets",
    "copy": "baseline: COPY of the activities file into a bare table",
    "import-small": "CSV import of N/10 activities (memory check, rolled back)",
    "import": "CSV import of the activities",
    "group-by": "VACUUM ANALYZE; baseline: one GROUP BY over the activities",
    "rebuild": "full metric rebuild",
    "incremental": "1,000 new activities, incremental refresh",
    "dashboard": "dashboard requests",
}


def run_phase(name: str, workdir: Path) -> None:
    """Run one measured step in this process and write its result (with this process's peak RSS) as JSON."""
    spec = json.loads((workdir / "spec.json").read_text())
    with as_of(spec.get("as_of")):
        result = PHASES[name](spec)
    result["peak_rss"] = peak_rss_bytes()
    target = workdir / f"{name}.json"
    target.with_suffix(".tmp").write_text(json.dumps(result))
    target.with_suffix(".tmp").replace(target)


# ---------------------------------------------------------------------------------------------------------------
# Orchestration (the calling process)
# ---------------------------------------------------------------------------------------------------------------


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


@contextmanager
def as_of(instant: str | None):
    """Run as if the clock read ``instant`` (ISO 8601, ticking from there); the real clock when ``None``.

    A reproducible run (``benchmark --as-of``) and the tests at frozen dates put every step of the
    benchmark at the same moment; this needs time-machine, a development dependency.
    """
    if instant is None:
        yield
        return
    import time_machine

    with time_machine.travel(dt.datetime.fromisoformat(instant), tick=True):
        yield


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
        for phase in PHASES:
            say(PHASE_TITLES[phase])
            phase_started = time.perf_counter()
            results[phase] = _run_child(phase, workdir, env)
            results[phase]["wall_seconds"] = time.perf_counter() - phase_started
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
            "commit (deferred foreign-key checks)": imported["commit_seconds"],
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
    incremental = results["incremental"]
    lines.append(
        f"Incremental: inserting the {INCREMENTAL_ACTIVITIES:,} activities (triggers mark them dirty) took "
        f"{_seconds(incremental['insert_seconds'])}, {incremental['dirty_ranges']} dirty ranges; the refresh "
        f"recomputed {incremental['snapshots']:,} snapshots of {incremental['pods']} pods."
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
