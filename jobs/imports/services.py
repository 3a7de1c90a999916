"""Running a CSV import: check the header, stream the file into PostgreSQL, check and write it there, report.

The header is read and checked first; a count of the file's lines gives the progress bar a
total at once.  Then, in one transaction, the rows stream into PostgreSQL, which checks every
cell, reference and key set-based and writes a clean file (``loading.py``); the progress bar
follows the reading.  Imports of one kind take turns (a transaction-level advisory lock), so
two imports of the same file at once cannot race each other's writes.
"""

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, connections, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from ..models import ImportJob, ImportKind
from . import loading, parsing
from .parsing import ImportRejected, Progress
from .schema import CSV_KINDS

RETRYABLE = (OperationalError, InterfaceError)

# Advisory lock classes (two-key form): imports of one kind, and one import being run.
KIND_LOCK = 0x0CE_0002
RUN_LOCK = 0x0CE_0003


class ImportBusy(Exception):  # noqa: N818
    """The import is being run by another worker right now (a redelivered message): try again later."""


@dataclass
class ImportResult:
    """What an import did: rows read and written, or the error report (then nothing was written)."""

    kind: str
    rows: int | None = None
    created: int = 0
    updated: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0

    @property
    def succeeded(self) -> bool:
        return self.error_count == 0

    @property
    def unchanged(self) -> int:
        return (self.rows or 0) - self.created - self.updated

    def summary(self) -> str:
        if self.succeeded:
            return rows_imported_summary(self.rows or 0, self.created, self.updated)
        return f"Nothing was imported: {error_count_text(self.error_count)}."


def rows_imported_summary(rows: int, created: int, updated: int) -> str:
    """``"1200 rows imported (1000 new, 150 updated, 50 unchanged)"``."""
    noun = "row" if rows == 1 else "rows"
    return f"{rows} {noun} imported ({created} new, {updated} updated, {rows - created - updated} unchanged)"


def error_count_text(count: int) -> str:
    return f"{count} error{'' if count == 1 else 's'} in the file"


def format_error(error: dict[str, Any]) -> str:
    """One line of the error report, as the command prints it."""
    where = f"line {error['line']}" if error["line"] else "the file"
    if error["column"]:
        where += f", column {error['column']}"
    return f"{where}: {error['message']}"


def import_file(kind: str, path: Path | str, progress: Progress | None = None) -> ImportResult:
    """Import the CSV file at ``path`` as ``kind``, synchronously; all or nothing."""
    spec = CSV_KINDS[kind]
    path = Path(path)
    try:
        header = parsing.read_header(spec, path)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [KIND_LOCK, ImportKind.values.index(kind)])
            written = loading.load(spec, path, header, progress)
    except ImportRejected as rejected:
        return ImportResult(kind, rejected.rows, errors=rejected.log.errors, error_count=rejected.log.count)
    return ImportResult(kind, written.read, created=written.created, updated=written.updated)


@contextlib.contextmanager
def _claimed(import_id: int):
    """Own the running of one import for this session; raise :class:`ImportBusy` if another does."""
    key = [RUN_LOCK, import_id % 2**31]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", key)
        (acquired,) = cursor.fetchone()
    if not acquired:
        raise ImportBusy(f"import {import_id} is being run elsewhere")
    try:
        yield
    finally:
        # A lost connection has lost the lock with it; do not hide the error that lost it.
        with contextlib.suppress(DatabaseError), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", key)


