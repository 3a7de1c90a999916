"""Writing the rows of a file: COPY into staging, every check in SQL, then one UPDATE and one INSERT.

For every kind but ``pods`` and ``staff``, Python only splits the CSV into records and strips
the values (``parsing.stream_rows``); everything else is set-based, in PostgreSQL:

1. **Staging.**  The records stream with ``COPY`` into a table of text columns, each with its
   line number.
2. **Checks**, in two ``CREATE TABLE ... AS SELECT``.  The first checks every cell by its
   column's rule (``schema.CellSql``: regular expressions and digit counts that make the casts
   safe, and the parsers' own words for the report).  The second types the accepted values,
   looks up the references (account, pod, user, contact), checks each row across its columns
   (``decided_at`` not before ``created_at``, ...) and computes the values of the target table's
   columns.  The parsers without SQL (Django's validators) run in Python once per distinct value,
   and what they refuse joins the first statement as a table.  Each possible problem is a column
   of the result, NULL when there is none; one query then lists the first problems by line, with
   the keys the file repeats, and counts them all.
3. **Writing**, only when the whole file is clean: one ``UPDATE`` rewrites the existing rows
   whose values differ (``IS DISTINCT FROM`` leaves identical rows alone, so re-importing a file
   rewrites and marks nothing), then the rows with new keys are set apart and one ``INSERT`` adds
   them; should another writer add one of them meanwhile, ``ON CONFLICT`` updates it instead.  A
   fact keeps the pod it was first created under: ``pod_id`` is written on insert only.

The new rows are found by a statement of their own, before the ``INSERT``, because a statement
that looks up the table it is filling is planned from the table's size before it starts.  A table
that is empty and has been analyzed (autovacuum leaves it so after an import into it was rolled
back: a worker killed mid-import, whose import then runs again) costs nothing to scan, and the
planner joins on a sequential scan of it, repeated for every row of the file: each of which then
rereads every row the statement has written so far.  200,000 rows took more than five minutes
instead of two seconds, holding the import's locks all along.

The work tables are ``UNLOGGED`` rather than temporary because PostgreSQL's parallel workers can
read the former, not the latter: the cell checks, most of the checking time, then run on every
core.  They are never committed: dropped at the end, or gone with the transaction's rollback.
(A role that may not create tables in the schema gets temporary ones, checked on one core.)

A large import into a table no larger than it (a first load) would spend most of its time
threading a million rows one by one into each index of the table; building an index afresh
sorts instead, several times faster.  So when at least :data:`BULK_ROWS` new rows go into a
table that has fewer rows than that yet, the table's plain indexes (those of no constraint,
not unique) are dropped and built again, in the same transaction, under an ``ACCESS EXCLUSIVE``
lock that also holds readers back until the commit.  Waiting for that lock gives up after
:data:`LOCK_WAIT` and the import goes the ordinary way.  Constraints are never touched: keys,
foreign keys and checks are enforced throughout (an activity's references by statement-level
triggers, once per statement rather than per row: ``jobs`` migration 0009).

What each kind writes to which table is declared in ``tables.py``.  ``pods`` and ``staff`` files
are a line per pod or person, so they go through the ORM instead (``people.py``).

Every SQL string here is assembled from the constants of this module and of ``schema`` (table
and column names, rules), never from the file's content, which only ever travels as COPY data,
query parameters or column values.
"""

import contextlib
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from django.db import DatabaseError, OperationalError, ProgrammingError, connection, transaction

from ..signals import facts_bulk_written
from . import parsing
from .parsing import ErrorLog, Header, ImportRejected, Progress
from .people import ORM_LOADS
from .schema import Column, Kind, RowCheckSql, sql_text, sql_words
from .tables import LOADS, Field, TableLoad, Written

ANALYZE_AFTER_ROWS = 10_000
BULK_ROWS = 100_000  # new rows from which a table smaller than that has its plain indexes built afresh
LOCK_WAIT = "2s"  # how long a bulk import waits to have its table to itself before going the ordinary way
CLIENT_CHECK_INTERVAL = "5s"  # how soon the session of a worker that died mid-import stops and lets go of its locks
PYTHON_BATCH = 200  # distinct values (of at most csv.field_size_limit characters) checked in Python at a time


