"""Writing the rows of a file: COPY into a staging table, checks in SQL, then one set-based upsert.

For every kind but ``pods`` and ``staff`` the rows stream into a temporary staging table with
PostgreSQL ``COPY`` (rows with problems too, with what could be read of them); references
(accounts, pods, users, contacts) and keys repeated in the file are then checked with one
set-based query each, so their errors carry line numbers too; and only when the whole file is
clean does one ``INSERT ... SELECT ... ON CONFLICT DO UPDATE`` write the target table.  Its
``WHERE ... IS DISTINCT FROM`` leaves identical rows alone, so re-importing a file rewrites
nothing (and marks nothing dirty).  A fact keeps the pod it was first created under: ``pod_id``
is written on insert only.

``pods`` and ``staff`` files are a line per pod or person, so they go through the ORM: a pod's
leaders are a many-to-many set, and a change of assignment must go through
``pods.services.assignment_reassign``, the one definition of a reassignment.

Every SQL string here is assembled from the constants of this module (table and column names),
never from the file's content, which only ever travels as COPY data or query parameters.
"""

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models import Max

from pods.models import Account, Assignment, Contact, Pod, User
from pods.services import assignment_reassign

from ..models import Activity, AdoptionReading, Lead, Opportunity, Order, SupportTicket
from ..signals import facts_bulk_written
from .parsing import ErrorLog, Header, ImportRejected
from .schema import KINDS, Kind

ANALYZE_AFTER_ROWS = 10_000

Rows = Iterable[tuple[int, dict[str, Any]]]


@dataclass(frozen=True)
class Written:
    created: int
    updated: int

    @property
    def rows(self) -> int:
        return self.created + self.updated


@dataclass(frozen=True)
class Reference:
    """A CSV column naming a row of another table (an account by external_id, a pod by slug, ...)."""

    column: str
    model: type[models.Model]
    key: str
    alias: str
    noun: str

    @property
    def table(self) -> str:
        return self.model._meta.db_table


@dataclass(frozen=True)
class Field:
    """A column of the target table: the SQL giving its value, and the CSV column it comes from.

    A field whose CSV column is absent from the file is left as it is on update (an empty cell,
    by contrast, clears it); ``insert_only`` fields are never updated.
    """

    column: str
    expression: str
    source: str | None = None
    insert_only: bool = False


@dataclass(frozen=True)
class Check:
    """A set-based check of the staged rows: SQL selecting ``line`` and values, and how to word them."""

    column: str
    select: str
    message: Callable[..., str]


@dataclass(frozen=True)
class TableLoad:
    """How the rows of one kind reach their table."""

    model: type[models.Model]
    conflict: tuple[str, ...]
    fields: tuple[Field, ...]
    references: tuple[Reference, ...] = ()
    checks: tuple[Check, ...] = ()

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def is_fact(self) -> bool:
        return self.model in FACT_MODELS


FACT_MODELS = (Activity, Lead, Opportunity, Order, AdoptionReading, SupportTicket)

ACCOUNT = Reference("account", Account, "external_id", "a", "account")
POD = Reference("pod", Pod, "slug", "p", "pod")


def _fact_fields(*fields: Field) -> tuple[Field, ...]:
    """The fields of a fact: its own, plus its account and the pod it is created under (the account's)."""
    return (
        Field("pod_id", "a.pod_id", insert_only=True),
        Field("account_id", "a.id", "account"),
        *fields,
    )


def copied_fields(*names: str) -> tuple[Field, ...]:
    """Fields copied as they are from the CSV column of the same name."""
    return tuple(Field(name, f"s.{name}", name) for name in names)


def _text(name: str) -> Field:
    """An optional text column: ``NOT NULL`` in the table, so an empty cell is stored as ``''``."""
    return Field(name, f"coalesce(s.{name}, '')", name)


CONTACT_OF_ANOTHER_ACCOUNT = Check(
    "contact",
    """SELECT s.line, s.contact, s.account FROM {staging} s
       JOIN pods_contact c ON c.external_id = s.contact
       JOIN pods_account a ON a.external_id = s.account
       WHERE c.account_id <> a.id""",
    lambda contact, account: f'Contact "{contact}" belongs to another account than "{account}".',
)

