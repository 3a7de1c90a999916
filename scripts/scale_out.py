"""Per-worker throughput of the metric refresh on real Celery workers (the figures of docs/SCALING.md).

    .venv/bin/python manage.py benchmark --activities 1000000 --pods 40 --accounts 20000 --keep --no-report
    DATABASE_URL=postgresql://root@127.0.0.1:5432/uce_bench_XXXXXXXX \\
        .venv/bin/python scripts/scale_out.py [--workers 1 2] [--rounds 2] [--pods-per-batch 20]
                                              [--broker redis://127.0.0.1:6379/11]

It needs a database that already holds a large data set (the benchmark's ``--keep`` prints its
name) and a Redis or RabbitMQ broker.  For each round and each worker count N, in turn:

1. every pod is marked dirty from the beginning of time, as a full rebuild marks them
   (``metrics.refresh.mark_pods_dirty``);
2. N ``celery -A uce worker --concurrency 1`` processes start on a fresh queue of the broker,
   with the settings production uses (``acks_late``, prefetch 1);
3. N ``refresh_dirty_metrics`` tasks are sent with ``.delay()``, as N beat ticks or N committed
   writes send them; each worker that receives one claims batches of pods (``FOR UPDATE SKIP
   LOCKED``) until none is left;
4. the clock runs from the send until no dirty mark is left; the workers are then stopped.

It prints, per N, the median wall time, pods/s, snapshots/s and activities/s in total and per
worker, the speed-up over one worker, the CPU seconds spent in the workers and in the PostgreSQL
backends serving them, and how busy the machine was.  It checks that every pod was computed by
exactly one worker in each run, and that the snapshot table after every run equals the one after
the first single-worker run (row by row, ``computed_at`` aside).  It exits non-zero if either
check fails.

It writes to the database it is given (snapshots are recomputed; a scratch table,
``scale_out_reference_snapshots``, is created and dropped), to a queue it creates on the broker and
deletes, and the workers' logs to a temporary folder whose name it prints.
"""

import argparse
import contextlib
import datetime as dt
import os
import re
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.workers import WorkerProcess  # noqa: E402 (needs ROOT on the path)

APPLICATION_NAME = "uce-scale-out"  # tags the workers' database sessions, to find their backends
REFERENCE_TABLE = "scale_out_reference_snapshots"
REFRESHED = re.compile(r"refreshed (\d+) snapshots of pods \[([\d, ]+)\]")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts, default 1 2")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each worker count, default 2")
    parser.add_argument(
        "--pods-per-batch", type=int, help="UCE_REFRESH_PODS_PER_BATCH of the workers (default: the setting, 20)"
    )
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/11", help="default redis://127.0.0.1:6379/11")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds one run may take, default 1800")
    args = parser.parse_args()
    if 1 not in args.workers:
        parser.error("--workers must include 1: the speed-up and the snapshot check are against one worker")
    if not os.environ.get("DATABASE_URL"):
        parser.error("set DATABASE_URL to the database holding the data set (see the usage at the top)")
    args.workers = sorted(set(args.workers))  # one worker first: its snapshots are the reference
    return args


def configure_django(broker: str, queue: str) -> None:
    """Django for this process: the workers' broker and queue, so ``.delay()`` sends where they listen."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "uce.settings.local")
    os.environ["DEBUG"] = "0"
    os.environ["CELERY_BROKER_URL"] = broker
    os.environ["CELERY_TASK_DEFAULT_QUEUE"] = queue
    os.environ["UCE_REFRESH_ON_COMMIT"] = "0"
    import django

    django.setup()


def with_application_name(url: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query["application_name"] = APPLICATION_NAME
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


# ---------------------------------------------------------------------------------------------------------------
# Workers
# ---------------------------------------------------------------------------------------------------------------


class Worker(WorkerProcess):
    """One worker of a run (the tests' worker process, on this run's database, broker and queue)."""

    def __init__(self, name: str, queue: str, env: dict, log_dir: Path):
        super().__init__(env, queue, log_dir / f"{name}.log", name=name)

    def cpu_seconds(self) -> float:
        """CPU time of the worker's processes (the main one and its pool child), children included."""
        total = 0.0
        with contextlib.suppress(psutil.NoSuchProcess):
            main = psutil.Process(self.process.pid)
            for process in [main, *main.children(recursive=True)]:
                with contextlib.suppress(psutil.NoSuchProcess):
                    times = process.cpu_times()
                    total += times.user + times.system
        return total

    def refreshed(self) -> tuple[list[int], int]:
        """Pods this worker computed and the snapshots it wrote, from the task's log lines."""
        pods, snapshots = [], 0
        for match in REFRESHED.finditer(self.output()):
            snapshots += int(match.group(1))
            pods.extend(int(pod) for pod in match.group(2).split(","))
        return pods, snapshots


