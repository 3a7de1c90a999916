"""Running a CSV import: check the header, stream the file into PostgreSQL, check and write it there, report.

The header is read and checked first; a count of the file's lines gives the progress bar a
total at once.  Then, in one transaction, the rows stream into PostgreSQL, which checks every
cell, reference and key set-based and writes a clean file (``loading.py``); the progress bar
follows the reading.  Imports of one kind take turns (a transaction-level advisory lock), so
two imports of the same file at once cannot race each other's writes.
"""

import contextlib
import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, connections, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from webhooks import events as webhook_events
from webhooks import services as webhooks
from webhooks.choices import EventType

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
    # A dry run's first rows as they would be stored: {"columns": [...], "rows": [[...], ...], "lines": [...]}.
    preview: dict[str, Any] = field(default_factory=dict)

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


PREVIEW_ROWS = 10


class _RolledBack(Exception):  # noqa: N818
    """Raised inside a dry run's transaction so that nothing it wrote is kept."""


def first_rows(path: Path | str, count: int = PREVIEW_ROWS) -> dict[str, Any]:
    """The header and first ``count`` data rows of a CSV file of ours, with their line numbers."""
    with open(path, encoding="utf-8-sig", newline="") as file:
        reader = csv.reader(file)
        columns = next(reader, [])
        rows, lines = [], []
        line = reader.line_num + 1
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append(row)
                lines.append(line)
                if len(rows) == count:
                    break
            line = reader.line_num + 1
    return {"columns": columns, "rows": rows, "lines": lines}


def import_file(
    kind: str, path: Path | str, progress: Progress | None = None, *, dry_run: bool = False
) -> ImportResult:
    """Import the CSV file at ``path`` as ``kind``, synchronously; all or nothing.

    ``dry_run``: check and write it all the same, then roll the writes back: the report, and the rows that would be
    new or updated, without a change (a preview)."""
    spec = CSV_KINDS[kind]
    path = Path(path)
    try:
        header = parsing.read_header(spec, path)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [KIND_LOCK, ImportKind.values.index(kind)])
            written = loading.load(spec, path, header, progress)
            if dry_run:
                raise _RolledBack
    except ImportRejected as rejected:
        return ImportResult(kind, rejected.rows, errors=rejected.log.errors, error_count=rejected.log.count)
    except _RolledBack:
        pass
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
        if import_job.is_finished or import_job.awaits_confirmation:
            return import_job
        dry_run = import_job.is_dry_run
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
            result, used = _import(import_job, progress, dry_run=dry_run)
        except DatabaseError as error:
            if not isinstance(error, RETRYABLE):
                mark_failed(import_job.pk, error)
            raise  # a lost connection is retried by the task; the rolled-back transaction wrote nothing
        except Exception as error:
            mark_failed(import_job.pk, error)
            raise
        finally:
            progress_connection.close()
        if not result.succeeded:
            outcome = ImportJob.Status.FAILED
        else:
            outcome = ImportJob.Status.CHECKED if dry_run else ImportJob.Status.SUCCEEDED
        jobs.update(
            **used,
            status=outcome,
            preview_rows=result.preview if dry_run else import_job.preview_rows,
            rows_total=result.rows,
            rows_processed=result.rows or 0,  # every row was read, whichever way it went
            rows_created=result.created if result.succeeded else None,
            rows_updated=result.updated if result.succeeded else None,
            errors=result.errors,
            error_count=result.error_count,
            finished_at=None if outcome == ImportJob.Status.CHECKED else timezone.now(),
        )
    import_job.refresh_from_db()
    if import_job.is_finished:  # not a preview checked and waiting for its confirmation
        webhooks.emit(EventType.IMPORT_FINISHED, lambda: webhook_events.import_finished(import_job))
    return import_job