LOADS: dict[str, TableLoad] = {
    "accounts": TableLoad(
        Account,
        conflict=("external_id",),
        fields=(*copied_fields("external_id", "name"), Field("pod_id", "p.id", "pod"), _text("segment")),
        references=(POD,),
    ),
    "contacts": TableLoad(
        Contact,
        conflict=("external_id",),
        fields=(
            *copied_fields("external_id"),
            Field("account_id", "a.id", "account"),
            _text("name"),
            _text("email"),
            *copied_fields("persona"),
        ),
        references=(ACCOUNT,),
    ),
    "activities": TableLoad(
        Activity,
        conflict=("external_id",),
        fields=_fact_fields(
            *copied_fields("external_id", "occurred_at", "job", "channel", "kind"),
            Field("staff_id", "u.id", "staff"),
            Field("contact_id", "c.id", "contact"),
            *copied_fields("minutes"),
            _text("notes"),
            Field("created_at", "now()", insert_only=True),
        ),
        references=(
            ACCOUNT,
            Reference("staff", User, "username", "u", "user"),
            Reference("contact", Contact, "external_id", "c", "contact"),
        ),
        checks=(CONTACT_OF_ANOTHER_ACCOUNT,),
    ),
    "leads": TableLoad(
        Lead,
        conflict=("external_id",),
        fields=_fact_fields(
            *copied_fields("external_id", "created_at", "channel", "status", "decided_at"), _text("rejection_reason")
        ),
        references=(ACCOUNT,),
    ),
    "opportunities": TableLoad(
        Opportunity,
        conflict=("external_id",),
        fields=_fact_fields(
            *copied_fields("external_id"), _text("name"), *copied_fields("amount", "created_at", "status", "closed_at")
        ),
        references=(ACCOUNT,),
    ),
    "orders": TableLoad(
        Order,
        conflict=("external_id",),
        fields=_fact_fields(*copied_fields("external_id", "ordered_at", "installed_at", "seats")),
        references=(ACCOUNT,),
    ),
    "adoption": TableLoad(
        AdoptionReading,
        conflict=("account_id", "measured_on"),
        fields=_fact_fields(*copied_fields("measured_on", "licensed_seats", "active_seats")),
        references=(ACCOUNT,),
    ),
    "tickets": TableLoad(
        SupportTicket,
        conflict=("external_id",),
        fields=_fact_fields(*copied_fields("external_id", "opened_at", "resolved_at", "csat", "channel")),
        references=(ACCOUNT,),
    ),
}


def register_kind(kind: Kind, table_load: TableLoad) -> None:
    """Add a CSV kind loaded through a staging table; apps downstream of ``jobs`` (metrics: targets) call this."""
    KINDS[kind.name] = kind
    LOADS[kind.name] = table_load


def load(kind: Kind, rows: Rows, header: Header, log: ErrorLog) -> Written:
    """Write the rows of a file of ``kind``, or raise :class:`ImportRejected` with every error.

    Runs inside the caller's transaction: nothing is written unless the whole file is clean.
    """
    if kind.name == "pods":
        return load_pods(rows, header.present, log)
    if kind.name == "staff":
        return load_staff(rows, header.present, log)
    return StagedLoad(kind, LOADS[kind.name], header, log).run(rows)


