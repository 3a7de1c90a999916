"""The measured steps of the benchmark, each run in a child process of its own (``manage.py benchmark --phase``).

A step reads the run's ``spec.json`` from the work directory and writes its result there as JSON, with
its own peak memory; :mod:`devtools.benchmark.runner` starts the steps in order.
"""

import csv
import datetime as dt
import json
import logging
import random
import time
from collections.abc import Callable
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from pods.choices import BUYING_JOB_ORDER

from ..vocabulary import ACTIVITY_KINDS, CHANNEL_MIX, CHANNELS
from .organisation import JOB_WEIGHTS

INCREMENTAL_ACTIVITIES = 1_000
INCREMENTAL_PODS = 10  # one month each: at most 10 pod-months
INCREMENTAL_RUNS = 3  # the refresh after them is timed three times, each rolled back; the best is the figure
ON_THE_FLY_REQUESTS = 3
WORK_MEM = "64MB"  # what the engine sets for its own statements; the hand-written GROUP BY gets the same

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
    from jobs.imports.services import format_error, import_file

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
        ("INSERT INTO jobs_activity", "insert of the new rows (the reference checks and dirty-marking triggers)"),
        ("SET CONSTRAINTS ALL IMMEDIATE", "deferred checks run before the indexes are rebuilt"),
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
    """The measured import; its statements are timed too, and its commit (deferred checks) apart.

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


def _vacuum_analyze() -> None:
    """The state autovacuum reaches after a bulk load (visibility map, statistics), for every side alike."""
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {', '.join(FACT_TABLES)}")


def phase_group_by(spec: dict) -> dict:
    """The baseline of the rebuild: one GROUP BY over every activity (best of two runs, the first warms up)."""
    _vacuum_analyze()
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


def _incremental_rows(spec: dict) -> list:
    """The 1,000 activities of the incremental step, in at most 10 pod-months (the 10th-20th of last month).

    The same rows on every call and in every database built from the same files: the history check inserts
    exactly what the incremental step inserts.
    """
    from jobs.models import Activity
    from pods.models import Account, Pod

    today = dt.date.fromisoformat(spec["today"])
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=10)
    pods = list(Pod.objects.order_by("slug")[:INCREMENTAL_PODS])
    accounts = {
        pod.pk: list(Account.objects.filter(pod=pod).order_by("pk").values_list("pk", flat=True)[:50]) for pod in pods
    }
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
                kind=rng.choice(ACTIVITY_KINDS[(job, channel)]),
                external_id=f"INC-{number:05d}",
            )
        )
    return rows


def _incremental_runs(spec: dict) -> dict:
    """Insert the 1,000 activities (the triggers mark them dirty) and refresh, ``INCREMENTAL_RUNS`` times, each run
    rolled back so that every one starts from the same stored state; the best run is the figure.
    """
    from jobs.models import Activity
    from metrics import refresh
    from metrics.models import DirtyRange

    refresh.refresh()  # nothing should be left dirty by the rebuild; make sure of it, untimed
    _checkpoint()  # the rebuild's writes are not this step's to pay for
    runs = []
    for _ in range(INCREMENTAL_RUNS):
        rows = _incremental_rows(spec)
        with transaction.atomic():
            started = time.perf_counter()
            Activity.objects.bulk_create(rows)
            insert_seconds = time.perf_counter() - started
            dirty = DirtyRange.objects.count()
            started = time.perf_counter()
            result = refresh.refresh()
            seconds = time.perf_counter() - started
            transaction.set_rollback(True)
        runs.append(
            {
                "seconds": seconds,
                "insert_seconds": insert_seconds,
                "pods": result.pods,
                "snapshots": result.snapshots,
                "dirty_ranges": dirty,
            }
        )
    best = min(runs, key=lambda run: run["seconds"])
    pod_months = len({row.pod_id for row in rows})  # one month per pod; fewer than 10 when the run has fewer pods
    return {**best, "runs": [run["seconds"] for run in runs], "pod_months": pod_months}


def phase_incremental(spec: dict) -> dict:
    """1,000 activities in at most 10 pod-months, then a dirty refresh (best of three, each rolled back)."""
    return _incremental_runs(spec)


def phase_half_history(spec: dict) -> dict:
    """The history check, in a copy of the database taken before the activities: every other activity imported
    (the same months, half the rows of each), vacuumed and rebuilt as the full data is, then the same 1,000
    activities and refresh as the incremental step.  A refresh that costs what changed takes as long here as on
    twice the history.
    """
    from metrics import refresh

    imported = _imported("activities", spec["files"]["activities_half"]["path"])
    _vacuum_analyze()  # as the group-by step does before the full data's rebuild
    started = time.perf_counter()
    refresh.rebuild()
    rebuild_seconds = time.perf_counter() - started
    return {
        **_incremental_runs(spec),
        "activities": imported["rows"],
        "import_seconds": imported["seconds"],
        "rebuild_seconds": rebuild_seconds,
    }


# --- Dashboard: the real page against a trivial signed-in page and the page computing its figures itself (views.py)


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

    from .views import grains_sql_limited_to

    _checkpoint()
    requests = spec["size"]["requests"]
    pod = Pod.objects.order_by("slug").first()
    admin = User.objects.create_user(username="benchmark-admin", is_superuser=True, is_staff=True)
    month, with_list = _measured_month(pod, dt.date.fromisoformat(spec["today"]))
    small = _small_pod(month, with_engaged_list=with_list)
    client = Client()
    client.force_login(admin)
    hosts = [*settings.ALLOWED_HOSTS, "testserver"]
    # The project's URLs plus the two comparison pages (devtools/benchmark/urls.py).
    with override_settings(ROOT_URLCONF="devtools.benchmark.urls", ALLOWED_HOSTS=hosts, DEBUG=False):
        dashboard_url = reverse("pod-dashboard", args=[pod.slug]) + "?grain=month"
        # As people see it: the figures of this version were rendered by an earlier request.
        dashboard = _time_requests(client, dashboard_url, requests)
        # The first request after a refresh renders the figures (an empty cache is the same).
        dashboard_uncached = _time_requests(client, dashboard_url, requests, before=cache.clear)
        trivial = _time_requests(client, reverse("benchmark-trivial"), requests)
        on_the_fly_url = reverse("benchmark-on-the-fly", args=[pod.slug]) + "?grain=month"
        on_the_fly = _time_requests(client, on_the_fly_url, ON_THE_FLY_REQUESTS, warmup=1, before=cache.clear)
        busiest = _busiest_account(pod)
        account_url = reverse("account-page", args=[busiest.external_id])
        account_page = _time_requests(client, account_url, requests)
        account_page_uncached = _time_requests(client, account_url, requests, before=cache.clear)
        account_queries = {}
        for name, url in (("busiest", account_url), ("small", reverse("account-page", args=["BENCH-SMALL-1"]))):
            cache.clear()  # both pay for reading and rendering the account
            with CaptureQueriesContext(connection) as captured:
                _get(client, url)
            account_queries[name] = len(captured)
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
        "on_the_fly_grain_only": grains_sql_limited_to("month") is not None,
        "queries": queries,
        "queries_month": month.isoformat(),
        "queries_with_engaged_list": with_list,
        "account_page": account_page,
        "account_page_uncached": account_page_uncached,
        "account_activities": Activity.objects.filter(account=busiest).count(),
        "account_queries": account_queries,
    }


def _busiest_account(pod):
    """The pod's account with the most activities: the longest journey an account page draws."""
    from django.db.models import Count

    from jobs.models import Activity
    from pods.models import Account

    top = Activity.objects.filter(pod=pod).values("account").annotate(n=Count("id")).order_by("-n", "account").first()
    return Account.objects.get(pk=top["account"])