def _import(import_job: ImportJob, progress: Progress, *, dry_run: bool) -> tuple[ImportResult, dict[str, str]]:
    """Our own CSV, or a CRM export translated first (sources/): a translation that fails is the report.

    Returns the result and what was used to read an export (the mapping detected, the zone it gave), so that the
    import confirmed after a preview reads the file exactly as the preview did."""
    if not import_job.source:
        result = import_file(import_job.kind, import_job.file.path, progress, dry_run=dry_run)
        if dry_run:
            result.preview = first_rows(import_job.file.path)
        return result, {}
    from .sources.importing import SourceError, TranslationError, import_export

    try:
        done = import_export(
            import_job.kind,
            import_job.file.path,
            source=import_job.source,
            mapping_name=import_job.mapping or None,
            timezone=import_job.source_timezone or None,
            progress=progress,
            dry_run=dry_run,
        )
    except SourceError as error:
        result = ImportResult(
            import_job.kind, errors=[{"line": 1, "column": None, "message": str(error)}], error_count=1
        )
        return result, {}
    except TranslationError as error:
        result = ImportResult(import_job.kind, errors=[p.as_error() for p in error.problems], error_count=error.count)
        return result, {}
    used = {"mapping": done.mapping.name}
    if not import_job.source_timezone and done.mapping.timezone:
        used["source_timezone"] = done.mapping.timezone
    return done.result, used


def mark_failed(import_id: int, error: Exception) -> None:
    """Record that an import stopped on an unexpected error (its transaction wrote nothing)."""
    message = f"The import stopped on an unexpected error and wrote nothing: {error}"
    ImportJob.objects.filter(pk=import_id).update(
        status=ImportJob.Status.FAILED,
        errors=[{"line": None, "column": None, "message": message[:2000]}],
        error_count=1,
        finished_at=timezone.now(),
    )
    webhooks.emit(
        EventType.IMPORT_FINISHED, lambda: webhook_events.import_finished(ImportJob.objects.get(pk=import_id))
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


def _enqueue_on_commit(import_id: int) -> None:
    def enqueue():
        from ..tasks import run_import as run_import_task  # the task module imports this one

        run_import_task.delay(import_id)

    # robust: a broker outage must not fail the upload; beat re-sends pending imports.
    transaction.on_commit(enqueue, robust=True)


@transaction.atomic
def import_start(
    *,
    kind: str,
    file,
    created_by,
    source: str = "",
    mapping: str = "",
    source_timezone: str = "",
    preview: bool = False,
) -> ImportJob:
    """Store an uploaded file as a pending import and have a worker run it once this transaction commits.

    ``source`` (with an optional ``mapping`` and ``source_timezone``): a Salesforce or HubSpot export, translated
    on the worker before the import (docs/IMPORT-SOURCES.md).  ``preview``: the worker checks it through and
    keeps its first rows as they would be stored, writing nothing, until :func:`import_confirm`."""
    import_job = ImportJob.objects.create(
        kind=kind,
        file=file,
        created_by=created_by,
        source=source,
        mapping=mapping,
        source_timezone=source_timezone,
        preview=preview,
    )
    _enqueue_on_commit(import_job.pk)
    return import_job


class NotAwaitingConfirmation(Exception):  # noqa: N818
    """Only a checked preview can be confirmed (not one still being checked, failed, or already confirmed)."""


@transaction.atomic
def import_confirm(visible: ImportJob) -> ImportJob:
    """The admin's go-ahead after a preview: the same file, read the same way, is imported for real on a worker.

    ``visible``: the import as the caller found it in ``imports_visible_to``; it is locked and read again here."""
    import_job = ImportJob.objects.select_for_update().get(pk=visible.pk)
    if not import_job.awaits_confirmation:
        raise NotAwaitingConfirmation(f"Import {import_job.pk} is {import_job.get_status_display().lower()}.")
    import_job.confirmed_at = timezone.now()
    import_job.status = ImportJob.Status.PENDING
    import_job.save(update_fields=["confirmed_at", "status"])
    _enqueue_on_commit(import_job.pk)
    return import_job