class StagedLoad:
    """COPY into a temporary table, set-based checks, one upsert."""

    def __init__(self, kind: Kind, spec: TableLoad, header: Header, log: ErrorLog):
        self.kind, self.spec, self.header, self.log = kind, spec, header, log
        # A fresh name per import: several imports may run in one session (tests, the command).
        self.staging = f"uce_import_{uuid.uuid4().hex[:12]}"

    def run(self, rows: Rows) -> Written:
        with connection.cursor() as cursor:
            columns = ", ".join(f"{column.name} {column.sql_type}" for column in self.kind.columns)
            cursor.execute(f"CREATE TEMPORARY TABLE {self.staging} (line integer NOT NULL, {columns}) ON COMMIT DROP")
            staged = self._copy(cursor, rows)
            # Temporary tables are never analysed automatically; the joins below need the statistics.
            cursor.execute(f"ANALYZE {self.staging}")
            self._check(cursor)
            if self.log:
                raise ImportRejected(self.log)
            written = self._upsert(cursor) if staged else Written(0, 0)
            if written.rows > ANALYZE_AFTER_ROWS:
                cursor.execute(f"ANALYZE {self.spec.table}")
            cursor.execute(f"DROP TABLE {self.staging}")
        if self.spec.is_fact and written.rows:
            facts_bulk_written.send(sender=self.spec.model, kind=self.kind.name, rows=written.rows)
        return written

    def _copy(self, cursor, rows: Rows) -> int:
        names = self.kind.column_names
        staged = 0
        # Django's cursor wraps psycopg's, whose copy() streams rows to the server as they come.
        with cursor.cursor.copy(f"COPY {self.staging} (line, {', '.join(names)}) FROM STDIN") as copy:
            for line, values in rows:
                copy.write_row((line, *(values[name] for name in names)))
                staged += 1
        return staged

    def _errors(self, cursor, column: str, select: str, message: Callable[..., str]) -> None:
        """Run one check: the first errors by line, and the count of all of them, in one query."""
        cursor.execute(
            f"SELECT *, count(*) OVER () FROM ({select}) found ORDER BY line LIMIT %s",  # noqa: S608
            [self.log.limit],
        )
        found = cursor.fetchall()
        errors = [{"line": row[0], "column": column, "message": message(*row[1:-1])} for row in found]
        self.log.merge(errors, found[0][-1] if found else 0, self.header.names)

    def _check(self, cursor) -> None:
        for reference in self.spec.references:
            self._errors(
                cursor,
                reference.column,
                f"""SELECT s.line, s.{reference.column} FROM {self.staging} s
                    LEFT JOIN {reference.table} r ON r.{reference.key} = s.{reference.column}
                    WHERE s.{reference.column} IS NOT NULL AND r.id IS NULL""",  # noqa: S608
                lambda value, noun=reference.noun: f'Unknown {noun} "{value}".',
            )
        for check in self.spec.checks:
            self._errors(cursor, check.column, check.select.format(staging=self.staging), check.message)
        key = ", ".join(f"s.{name}" for name in self.kind.key)
        key_known = " AND ".join(f"s.{name} IS NOT NULL" for name in self.kind.key)
        self._errors(
            cursor,
            self.kind.key[-1],
            f"""SELECT line, first_line, {", ".join(self.kind.key)} FROM (
                    SELECT s.line, {key}, row_number() OVER w AS repeat, first_value(s.line) OVER w AS first_line
                    FROM {self.staging} s WHERE {key_known}
                    WINDOW w AS (PARTITION BY {key} ORDER BY s.line)
                ) keyed WHERE repeat > 1""",  # noqa: S608
            lambda first_line, *values: self._repeated_key_message(first_line, values),
        )

    def _repeated_key_message(self, first_line: int, values: tuple) -> str:
        described = ", ".join(f'{name} "{value}"' for name, value in zip(self.kind.key, values, strict=True))
        return f"The file already has a row with {described}, on line {first_line}."

    def _upsert(self, cursor) -> Written:
        spec = self.spec
        fields = spec.fields
        updated = [
            field
            for field in fields
            if not field.insert_only
            and field.column not in spec.conflict
            and (field.source is None or field.source in self.header.present)
        ]
        joins = "\n".join(
            f"{'JOIN' if reference.column in self.kind.required_columns else 'LEFT JOIN'} {reference.table} "
            f"{reference.alias} ON {reference.alias}.{reference.key} = s.{reference.column}"
            for reference in spec.references
        )
        current = ", ".join(f"t.{field.column}" for field in updated)
        incoming = ", ".join(f"EXCLUDED.{field.column}" for field in updated)
        cursor.execute(
            f"""
            WITH written AS (
                INSERT INTO {spec.table} AS t ({", ".join(field.column for field in fields)})
                SELECT {", ".join(field.expression for field in fields)}
                FROM {self.staging} s
                {joins}
                ON CONFLICT ({", ".join(spec.conflict)}) DO UPDATE
                SET {", ".join(f"{field.column} = EXCLUDED.{field.column}" for field in updated)}
                WHERE ROW({current}) IS DISTINCT FROM ROW({incoming})
                RETURNING xmax = 0 AS created
            )
            SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created) FROM written
            """  # noqa: S608
        )
        created, updated_count = cursor.fetchone()
        return Written(created, updated_count)