def run_import(import_job: ImportJob) -> ImportJob:
    """Run an uploaded import and record its outcome on it; an import already finished is left alone.

    Safe to run again after a crash: the interrupted transaction wrote nothing, so the import
    simply starts over.  Progress goes through a second connection in autocommit, so the page and
    the API see it while the import's own transaction is still open.
    """
    jobs = ImportJob.objects.filter(pk=import_job.pk)
    with _claimed(import_job.pk):
        import_job.refresh_from_db()
        if import_job.is_finished:
            return import_job
        jobs.update(
            status=ImportJob.Status.RUNNING,
            started_at=timezone.now(),
            finished_at=None,
            rows_total=None,
            rows_processed=0,
            rows_created=None,
            rows_updated=None,
            errors=[],
            error_count=0,
        )
        progress_connection = connections.create_connection("default")

        def progress(done: int, total: int) -> None:
            # Progress is for the people watching: a hiccup here must not stop the import itself.
            with contextlib.suppress(DatabaseError), progress_connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE jobs_importjob SET rows_processed = %s, rows_total = %s WHERE id = %s",
                    [min(done, total), total, import_job.pk],
                )

        try:
            result = _import(import_job, progress)
        except DatabaseError as error:
            if not isinstance(error, RETRYABLE):
                mark_failed(import_job.pk, error)
            raise  # a lost connection is retried by the task; the rolled-back transaction wrote nothing
        except Exception as error:
            mark_failed(import_job.pk, error)
            raise
        finally:
            progress_connection.close()
        jobs.update(
            status=ImportJob.Status.SUCCEEDED if result.succeeded else ImportJob.Status.FAILED,
            rows_total=result.rows,
            rows_processed=result.rows or 0,  # every row was read, whichever way it went
            rows_created=result.created if result.succeeded else None,
            rows_updated=result.updated if result.succeeded else None,
            errors=result.errors,
            error_count=result.error_count,
            finished_at=timezone.now(),
        )
    import_job.refresh_from_db()
    return import_job


def _import(import_job: ImportJob, progress: Progress) -> ImportResult:
    """Our own CSV, or a CRM export translated first (sources/): a translation that fails is the report."""
    if not import_job.source:
        return import_file(import_job.kind, import_job.file.path, progress)
    from .sources.importing import SourceError, TranslationError, import_export

    try:
        return import_export(
            import_job.kind,
            import_job.file.path,
            source=import_job.source,
            mapping_name=import_job.mapping or None,
            timezone=import_job.source_timezone or None,
            progress=progress,
        ).result
    except SourceError as error:
        return ImportResult(import_job.kind, errors=[{"line": 1, "column": None, "message": str(error)}], error_count=1)
    except TranslationError as error:
        return ImportResult(import_job.kind, errors=[p.as_error() for p in error.problems], error_count=error.count)


def mark_failed(import_id: int, error: Exception) -> None:
    """Record that an import stopped on an unexpected error (its transaction wrote nothing)."""
    message = f"The import stopped on an unexpected error and wrote nothing: {error}"
    ImportJob.objects.filter(pk=import_id).update(
        status=ImportJob.Status.FAILED,
        errors=[{"line": None, "column": None, "message": message[:2000]}],
        error_count=1,
        finished_at=timezone.now(),
    )


def max_upload_bytes() -> int:
    """``UCE_IMPORT_MAX_BYTES`` (default 200 MB); Django's own upload limits do not cover files."""
    return settings.UCE_IMPORT_MAX_BYTES


def upload_size_problem(size: int | None) -> str | None:
    """Why a file of ``size`` bytes may not be imported, or ``None`` when it may."""
    limit = max_upload_bytes()
    if size is not None and size > limit:
        return f"The file is {filesizeformat(size)}; at most {filesizeformat(limit)} may be imported at once."
    return None


@transaction.atomic
def import_start(
    *, kind: str, file, created_by, source: str = "", mapping: str = "", source_timezone: str = ""
) -> ImportJob:
    """Store an uploaded file as a pending import and have a worker run it once this transaction commits.

    ``source`` (with an optional ``mapping`` and ``source_timezone``): a Salesforce or HubSpot export, translated
    on the worker before the import (docs/IMPORT-SOURCES.md)."""
    import_job = ImportJob.objects.create(
        kind=kind, file=file, created_by=created_by, source=source, mapping=mapping, source_timezone=source_timezone
    )

    def enqueue():
        from ..tasks import run_import as run_import_task  # the task module imports this one

        run_import_task.delay(import_job.pk)

    # robust: a broker outage must not fail the upload; beat re-sends pending imports.
    transaction.on_commit(enqueue, robust=True)
    return import_job