# ---------------------------------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class Run:
    workers: int
    seconds: float
    pods: int
    snapshots: int
    activities: int
    per_worker: list[tuple[int, int]]  # (pods, snapshots) of each worker
    worker_cpu: float
    postgres_cpu: float
    machine_busy: float  # share of all CPUs busy during the run, whoever used them
    other_cpu: float  # CPU seconds of everything else on the machine meanwhile (other users of a shared machine)
    differing_snapshots: int | None = None
    problems: list[str] = field(default_factory=list)


def fetch_one(sql: str, params=None):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def execute(sql: str, params=None) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)


class BackendCpu:
    """CPU seconds of the PostgreSQL backends serving the workers (found by their application_name).

    The workers open their connections during the run, so a backend's CPU time since it started
    is what it spent on the run.  Sampled while the run goes on: the last sample of a backend that
    ends before the run does misses at most one interval.
    """

    def __init__(self):
        self.last = {}

    def sample(self) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s", [APPLICATION_NAME])
            pids = [row[0] for row in cursor.fetchall()]
        for pid in pids:
            with contextlib.suppress(psutil.Error):
                times = psutil.Process(pid).cpu_times()
                self.last[pid] = times.user + times.system

    def seconds(self) -> float:
        return sum(self.last.values())


def run_once(workers: int, *, queue: str, env: dict, log_dir: Path, activities_by_pod: dict, timeout: float) -> Run:
    from django.db import transaction

    from metrics import refresh
    from metrics.tasks import refresh_dirty_metrics

    if fetch_one("SELECT EXISTS (SELECT 1 FROM metrics_dirtyrange)")[0]:
        raise SystemExit(
            "The database has dirty marks before the run (an interrupted run, or something writing to it): "
            "drain them with `manage.py compute_metrics` and start again."
        )
    with transaction.atomic():
        refresh.mark_pods_dirty()  # what a full rebuild marks: every pod, from the beginning of time
    started_workers = [
        Worker(f"scale-{workers}w{i}-{uuid.uuid4().hex[:6]}", queue, env, log_dir) for i in range(workers)
    ]
    try:
        for worker in started_workers:
            worker.wait_ready()
        backends = BackendCpu()
        worker_cpu_before = sum(worker.cpu_seconds() for worker in started_workers)
        busy_before = psutil.cpu_times()
        started = time.perf_counter()
        for _ in range(workers):
            refresh_dirty_metrics.delay()
        while fetch_one("SELECT EXISTS (SELECT 1 FROM metrics_dirtyrange)")[0]:
            backends.sample()
            if time.perf_counter() - started > timeout:
                raise SystemExit(f"dirty marks left after {timeout} s; logs in {log_dir}")
            time.sleep(0.1)
        seconds = time.perf_counter() - started
        busy_after = psutil.cpu_times()
        backends.sample()
        # Each task returns soon after the last commit (nothing left to claim): wait for all of them,
        # so that every log line is written.
        deadline = time.monotonic() + 60
        while (
            time.monotonic() < deadline and sum(w.output().count(" succeeded in ") for w in started_workers) < workers
        ):
            time.sleep(0.2)
        worker_cpu = sum(worker.cpu_seconds() for worker in started_workers) - worker_cpu_before
        per_worker = [worker.refreshed() for worker in started_workers]
    finally:
        for worker in started_workers:
            worker.stop(timeout=60)

    computed = [pod for pods, _ in per_worker for pod in pods]
    problems = []
    if sorted(computed) != sorted(activities_by_pod):
        twice = sorted({pod for pod in computed if computed.count(pod) > 1})
        missing = sorted(set(activities_by_pod) - set(computed))
        problems.append(f"pods computed twice: {twice}; pods not computed: {missing}")
    idle_before, idle_after = _idle(busy_before), _idle(busy_after)
    total = sum(busy_after) - sum(busy_before)
    busy = total - (idle_after - idle_before)
    postgres_cpu = backends.seconds()
    return Run(
        workers=workers,
        seconds=seconds,
        pods=len(computed),
        snapshots=sum(snapshots for _, snapshots in per_worker),
        activities=sum(activities_by_pod.get(pod, 0) for pod in computed),
        per_worker=[(len(pods), snapshots) for pods, snapshots in per_worker],
        worker_cpu=worker_cpu,
        postgres_cpu=postgres_cpu,
        machine_busy=busy / total if total else 0.0,
        other_cpu=max(busy - worker_cpu - postgres_cpu, 0.0),
        problems=problems,
    )


