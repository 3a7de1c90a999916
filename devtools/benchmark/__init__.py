"""Performance at scale: a large organisation built through the real import path in a fresh database,
each part of the product timed against what PostgreSQL does with the same data by hand.

``python manage.py benchmark`` calls :func:`run`.  The calling process does only what is not
measured: it creates a database on the configured server, streams the CSV files to a temporary
directory, runs the measured steps and prints the table.  Every measured step is a child process
of its own (``manage.py benchmark --phase NAME``, :func:`run_phase`) with ``DATABASE_URL``
pointing at the fresh database, so each step's peak memory is its own and no step warms Python
caches for the next.  What each bar means and why each baseline is fair: ``docs/PERFORMANCE.md``.

- ``organisation.py``: :class:`Size` and the CSV files of the generated organisation;
- ``server.py``: the PostgreSQL server and the run's fresh database;
- ``phases.py``: the measured steps (child processes), ``views.py`` and ``urls.py`` the dashboard
  step's comparison pages;
- ``report.py``: the table, the details, the machine and the report in docs/PERFORMANCE.md;
- ``runner.py``: the calling process.
"""

from .organisation import Size
from .phases import PHASES, run_phase
from .report import LATEST_RUN_START, machine, write_report
from .runner import run
from .server import BenchmarkFailed, Server

__all__ = [
    "LATEST_RUN_START",
    "PHASES",
    "BenchmarkFailed",
    "Server",
    "Size",
    "machine",
    "run",
    "run_phase",
    "write_report",
]