def load(kind: Kind, path: Path, header: Header, progress: Progress | None = None) -> Written:
    """Write the file at ``path`` of ``kind``, or raise :class:`ImportRejected` with every error.

    Runs inside the caller's transaction: nothing is written unless the whole file is clean.
    """
    if kind.name not in ORM_LOADS:
        return StagedLoad(kind, LOADS[kind.name], header).run(path, progress)
    _, rows = parsing.scan(kind, path)  # a line per pod or person: small
    if progress is not None:
        progress(0, rows)
    log = ErrorLog()
    try:
        written = ORM_LOADS[kind.name](
            parsing.parsed_rows(kind, path, header, log, progress, rows), header.present, log
        )
    except ImportRejected as rejected:
        rejected.rows = rows
        raise
    return replace(written, read=rows)


@dataclass(frozen=True)
class Problem:
    """A column of the checked rows holding one kind of problem: where it goes in the report, and its SQL."""

    column: str
    position: int  # of the column in the file's header (or after its last column)
    sql: str


class StagedLoad:
    """COPY into staging, every check set-based, an UPDATE and an INSERT."""

    def __init__(self, kind: Kind, spec: TableLoad, header: Header):
        self.kind, self.spec, self.header = kind, spec, header
        self.log = ErrorLog()
        self.rows = 0
        # Fresh names per import: several imports may run in one session (tests, the command).
        name = f"uce_import_{uuid.uuid4().hex[:12]}"
        self.staging, self.cells, self.checked, self.refused, self.new = (
            f"{name}_{step}" for step in ("staged", "cells", "checked", "refused", "new")
        )
        self.problems: list[Problem] = []
        self.work_tables = "UNLOGGED"

    def run(self, path: Path, progress: Progress | None = None) -> Written:
        with connection.cursor() as cursor:
            self._stage(cursor, path, progress)
            refused = self._check_in_python(cursor)
            self._check(cursor, refused)
            self._check_rows_in_python(cursor)
            self._report(cursor)
            if self.log:
                raise ImportRejected(self.log, self.rows)
            written = self._write(cursor) if self.rows else Written(0, 0)
            cursor.execute(
                f"DROP TABLE IF EXISTS {self.staging}, {self.cells}, {self.checked}, {self.refused}, {self.new}"
            )
        if self.spec.is_fact and written.changed:
            facts_bulk_written.send(sender=self.spec.model, kind=self.kind.name, rows=written.changed)
        return replace(written, read=self.rows)

    # ---------- 1. staging ----------

    def _stage(self, cursor, path: Path, progress: Progress | None) -> None:
        names = self.header.names
        # A worker killed mid-import (SIGKILL, out of memory) leaves its session running the statement
        # it was in to the end, with the import's locks: PostgreSQL notices a client has gone only
        # when it next writes to it. Checking every few seconds ends the statement and rolls the import
        # back soon after, so its retry need not wait. (Not on every platform: then it goes without.)
        with contextlib.suppress(DatabaseError), transaction.atomic():
            cursor.execute(f"SET LOCAL client_connection_check_interval = '{CLIENT_CHECK_INTERVAL}'")
        # As the metric engine does: sorts and hashes of a million rows stay in memory, and JIT
        # compilation, which costs more than it saves on these statements, stays off.
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute("SET LOCAL jit = off")
        total = parsing.estimate_rows(path)
        if progress is not None:
            progress(0, total)
        # Unlogged tables (see the module's docstring) need the right to create tables in the schema,
        # which PostgreSQL 15 no longer grants everyone; temporary ones need none.
        cursor.execute("SELECT has_schema_privilege(current_schema(), 'CREATE')")
        self.work_tables = "UNLOGGED" if cursor.fetchone()[0] else "TEMPORARY"
        columns = ", ".join(f"{name} text" for name in names)
        cursor.execute(f"CREATE {self.work_tables} TABLE {self.staging} ({columns}, line integer NOT NULL)")
        # Django's cursor wraps psycopg's, whose copy() streams the rows to the server as they come.
        with cursor.cursor.copy(f"COPY {self.staging} ({', '.join(names)}, line) FROM STDIN") as copy:
            self.rows = parsing.stream_rows(self.kind, path, self.header, self.log, copy.write_row, progress, total)

    def _cell(self, name: str) -> str:
        """SQL of the text of a cell of the staging table (stripped already): NULL when empty."""
        return f"nullif(r.{name}, '')"

    # ---------- 2. checks ----------

    def _python_columns(self) -> list[Column]:
        return [column for column in self.kind.columns if column.name in self.header.present and column.sql is None]

    def _check_in_python(self, cursor) -> set[str]:
        """Run the parsers that have no SQL once per distinct value; return the columns with refused values.

        The refused values and the reasons go to a table that the checking query joins.
        """
        refused = set()
        for column in self._python_columns():
            with connection.chunked_cursor() as values:
                values.execute(f"SELECT DISTINCT {self._cell(column.name)} FROM {self.staging} r")  # noqa: S608  # nosec B608 # table and column names come from the kind's spec, values are bound
                while batch := values.fetchmany(PYTHON_BATCH):
                    reasons = []
                    for (value,) in batch:
                        try:
                            if value is not None:
                                column.parse(value)
                        except ValueError as error:
                            reasons.append((column.name, value, str(error)))
                    if reasons and not refused:
                        cursor.execute(
                            f"CREATE {self.work_tables} TABLE {self.refused} "
                            "(column_name text, value text, message text)"
                        )
                    if reasons:
                        refused.add(column.name)
                        cursor.executemany(f"INSERT INTO {self.refused} VALUES (%s, %s, %s)", reasons)  # noqa: S608  # nosec B608 # table and column names come from the kind's spec, values are bound
        return refused

    def _position(self, column: str) -> int:
        names = self.header.names
        return names.index(column) if column in names else len(names)

    def _check(self, cursor, refused: set[str]) -> None:
        """Create the table of checked rows: the target's fields, and a column per kind of problem.

        Two statements, each reading a million rows in parallel where PostgreSQL has the workers:
        the first checks the cells, the costly part (it runs each cell's rule once), the second
        types the accepted values, looks up the references and checks the rows.
        """
        kind, spec, present = self.kind, self.spec, self.header.present
        cells, joins = [], []
        for column in kind.columns:
            if column.name not in present:
                continue
            cell = self._cell(column.name)
            empty = sql_text("A value is required.") if column.required else "NULL"
            if column.sql is not None:
                reason = column.sql.at(cell)[0]
            elif column.name in refused:
                alias = f"x_{column.name}"
                joins.append(
                    f"LEFT JOIN {self.refused} {alias} ON {alias}.column_name = {sql_text(column.name)} "
                    f"AND {alias}.value = {cell}"
                )
                reason = f"{alias}.message"
            else:
                reason = "NULL"
            cells.append(f"{cell} AS {column.name}")
            cells.append(f"CASE WHEN {cell} IS NULL THEN {empty} ELSE {reason} END AS {column.name}__error")
        cursor.execute(
            f"""CREATE {self.work_tables} TABLE {self.cells} AS
                SELECT r.line, {", ".join(cells)} FROM {self.staging} r {" ".join(joins)}"""  # noqa: S608  # nosec B608 # table and column names come from the kind's spec, values are bound
        )

        values = []
        for column in kind.columns:
            if column.name in present:
                value = column.sql.at(f"e.{column.name}")[1] if column.sql is not None else f"e.{column.name}"
                values.append(
                    f"CASE WHEN e.{column.name}__error IS NULL THEN ({value})::{column.sql_type} END AS {column.name}, "
                    f"e.{column.name} AS {column.name}__text, e.{column.name}__error"
                )
            else:
                values.append(f"NULL::{column.sql_type} AS {column.name}, NULL::text AS {column.name}__text")
        self.problems = self._problems()
        references = "\n".join(
            f"LEFT JOIN {reference.table} {reference.alias} ON {reference.alias}.{reference.key} = s.{reference.column}"
            for reference in spec.references
        )
        keys = [f"CASE WHEN s.{name} IS NOT NULL THEN s.{name}__text END AS key_{name}" for name in kind.key]
        fields = [f"{field.expression} AS field_{field.column}" for field in spec.fields]
        problems = [f"{problem.sql} AS problem_{number}" for number, problem in enumerate(self.problems)]
        cursor.execute(
            f"""CREATE {self.work_tables} TABLE {self.checked} AS
                SELECT s.line, {", ".join([*keys, *fields, *problems])}
                FROM (SELECT e.line, {", ".join(values)} FROM {self.cells} e) s
                {references}"""  # noqa: S608  # nosec B608 # table and column names come from the kind's spec, values are bound
        )

    def _problems(self) -> list[Problem]:
        """The columns of problems of the checked rows, in the order the report lists a line's problems."""
        kind, spec, present = self.kind, self.spec, self.header.present
        problems = [
            Problem(column.name, self._position(column.name), f"s.{column.name}__error")
            for column in kind.columns
            if column.name in present
        ]
        for check in kind.row_checks:
            if isinstance(check, RowCheckSql):
                for column, sql in check.problems(lambda name: f"s.{name}", lambda name: f"s.{name}__text"):
                    problems.append(Problem(column, self._position(column), sql))
        for reference in spec.references:
            if reference.column in present:
                unknown = sql_words(f'Unknown {reference.noun} "{{value}}".', value=f"s.{reference.column}")
                sql = f"CASE WHEN s.{reference.column} IS NOT NULL AND {reference.alias}.id IS NULL THEN {unknown} END"
                problems.append(Problem(reference.column, self._position(reference.column), sql))
        for check in spec.checks:
            if check.column in present:
                problems.append(Problem(check.column, self._position(check.column), check.error))
        return problems

    def _check_rows_in_python(self, cursor) -> None:
        """Run the row checks that have no SQL (a kind registered by another app may bring some) over every row."""
        checks = [check for check in self.kind.row_checks if not isinstance(check, RowCheckSql)]
        if not checks:
            return
        columns = self.kind.columns
        cells = ", ".join(
            self._cell(column.name) if column.name in self.header.present else "NULL" for column in columns
        )
        with connection.chunked_cursor() as rows:
            rows.execute(f"SELECT r.line, {cells} FROM {self.staging} r ORDER BY r.line")  # noqa: S608  # nosec B608 # table and column names come from the kind's spec, values are bound
            while batch := rows.fetchmany(PYTHON_BATCH):
                for line, *texts in batch:
                    values = {
                        column.name: _parsed_or_none(column, text) for column, text in zip(columns, texts, strict=True)
                    }
                    for check in checks:
                        for column, message in check(values):
                            self.log.add(line, column, message)

    def _report(self, cursor) -> None:
        """Add to the log the first problems of the checked rows, by line, and keys the file repeats; count all."""
        problems = self.problems
        rows = ", ".join(
            f"({problem.position}, {number}, {sql_text(problem.column)}, s.problem_{number})"
            for number, problem in enumerate(problems)
        )
        any_problem = f"num_nonnulls({', '.join(f's.problem_{number}' for number in range(len(problems)))}) > 0"
        found = (
            [
                f"""SELECT s.line, v.position, v.number, v.column_name, v.message
                FROM {self.checked} s CROSS JOIN LATERAL (VALUES {rows}) v(position, number, column_name, message)
                WHERE {any_problem} AND v.message IS NOT NULL"""  # noqa: S608  # nosec B608 # table and column names come from the kind's spec, values are bound
            ]
            if problems
            else []
        )
        key = self.kind.key
        described = sql_words(
            "The file already has a row with "
            + ", ".join(f'{name} "{{{name}}}"' for name in key)
            + ", on line {first_line}.",
            first_line="first_line",
            **{name: f"key_{name}" for name in key},
        )
        partition = ", ".join(f'key_{name} COLLATE "C"' for name in key)
        found.append(
            f"""SELECT line, {self._position(key[-1])}, {len(problems)}, {sql_text(key[-1])}, {described}
                FROM (
                    SELECT line, {", ".join(f"key_{name}" for name in key)},
                           row_number() OVER w AS repeat, first_value(line) OVER w AS first_line
                    FROM {self.checked}
                    WHERE {" AND ".join(f"key_{name} IS NOT NULL" for name in key)}
                    WINDOW w AS (PARTITION BY {partition} ORDER BY line)
                ) keyed
                WHERE repeat > 1"""  # noqa: S608  # nosec B608 # table and column names come from the kind's spec, values are bound
        )
        cursor.execute(
            f"""SELECT line, column_name, left(message, {parsing.MAX_MESSAGE_LENGTH}), count(*) OVER ()
                FROM ({" UNION ALL ".join(found)}) found (line, position, number, column_name, message)
                ORDER BY line, position, number
                LIMIT {self.log.limit}"""  # noqa: S608  # nosec B608 # table and column names come from the kind's spec, values are bound
        )
        rows = cursor.fetchall()
        errors = [{"line": line, "column": column, "message": message} for line, column, message, _ in rows]
        self.log.merge(errors, rows[0][-1] if rows else 0, self.header.names)

    # ---------- 3. writing ----------

    def _updated_fields(self) -> list[Field]:
        return [
            field
            for field in self.spec.fields
            if not field.insert_only
            and field.column not in self.spec.conflict
            and (field.source is None or field.source in self.header.present)
        ]

    def _same_key(self) -> str:
        return " AND ".join(f"t.{column} = s.field_{column}" for column in self.spec.conflict)

    def _write(self, cursor) -> Written:
        table = self.spec.table
        dropped = _plain_indexes_dropped(cursor, table) if self._worth_rebuilding_indexes(cursor) else None
        updated = self._update(cursor)  # first: its join then meets only the rows that were there
        self._set_new_rows_apart(cursor)
        created, also_updated = self._insert(cursor, alone=dropped is not None)
        if dropped is not None:
            _build_indexes(cursor, dropped)
        if created + updated > ANALYZE_AFTER_ROWS:
            cursor.execute(f"ANALYZE {table}")
        return Written(created, updated + also_updated)

    def _update(self, cursor) -> int:
        """Rewrite the existing rows whose values differ; return how many."""
        fields = self._updated_fields()
        if not fields:
            return 0
        cursor.execute(
            f"""UPDATE {self.spec.table} t
                SET {", ".join(f"{field.column} = s.field_{field.column}" for field in fields)}
                FROM {self.checked} s
                WHERE {self._same_key()}
                  AND ROW({", ".join(f"t.{field.column}" for field in fields)})
                      IS DISTINCT FROM ROW({", ".join(f"s.field_{field.column}" for field in fields)})"""  # noqa: S608  # nosec B608 # table and column names come from the kind's spec, values are bound
        )
        return cursor.rowcount

    def _set_new_rows_apart(self, cursor) -> None:
        """Copy the checked rows whose keys the table does not have into a table of their own.

        Reading the table here, and not in the ``INSERT``, is what keeps the import fast whatever
        the planner makes of the table's size (see the module's docstring): nothing is written to
        it while this statement reads it.
        """
        columns = ", ".join(f"s.field_{field.column}" for field in self.spec.fields)
        cursor.execute(
            f"""CREATE {self.work_tables} TABLE {self.new} AS
                SELECT {columns} FROM {self.checked} s
                WHERE NOT EXISTS (SELECT FROM {self.spec.table} t WHERE {self._same_key()})"""  # noqa: S608  # nosec B608 # table and column names come from the kind's spec, values are bound
        )

    def _insert(self, cursor, alone: bool) -> tuple[int, int]:
        """Add the new rows (set apart already); return how many, and how many were updated instead.

        Unless the import has the table to itself, another writer (the log-activity form, say) may
        add one of those keys meanwhile: ``ON CONFLICT`` then updates that row with the file's values.
        """
        columns = [field.column for field in self.spec.fields]
        insert = f"""INSERT INTO {self.spec.table} AS t ({", ".join(columns)})
            SELECT {", ".join(f"s.field_{column}" for column in columns)} FROM {self.new} s"""  # noqa: S608  # nosec B608 # table and column names come from the kind's spec, values are bound
        if alone:
            cursor.execute(insert)
            return cursor.rowcount, 0
        fields = self._updated_fields()
        on_conflict = (
            f"""DO UPDATE SET {", ".join(f"{field.column} = EXCLUDED.{field.column}" for field in fields)}
                WHERE ROW({", ".join(f"t.{field.column}" for field in fields)})
                      IS DISTINCT FROM ROW({", ".join(f"EXCLUDED.{field.column}" for field in fields)})"""  # nosec B608 # column names come from the kind's spec
            if fields
            else "DO NOTHING"
        )
        cursor.execute(
            f"""WITH written AS (
                    {insert}
                    ON CONFLICT ({", ".join(self.spec.conflict)}) {on_conflict}
                    RETURNING xmax = 0 AS created
                )
                SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created) FROM written"""  # noqa: S608  # nosec B608 # table and column names come from the kind's spec, values are bound
        )
        return cursor.fetchone()

    def _worth_rebuilding_indexes(self, cursor) -> bool:
        """Are at least BULK_ROWS rows new to a table that has fewer rows than that?

        The planner's estimate of the table's size spares the count of new rows when the table is
        at least as large as the file (a file imported again, say).
        """
        if self.rows < BULK_ROWS:
            return False
        cursor.execute(
            "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = %s::regclass", [self.spec.table]
        )
        (existing,) = cursor.fetchone()
        if existing >= self.rows:
            return False
        cursor.execute(
            f"""SELECT count(*) FROM {self.checked} s
                WHERE NOT EXISTS (SELECT FROM {self.spec.table} t WHERE {self._same_key()})"""  # noqa: S608  # nosec B608 # table and column names come from the kind's spec, values are bound
        )
        (new,) = cursor.fetchone()
        return new >= BULK_ROWS and new > existing