def _idle(times) -> float:
    return times.idle + getattr(times, "iowait", 0.0)


def keep_reference_snapshots() -> None:
    execute(f"DROP TABLE IF EXISTS {REFERENCE_TABLE}")
    execute(
        f"CREATE UNLOGGED TABLE {REFERENCE_TABLE} AS "  # noqa: S608 (a constant name)
        "SELECT pod_id, grain, period_start, period_end, metrics FROM metrics_podmetricsnapshot"
    )


def differing_snapshots() -> int:
    """Rows in one snapshot table and not the other (either way), against the reference copy."""
    current = "SELECT pod_id, grain, period_start, period_end, metrics FROM metrics_podmetricsnapshot"
    reference = f"SELECT pod_id, grain, period_start, period_end, metrics FROM {REFERENCE_TABLE}"  # noqa: S608
    return fetch_one(
        f"SELECT (SELECT count(*) FROM ({current} EXCEPT ALL {reference}) a)"  # noqa: S608
        f"     + (SELECT count(*) FROM ({reference} EXCEPT ALL {current}) b)"
    )[0]


# ---------------------------------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------------------------------


def machine() -> str:
    from devtools.benchmark import machine as measured_on  # what the benchmark reports, the same way

    about = measured_on()
    return f"{about['cpu']}, {about['memory']}, {about['os']}"


def data_set() -> str:
    pods, activities, snapshots = fetch_one(
        "SELECT (SELECT count(*) FROM pods_pod), (SELECT count(*) FROM jobs_activity),"
        " (SELECT count(*) FROM metrics_podmetricsnapshot)"
    )
    others = fetch_one(
        "SELECT (SELECT count(*) FROM jobs_lead), (SELECT count(*) FROM jobs_opportunity),"
        " (SELECT count(*) FROM jobs_order), (SELECT count(*) FROM jobs_adoptionreading),"
        " (SELECT count(*) FROM jobs_supportticket), (SELECT count(*) FROM pods_account)"
    )
    names = ("leads", "opportunities", "orders", "adoption readings", "tickets", "accounts")
    rest = ", ".join(f"{count:,} {name}" for count, name in zip(others, names, strict=True))
    return f"{pods} pods, {activities:,} activities, {snapshots:,} snapshots; {rest}"


def report(runs: list[Run], *, batch: int, header: list[str]) -> str:
    base = statistics.median(run.seconds for run in runs if run.workers == 1)
    lines = [*header, ""]
    lines.append(
        "| workers | runs | wall (median) | pods/s | snapshots/s | activities/s | per worker: pods/s · snapshots/s "
        "· activities/s | speed-up over 1 | CPU s: workers · their PostgreSQL backends · rest of the machine "
        "| machine busy |"
    )
    lines.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for count in sorted({run.workers for run in runs}):
        mine = [run for run in runs if run.workers == count]
        seconds = statistics.median(run.seconds for run in mine)
        pods, snapshots, activities = mine[0].pods, mine[0].snapshots, mine[0].activities
        lines.append(
            f"| {count} | {len(mine)} | {seconds:.1f} s | {pods / seconds:.2f} | {snapshots / seconds:,.0f} | "
            f"{activities / seconds:,.0f} | {pods / seconds / count:.2f} · {snapshots / seconds / count:,.0f} · "
            f"{activities / seconds / count:,.0f} | {base / seconds:.2f}× | "
            f"{statistics.median(r.worker_cpu for r in mine):.1f} · "
            f"{statistics.median(r.postgres_cpu for r in mine):.1f} · "
            f"{statistics.median(r.other_cpu for r in mine):.1f} | "
            f"{statistics.median(r.machine_busy for r in mine):.0%} |"
        )
    lines.append("")
    lines.append(f"Pods per claimed batch: {batch}. Every run:")
    lines.append("")
    for index, run in enumerate(runs, start=1):
        shares = ", ".join(f"{pods} pods/{snapshots:,} snapshots" for pods, snapshots in run.per_worker)
        same = "—" if run.differing_snapshots is None else f"{run.differing_snapshots} rows differ"
        lines.append(
            f"- run {index}: {run.workers} worker(s), {run.seconds:.1f} s; workers computed {shares}; "
            f"snapshots vs the first 1-worker run: {same}"
            + (f"; PROBLEM: {'; '.join(run.problems)}" if run.problems else "")
        )
    return "\n".join(lines)


