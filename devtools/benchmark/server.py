"""The PostgreSQL server the benchmark runs on, and the fresh database it creates there for each run."""

import secrets
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings


class BenchmarkFailed(Exception):
    """A step of the benchmark failed; the message holds the end of its output."""


class Server:
    """The PostgreSQL server of ``settings.DATABASE_URL`` (a ``DATABASE_URL`` or the embedded server)."""

    def __init__(self, url: str):
        self.url = url

    @classmethod
    def from_settings(cls) -> "Server":
        return cls(settings.DATABASE_URL)

    def url_for(self, database: str) -> str:
        parts = urlsplit(self.url)
        return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))

    def _libpq_url(self, database: str) -> str:
        # Django's URL schemes (postgres://, pgsql://, ...) are not all libpq's.
        parts = urlsplit(self.url_for(database))
        return urlunsplit(("postgresql", parts.netloc, parts.path, parts.query, parts.fragment))

    @contextmanager
    def maintenance_connection(self):
        """An autocommit connection to the server, for CREATE/DROP DATABASE."""
        import psycopg

        configured = urlsplit(self.url).path.lstrip("/")
        problem = None
        for database in dict.fromkeys(name for name in (configured, "postgres", "template1") if name):
            try:
                conn = psycopg.connect(self._libpq_url(database), autocommit=True)
            except psycopg.OperationalError as error:
                problem = error
                continue
            try:
                yield conn
            finally:
                conn.close()
            return
        raise BenchmarkFailed(f"Cannot connect to the PostgreSQL server of DATABASE_URL: {problem}")

    def create_database(self, name: str | None = None, *, template: str | None = None) -> str:
        """A new database (by default ``uce_bench_<random>``): empty, or a copy of ``template``, which nobody may be
        connected to meanwhile."""
        name = name or f"uce_bench_{secrets.token_hex(4)}"
        copying = f' TEMPLATE "{template}"' if template else ""
        with self.maintenance_connection() as conn:
            conn.execute(f'CREATE DATABASE "{name}"{copying}')
        return name

    def drop_database(self, name: str) -> None:
        with self.maintenance_connection() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