PHASES: dict[str, Callable[[dict], dict]] = {
    "at-rest": phase_at_rest,
    "setup": phase_setup,
    "half-history": phase_half_history,
    "copy": phase_copy,
    "import-small": phase_import_small,
    "import": phase_import,
    "group-by": phase_group_by,
    "rebuild": phase_rebuild,
    "incremental": phase_incremental,
    "dashboard": phase_dashboard,
}
# Steps run in a copy of the database made right after "setup", before the activities (runner.py), dropped after.
ON_THE_COPY = frozenset({"half-history"})
PHASE_TITLES = {
    "at-rest": "Django process at rest",
    "setup": "migrate; import pods, staff, accounts, contacts, leads, opportunities, orders, adoption, tickets",
    "half-history": "history check, in a copy made before the activities: half of them imported, vacuumed, rebuilt, "
    "then the same 1,000 activities and refresh",
    "copy": "baseline: COPY of the activities file into a bare table",
    "import-small": "CSV import of N/10 activities (memory check, rolled back)",
    "import": "CSV import of the activities",
    "group-by": "VACUUM ANALYZE; baseline: one GROUP BY over the activities",
    "rebuild": "full metric rebuild",
    "incremental": "1,000 new activities, incremental refresh (best of three, each rolled back)",
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