# ---------- pods and staff: a line per pod or person, through the ORM ----------


def _repeated_keys(rows: list[tuple[int, dict[str, Any]]], column: str, log: ErrorLog) -> None:
    first_lines: dict[Any, int] = {}
    for line, values in rows:
        key = values[column]
        if key is None:
            continue
        if key in first_lines:
            log.add(line, column, f'The file already has a row with {column} "{key}", on line {first_lines[key]}.')
        else:
            first_lines[key] = line


def _set_fields(instance: models.Model, values: dict[str, Any], names: Iterable[str]) -> list[str]:
    """Set the given fields that differ; return their names (nothing is saved)."""
    changed = []
    for name in names:
        if getattr(instance, name) != values[name]:
            setattr(instance, name, values[name])
            changed.append(name)
    return changed


def _users_by_username(usernames: Iterable[str]) -> dict[str, User]:
    """The users of these usernames, created (without a usable password) when missing."""
    wanted = set(usernames)
    users = {user.username: user for user in User.objects.filter(username__in=wanted)}
    for name in sorted(wanted - users.keys()):
        user = User(username=name)
        user.set_unusable_password()
        user.save()
        users[name] = user
    return users


def load_pods(rows: Rows, present: frozenset[str], log: ErrorLog) -> Written:
    rows = list(rows)  # a line per pod: small
    _repeated_keys(rows, "slug", log)
    if log:
        raise ImportRejected(log)
    existing = {pod.slug: pod for pod in Pod.objects.filter(slug__in=[values["slug"] for _, values in rows])}
    with_leaders = "leaders" in present
    leaders = _users_by_username(name for _, values in rows if with_leaders for name in values["leaders"] or ())
    fields = [name for name in ("name", "timezone", "territory") if name in present]
    created = updated = 0
    for _, values in rows:
        values = {**values, "territory": values["territory"] or ""}
        pod = existing.get(values["slug"])
        if pod is None:
            pod = Pod.objects.create(**{name: values[name] for name in ("slug", *fields)})
            created += 1
            changed = True
        else:
            changed_fields = _set_fields(pod, values, fields)
            if changed_fields:
                pod.save(update_fields=changed_fields)
            changed = bool(changed_fields)
        if with_leaders:
            wanted = {leaders[name].pk for name in values["leaders"] or ()}
            if set(pod.leaders.values_list("pk", flat=True)) != wanted:
                pod.leaders.set(wanted)  # adds and removes only the difference
                changed = True
        if changed and values["slug"] in existing:
            updated += 1
    return Written(created, updated)


def load_staff(rows: Rows, present: frozenset[str], log: ErrorLog) -> Written:
    rows = list(rows)  # a line per person: small
    _repeated_keys(rows, "username", log)
    pods = {pod.slug: pod for pod in Pod.objects.filter(slug__in={values["pod"] for _, values in rows})}
    for line, values in rows:
        if values["pod"] is not None and values["pod"] not in pods:
            log.add(line, "pod", f'Unknown pod "{values["pod"]}".')
    if log:
        raise ImportRejected(log)
    usernames = [values["username"] for _, values in rows]
    known = set(User.objects.filter(username__in=usernames).values_list("username", flat=True))
    people = _users_by_username(usernames)
    last_assignment = Assignment.objects.aggregate(last=Max("pk"))["last"] or 0
    created = updated = 0
    # Staff files are small (a line per person), so this loop calls assignment_reassign row by row:
    # it is the one definition of "the active assignment ends on started_on and a new one starts".
    for line, values in rows:
        person = people[values["username"]]
        personal = {"full_name": values["full_name"] or "", "email": values["email"] or ""}
        changed_fields = _set_fields(person, personal, [name for name in personal if name in present])
        if changed_fields:
            person.save(update_fields=changed_fields)
        try:
            assignment = assignment_reassign(
                person=person, pod=pods[values["pod"]], job=values["job"], effective_on=values["started_on"]
            )
        except ValidationError as error:
            log.add(line, "started_on", " ".join(error.messages))
            continue
        if person.username not in known:
            created += 1
        elif changed_fields or assignment.pk > last_assignment:  # unchanged: the current one comes back
            updated += 1
    if log:
        raise ImportRejected(log)
    return Written(created, updated)