def _parsed_or_none(column: Column, text: str | None) -> Any:
    """The Python value of a cell, or ``None`` when it is empty or refused (its problem is reported already)."""
    if text is None:
        return None
    try:
        return column.parse(text)
    except ValueError:
        return None


def _plain_indexes_dropped(cursor, table: str) -> list[str] | None:
    """Take ``table`` alone and drop its indexes that back no constraint and are not unique; return their SQL.

    ``None``, and nothing done, when the table is not granted within LOCK_WAIT (others are reading
    or writing it) or this role may not drop its indexes (it does not own the table).  Only ever in
    the import's transaction: should anything fail later, its rollback restores the indexes.
    """
    cursor.execute("SELECT current_setting('lock_timeout')")
    (previous,) = cursor.fetchone()
    try:
        with transaction.atomic():  # a savepoint: giving up leaves the import's transaction usable
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [LOCK_WAIT])
            cursor.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
            cursor.execute(
                """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
                   WHERE i.indrelid = %s::regclass AND i.indisvalid AND NOT i.indisunique
                     AND NOT EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = i.indexrelid)
                   ORDER BY 1""",
                [table],
            )
            indexes = cursor.fetchall()
            for name, _ in indexes:
                cursor.execute(f"DROP INDEX {name}")
    except (OperationalError, ProgrammingError):  # lock_not_available; insufficient_privilege
        return None
    finally:
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])
    return [definition for _, definition in indexes]


def _build_indexes(cursor, definitions: list[str]) -> None:
    """Build the indexes :func:`_plain_indexes_dropped` dropped, exactly as they were (``pg_get_indexdef``)."""
    # CREATE INDEX refuses to run while deferred foreign-key checks are pending: run them now.
    # (Every deferrable constraint of the schema is INITIALLY DEFERRED, so DEFERRED restores them.)
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for definition in definitions:
        cursor.execute(definition)
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
