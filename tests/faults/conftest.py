"""Fixtures of the fault tests: private Redis and PostgreSQL servers, real workers, and the figures they report.

``UCE_RELIABILITY_DIR`` (set by ``make reliability``): each fault test writes what it measured to
``<dir>/faults/<test>.json`` for ``scripts/reliability_report.py``.
"""

import json
import os
from pathlib import Path

import pytest

from devtools.workers import Worker

from .servers import PostgresServer, RedisServer, worker_on


@pytest.fixture
def private_redis(tmp_path):
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def private_postgres():
    server = PostgresServer()
    try:
        server.start()
        server.manage("migrate", "--noinput", "-v", "0")
        yield server
    finally:
        server.stop()


@pytest.fixture
def start_worker(tmp_path):
    """``start_worker(broker, database_url=None)``: a ready worker process, stopped after the test."""
    started = []

    def start(broker, *, database_url: str | None = None, name: str = "worker"):
        log = tmp_path / f"{name}-{len(started)}.log"
        worker = worker_on(database_url, broker, log) if database_url else Worker(broker, log)
        started.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def figures(request):
    """A dict the test fills with what it measured; written out for the reliability report when asked to."""
    measured: dict = {}
    yield measured
    folder = os.environ.get("UCE_RELIABILITY_DIR")
    if folder and measured:
        path = Path(folder) / "faults" / f"{request.node.name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(measured, indent=2, default=str))
