"""Real Celery worker processes for tests, on Redis when there is one, else the embedded broker; the
worker process itself (:class:`WorkerProcess`) also for ``scripts/scale_out.py``.

``UCE_TEST_BROKER_URL`` (set by ``.ci/run``) names the broker and must answer: a missing service
fails the test, it never skips it.  Without it, a Redis on 127.0.0.1:6379 is used when it
answers, otherwise kombu's filesystem transport in a temporary folder (a fresh machine with no
Redis; ``UCE_TEST_BROKER_URL=filesystem://`` forces that).  Each test gets its own queue, so
stale messages from earlier runs are never consumed.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.db import connection
from kombu import Exchange, Queue

from uce.celery import app

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Broker:
    url: str
    transport_options: dict
    env: dict

    @property
    def is_redis(self) -> bool:
        return self.url.startswith("redis://")

    @property
    def webhooks_queue(self) -> str:
        """The webhook sends' own queue (uce/settings/base.py), fresh per test like the default one."""
        return self.env.get("UCE_WEBHOOKS_QUEUE") or f"{self.env['_queue']}-webhooks"


def _redis_answers(host="127.0.0.1", port=6379) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def choose_broker(tmp_path: Path) -> Broker:
    queue = f"test-{uuid.uuid4().hex[:12]}"
    url = os.environ.get("UCE_TEST_BROKER_URL")
    if url is None and _redis_answers():
        url = "redis://127.0.0.1:6379/15"
    if url and url != "filesystem://":
        # A short visibility timeout so a message held by a SIGKILLed worker is redelivered soon.
        options = {"visibility_timeout": 5}
        env = {"CELERY_BROKER_URL": url, "CELERY_BROKER_VISIBILITY_TIMEOUT": "5"}
    else:
        folder = tmp_path / "broker"
        (folder / "control").mkdir(parents=True)
        url = "filesystem://"
        options = {
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
            "control_folder": str(folder / "control"),
            "store_processed": False,
        }
        env = {"UCE_VAR_DIR": str(tmp_path)}
    env["CELERY_TASK_DEFAULT_QUEUE"] = queue
    return Broker(url=url, transport_options=options, env=env | {"_queue": queue})


def database_url_of_test_db() -> str:
    """A libpq URL of the database the test process is using (the test database)."""
    params = connection.get_connection_params()
    host = params.get("host") or ""
    user = params.get("user") or ""
    name = params["dbname"]
    if host.startswith("/"):
        return f"postgresql://{user}@/{name}?host={host}"
    port = params.get("port") or 5432
    return f"postgresql://{user}@{host}:{port}/{name}"


@contextlib.contextmanager
def producer_on(broker: Broker):
    """Make this process send tasks to ``broker`` instead of running them eagerly."""
    # With the CELERY_ namespace, Celery reads these keys under their namespaced names.
    webhooks_queue = broker.webhooks_queue
    overrides = {
        "CELERY_TASK_ALWAYS_EAGER": False,
        "CELERY_BROKER_URL": broker.url,
        "CELERY_BROKER_TRANSPORT_OPTIONS": broker.transport_options,
        "CELERY_TASK_DEFAULT_QUEUE": broker.env["_queue"],
        "CELERY_TASK_QUEUES": [
            Queue(name, Exchange(name), routing_key=name) for name in (broker.env["_queue"], webhooks_queue)
        ],
        "CELERY_TASK_ROUTES": {"webhooks.tasks.*": {"queue": webhooks_queue}},
    }
    saved = {key: app.conf.get(key) for key in overrides}
    app.conf.update(overrides)
    _forget_connections()
    try:
        yield app
    finally:
        _forget_connections()
        app.conf.update(saved)


def _forget_connections() -> None:
    """Drop the app's cached broker pool and queue setup, so the next send reads the config again."""
    app._pool = None
    app.__dict__.pop("amqp", None)


class WorkerProcess:
    """One ``celery -A uce worker`` process group on ``queue``, its output in ``log_path``.

    ``kill()`` SIGKILLs all of it at once; ``stop()`` asks it to finish (SIGTERM), then kills it.
    Also used by ``scripts/scale_out.py``.
    """

    def __init__(self, env: dict, queue: str, log_path: Path, *, concurrency: int = 1, name: str | None = None):
        self.name = name or f"test-{uuid.uuid4().hex[:6]}"
        self.log_path = log_path
        self.log = open(log_path, "w")  # noqa: SIM115 (closed in stop/kill)
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "uce", "worker", "--loglevel", "INFO",
                "--concurrency", str(concurrency), "--queues", queue,
                "--hostname", f"{self.name}@%h", "--without-gossip", "--without-mingle",
            ],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"worker {self.name} exited with {self.process.returncode}:\n{self.output()}")
            if " ready." in self.output():
                return
            time.sleep(0.2)
        raise AssertionError(f"worker {self.name} not ready after {timeout} s:\n{self.output()}")

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.log.close()

    def stop(self, timeout: float = 20) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                return
        self.log.close()


class Worker(WorkerProcess):
    """A worker on the test database and the test's broker and queue."""

    def __init__(self, broker: Broker, log_path: Path, concurrency: int = 1, extra_env: dict | None = None):
        env = {k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL",)}
        env.update({k: v for k, v in broker.env.items() if not k.startswith("_")})
        env.update(
            DATABASE_URL=database_url_of_test_db(),
            DJANGO_SETTINGS_MODULE="uce.settings.test",
            UCE_CELERY_EAGER="0",
            UCE_WEBHOOKS_QUEUE=broker.webhooks_queue,
        )
        env.update(extra_env or {})
        queues = f"{broker.env['_queue']},{broker.webhooks_queue}"
        super().__init__(env, queues, log_path, concurrency=concurrency)


def wait_until(predicate, timeout: float, interval: float = 0.2, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{message} not met within {timeout} s")
