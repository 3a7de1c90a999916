"""What each CSV kind writes, and where: the target table, its columns and the references they look up.

``LOADS`` holds the kinds loaded through a staging table (``loading.StagedLoad``); ``pods`` and
``staff`` go through the ORM instead (``people.py``).  The ``targets`` kind is added at start-up
by ``metrics`` (``metrics/targets_csv.py``), which owns targets and comes after ``jobs`` in the
layering: ``register_kind``.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import models

from pods.models import Account, Contact, Pod, User

from ..models import Activity, AdoptionReading, Lead, Opportunity, Order, SupportTicket
from .schema import CSV_KINDS, Kind, sql_words

Rows = Iterable[tuple[int, dict[str, Any]]]


@dataclass(frozen=True)
class Written:
    """What an import wrote: rows created and updated, and how many rows its file has."""

    created: int
    updated: int
    read: int = 0

    @property
    def changed(self) -> int:
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

    ``expression`` reads the typed values of the row as ``s.<CSV column>`` (NULL when empty) and
    the referenced rows by their aliases (``a.pod_id``).  A field whose CSV column is absent from
    the file is left as it is on update (an empty cell, by contrast, clears it); ``insert_only``
    fields are never updated.
    """

    column: str
    expression: str
    source: str | None = None
    insert_only: bool = False


@dataclass(frozen=True)
class Check:
    """A check across the referenced rows of a row: the SQL of its reason (NULL when there is none)."""

    column: str
    error: str


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

ACCOUNT_REFERENCE = Reference("account", Account, "external_id", "a", "account")
POD_REFERENCE = Reference("pod", Pod, "slug", "p", "pod")


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
    "CASE WHEN c.account_id <> a.id THEN "
    + sql_words(
        'Contact "{contact}" belongs to another account than "{account}".', contact="s.contact", account="s.account"
    )
    + " END",
)

LOADS: dict[str, TableLoad] = {
    "accounts": TableLoad(
        Account,
        conflict=("external_id",),
        fields=(*copied_fields("external_id", "name"), Field("pod_id", "p.id", "pod"), _text("segment")),
        references=(POD_REFERENCE,),
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
        references=(ACCOUNT_REFERENCE,),
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
            ACCOUNT_REFERENCE,
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
        references=(ACCOUNT_REFERENCE,),
    ),
    "opportunities": TableLoad(
        Opportunity,
        conflict=("external_id",),
        fields=_fact_fields(
            *copied_fields("external_id"), _text("name"), *copied_fields("amount", "created_at", "status", "closed_at")
        ),
        references=(ACCOUNT_REFERENCE,),
    ),
    "orders": TableLoad(
        Order,
        conflict=("external_id",),
        fields=_fact_fields(*copied_fields("external_id", "ordered_at", "installed_at", "seats")),
        references=(ACCOUNT_REFERENCE,),
    ),
    "adoption": TableLoad(
        AdoptionReading,
        conflict=("account_id", "measured_on"),
        fields=_fact_fields(*copied_fields("measured_on", "licensed_seats", "active_seats")),
        references=(ACCOUNT_REFERENCE,),
    ),
    "tickets": TableLoad(
        SupportTicket,
        conflict=("external_id",),
        fields=_fact_fields(*copied_fields("external_id", "opened_at", "resolved_at", "csat", "channel")),
        references=(ACCOUNT_REFERENCE,),
    ),
}


def register_kind(kind: Kind, table_load: TableLoad) -> None:
    """Add a CSV kind loaded through a staging table; apps downstream of ``jobs`` (metrics: targets) call this."""
    CSV_KINDS[kind.name] = kind
    LOADS[kind.name] = table_load