def main() -> int:
    args = parse_args()
    queue = f"scale-out-{uuid.uuid4().hex[:10]}"
    configure_django(args.broker, queue)
    from django.conf import settings

    batch = args.pods_per_batch or settings.UCE_REFRESH_PODS_PER_BATCH
    env = {k: v for k, v in os.environ.items() if not k.startswith("CELERY_")}
    log_dir = Path(tempfile.mkdtemp(prefix="uce-scale-out-"))
    env.update(
        DATABASE_URL=with_application_name(settings.DATABASE_URL),
        DJANGO_SETTINGS_MODULE=os.environ["DJANGO_SETTINGS_MODULE"],
        DEBUG="0",
        CELERY_BROKER_URL=args.broker,
        CELERY_TASK_DEFAULT_QUEUE=queue,
        UCE_REFRESH_ON_COMMIT="0",  # no write of the run enqueues anything: only the tasks sent here run
        UCE_REFRESH_PODS_PER_BATCH=str(batch),
        UCE_VAR_DIR=str(log_dir / "var"),
        PYTHONUNBUFFERED="1",
    )
    from django.db import connection

    counts = fetch_one(
        "SELECT coalesce(json_object_agg(id, n), '{}') FROM (SELECT p.id, count(a.id) n FROM pods_pod p "
        "LEFT JOIN jobs_activity a ON a.pod_id = p.id GROUP BY p.id) c"
    )[0]
    activities_by_pod = {int(pod): count for pod, count in counts.items()}
    postgres = fetch_one("SHOW server_version")[0]
    header = [
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {machine()}; PostgreSQL {postgres} on the same "
        f"machine; broker {args.broker.split('@')[-1]}.",
        f"Data set (database {connection.settings_dict['NAME']}): {data_set()}.",
        f"Command: DATABASE_URL=… .venv/bin/python scripts/scale_out.py --workers {' '.join(map(str, args.workers))} "
        f"--rounds {args.rounds}" + (f" --pods-per-batch {args.pods_per_batch}" if args.pods_per_batch else ""),
    ]
    print("\n".join(header), flush=True)
    runs: list[Run] = []
    try:
        for round_number in range(1, args.rounds + 1):
            for count in args.workers:
                print(f"round {round_number}: {count} worker(s)…", end=" ", flush=True)
                run = run_once(
                    count, queue=queue, env=env, log_dir=log_dir, activities_by_pod=activities_by_pod,
                    timeout=args.timeout,
                )  # fmt: skip
                if count == 1 and not any(r.workers == 1 for r in runs):
                    keep_reference_snapshots()
                else:
                    run.differing_snapshots = differing_snapshots()
                runs.append(run)
                print(f"{run.seconds:.1f} s, {run.pods} pods, {run.snapshots:,} snapshots", flush=True)
    finally:
        execute(f"DROP TABLE IF EXISTS {REFERENCE_TABLE}")
        _delete_queue(args.broker, queue)
    print()
    print(report(runs, batch=batch, header=header))
    print(f"\nWorker logs: {log_dir}")
    failed = [run for run in runs if run.problems or run.differing_snapshots]
    if failed:
        print(f"\n{len(failed)} run(s) failed a check: see PROBLEM / rows differ above.")
        return 1
    print("\nEvery pod was computed by exactly one worker in every run; every run's snapshots equal the first.")
    return 0


def _delete_queue(broker: str, queue: str) -> None:
    """Remove the run's queue from the broker (it is empty: every task sent was consumed)."""
    if broker.startswith(("redis://", "rediss://")):
        import redis

        # kombu keeps a Redis queue as a list and its exchange binding as a set beside it.
        redis.Redis.from_url(broker).delete(queue, f"_kombu.binding.{queue}")
        return
    from uce.celery import app

    with app.connection_for_write() as conn:
        conn.default_channel.queue_delete(queue)


if __name__ == "__main__":
    sys.exit(main())
