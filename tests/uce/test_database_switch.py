"""DATABASE_URL picks the database; without it the project starts its own embedded PostgreSQL.

Both cases run Django in a fresh interpreter: settings are read once per process, and the embedded
server is stopped by the exit of the last process attached to it.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

PRINT_CONNECTION_SETTINGS = """
import json, django
django.setup()
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({key: db[key] for key in ("ENGINE", "HOST", "PORT", "NAME", "USER")}))
"""

QUERY_THROUGH_DJANGO = """
import json, django
django.setup()
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("select version()")
    version = cursor.fetchone()[0]
# Where libpq really connected: dj-database-url leaves HOST empty and puts a socket directory in OPTIONS.
host = connection.connection.info.host
connection.close()
print(json.dumps({"version": version, "host": host}))
"""


def django_env(var_dir, **extra):
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "UCE_EMBEDDED_PGDATA")}
    env.update(DJANGO_SETTINGS_MODULE="uce.settings.local", UCE_VAR_DIR=str(var_dir), **extra)
    return env


def run_python(code, env, timeout=60):
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_database_url_decides_where_django_connects(tmp_path):
    env = django_env(tmp_path / "var", DATABASE_URL="postgresql://uce_app:secret@db.example.com:6543/uce_prod")
    result = run_python(PRINT_CONNECTION_SETTINGS, env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": "db.example.com",
        "PORT": 6543,
        "NAME": "uce_prod",
        "USER": "uce_app",
    }
    assert not (tmp_path / "var" / "pgdata").exists()


@pytest.fixture
def var_dir():
    """A short, world-traversable directory: when run as root, pgserver runs postgres as the
    ``pgserver`` user, which must reach the data directory, and the socket path must stay short."""
    path = Path(tempfile.mkdtemp(prefix="uce-db-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    pid_file = path / "pgdata" / "postmaster.pid"
    if pid_file.exists():
        # The subprocess failed to stop its server; stop that one postmaster (fast shutdown) before deleting.
        os.kill(int(pid_file.read_text().split()[0]), signal.SIGINT)
    shutil.rmtree(path, ignore_errors=True)


def test_without_database_url_the_embedded_postgresql_starts_and_stops(var_dir):
    result = run_python(QUERY_THROUGH_DJANGO, django_env(var_dir))
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["version"].startswith("PostgreSQL ")

    pgdata = var_dir / "pgdata"
    assert (pgdata / "PG_VERSION").is_file()
    # A Unix socket inside the data directory: no TCP port that could clash with another PostgreSQL.
    assert Path(answer["host"]).is_relative_to(var_dir)
    # The last process attached to the server stops it on exit.
    assert not (pgdata / "postmaster.pid").exists()
