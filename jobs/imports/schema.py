"""The columns of every CSV kind of INTERCHANGE.md: name, required or not, and the parser of a value.

A parser takes the stripped, non-empty text of a cell and returns the Python value, or raises
``ValueError`` with the reason a person reading the error report needs.  Limits of the database
columns (lengths, integer ranges, decimal digits) are checked here too, so the set-based upsert
that follows never stops on a value the report should have named.

The ``targets`` kind is registered by ``metrics`` (``metrics/imports.py``), which owns targets and
their vocabulary, so ``jobs`` does not depend on ``metrics``.
"""

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, validate_slug

from pods.choices import BuyingJob, Persona
from pods.models import validate_time_zone

from ..choices import Channel, LeadStatus, OpportunityStatus
from ..models import ImportKind

MAX_INTEGER = 2_147_483_647  # PostgreSQL integer, the type of Django's PositiveIntegerField

Parser = Callable[[str], Any]


# ---------- parsers ----------


def text(max_length: int) -> Parser:
    def parse(value: str) -> str:
        if len(value) > max_length:
            raise ValueError(f"The value is {len(value)} characters long; at most {max_length} are allowed.")
        return value

    return parse


def long_text(value: str) -> str:
    return value


def timestamp(value: str) -> dt.datetime:
    """ISO 8601 with an offset (``2026-03-01T09:30:00-05:00`` or ``...Z``); a naive timestamp is refused."""
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f'"{value}" is not an ISO 8601 timestamp such as 2026-03-01T09:30:00-05:00.') from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f'"{value}" has no UTC offset; add one, e.g. 2026-03-01T09:30:00-05:00 or ...Z.')
    return parsed


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def date(value: str) -> dt.date:
    if _DATE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f'"{value}" is not a date in the form YYYY-MM-DD.')


_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


def decimal(*, places: int, max_digits: int, minimum: Decimal | None = None) -> Parser:
    def parse(value: str) -> Decimal:
        if not _DECIMAL.fullmatch(value):
            raise ValueError(f'"{value}" is not a decimal number such as 1250.50.')
        try:
            number = Decimal(value)
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid literals
            raise ValueError(f'"{value}" is not a decimal number.') from None
        if minimum is not None and number < minimum:
            raise ValueError(f"{value} is negative; it must be {minimum} or more.")
        if abs(number) >= Decimal(10) ** (max_digits - places):
            raise ValueError(f"{value} is too large (at most {max_digits - places} digits before the point).")
        # Trailing zeros are harmless (1.50 is 1.5); digits the column would round away are not.
        if number != number.quantize(Decimal(1).scaleb(-places)):
            raise ValueError(f"{value} has more than {places} decimal places.")
        return number

    return parse


def integer(*, minimum: int = 0, maximum: int = MAX_INTEGER) -> Parser:
    def parse(value: str) -> int:
        if not re.fullmatch(r"[+-]?\d+", value):
            raise ValueError(f'"{value}" is not a whole number.')
        number = int(value)
        if not minimum <= number <= maximum:
            raise ValueError(f"{number} is out of range; it must be between {minimum} and {maximum}.")
        return number

    return parse


def choice(choices: list[str]) -> Parser:
    allowed = frozenset(choices)
    listed = ", ".join(choices)

    def parse(value: str) -> str:
        if value not in allowed:
            raise ValueError(f'"{value}" is not one of {listed}.')
        return value

    return parse


def _validated(validator, value: str, message: str):
    try:
        validator(value)
    except ValidationError:
        raise ValueError(message) from None
    return value


def slug(value: str) -> str:
    text(64)(value)
    return _validated(validate_slug, value, f'"{value}" is not a slug (letters, digits, hyphens, underscores).')


_username_validator = UnicodeUsernameValidator()


def username(value: str) -> str:
    text(150)(value)
    return _validated(_username_validator, value, f'"{value}" is not a valid username.')


def usernames(value: str) -> tuple[str, ...]:
    """Usernames separated by spaces (a pod's leaders)."""
    return tuple(dict.fromkeys(username(name) for name in value.split()))


def email(value: str) -> str:
    text(254)(value)
    return _validated(EmailValidator(), value, f'"{value}" is not an e-mail address.')


def time_zone(value: str) -> str:
    return _validated(validate_time_zone, value, f'"{value}" is not an IANA time zone such as America/New_York.')


# ---------- kinds ----------


@dataclass(frozen=True)
class Column:
    """One CSV column: its header name, whether a value is required, how to read it, its SQL type in staging."""

    name: str
    parse: Parser
    required: bool = True
    sql_type: str = "text"


RowCheck = Callable[[dict[str, Any]], list[tuple[str, str]]]


@dataclass(frozen=True)
class Kind:
    """A CSV kind: its columns, the columns that identify a row, and checks across columns of one row.

    ``key`` names the columns whose values may appear only once per file (the upsert key as the
    file spells it); a repeated key is reported on the later line, in the key's last column.
    """

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    row_checks: tuple[RowCheck, ...] = field(default=())

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        """Columns that must be in the header (INTERCHANGE.md: the ones not in italics)."""
        return tuple(column.name for column in self.columns if column.required)


def _not_before(later: str, earlier: str) -> RowCheck:
    def check(row):
        if row.get(later) is not None and row.get(earlier) is not None and row[later] < row[earlier]:
            message = f"{later} ({row[later].isoformat()}) is before {earlier} ({row[earlier].isoformat()})."
            return [(later, message)]
        return []

    return check


def _required_unless_open(column: str) -> RowCheck:
    def check(row):
        if row.get("status") not in (None, "open") and row.get(column) is None:
            return [(column, f"A value is required when status is {row['status']}.")]
        return []

    return check


EXTERNAL_ID = Column("external_id", text(100))
TIMESTAMP = "timestamptz"


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            ImportKind.PODS,
            (
                Column("slug", slug),
                Column("name", text(120)),
                Column("timezone", time_zone),
                Column("territory", text(500), required=False),
                Column("leaders", usernames, required=False),
            ),
            key=("slug",),
        ),
        Kind(
            ImportKind.STAFF,
            (
                Column("username", username),
                Column("full_name", text(200), required=False),
                Column("email", email, required=False),
                Column("pod", slug),
                Column("job", choice(BuyingJob.values)),
                Column("started_on", date, sql_type="date"),
            ),
            key=("username",),
        ),
        Kind(
            ImportKind.ACCOUNTS,
            (EXTERNAL_ID, Column("name", text(200)), Column("pod", slug), Column("segment", text(100), required=False)),
            key=("external_id",),
        ),
        Kind(
            ImportKind.CONTACTS,
            (
                EXTERNAL_ID,
                Column("account", text(100)),
                Column("name", text(200), required=False),
                Column("email", email, required=False),
                Column("persona", choice(Persona.values)),
            ),
            key=("external_id",),
        ),
        Kind(
            ImportKind.ACTIVITIES,
            (
                EXTERNAL_ID,
                Column("occurred_at", timestamp, sql_type=TIMESTAMP),
                Column("account", text(100)),
                Column("job", choice(BuyingJob.values)),
                Column("channel", choice(Channel.values)),
                Column("kind", text(50)),
                Column("staff", username, required=False),
                Column("contact", text(100), required=False),
                Column("minutes", integer(), required=False, sql_type="integer"),
                Column("notes", long_text, required=False),
            ),
            key=("external_id",),
        ),
        Kind(
            ImportKind.LEADS,
            (
                EXTERNAL_ID,
                Column("account", text(100)),
                Column("created_at", timestamp, sql_type=TIMESTAMP),
                Column("channel", choice(Channel.values)),
                Column("status", choice(LeadStatus.values)),
                Column("decided_at", timestamp, required=False, sql_type=TIMESTAMP),
                Column("rejection_reason", text(200), required=False),
            ),
            key=("external_id",),
            row_checks=(_required_unless_open("decided_at"), _not_before("decided_at", "created_at")),
        ),
        Kind(
            ImportKind.OPPORTUNITIES,
            (
                EXTERNAL_ID,
                Column("account", text(100)),
                Column("name", text(200), required=False),
                Column("amount", decimal(places=2, max_digits=14, minimum=Decimal(0)), sql_type="numeric"),
                Column("created_at", timestamp, sql_type=TIMESTAMP),
                Column("status", choice(OpportunityStatus.values)),
                Column("closed_at", timestamp, required=False, sql_type=TIMESTAMP),
            ),
            key=("external_id",),
            row_checks=(_required_unless_open("closed_at"), _not_before("closed_at", "created_at")),
        ),
        Kind(
            ImportKind.ORDERS,
            (
                EXTERNAL_ID,
                Column("account", text(100)),
                Column("ordered_at", timestamp, sql_type=TIMESTAMP),
                Column("installed_at", timestamp, required=False, sql_type=TIMESTAMP),
                Column("seats", integer(), required=False, sql_type="integer"),
            ),
            key=("external_id",),
            row_checks=(_not_before("installed_at", "ordered_at"),),
        ),
        Kind(
            ImportKind.ADOPTION,
            (
                Column("account", text(100)),
                Column("measured_on", date, sql_type="date"),
                Column("licensed_seats", integer(), sql_type="integer"),
                Column("active_seats", integer(), sql_type="integer"),
            ),
            key=("account", "measured_on"),
        ),
        Kind(
            ImportKind.TICKETS,
            (
                EXTERNAL_ID,
                Column("account", text(100)),
                Column("opened_at", timestamp, sql_type=TIMESTAMP),
                Column("resolved_at", timestamp, required=False, sql_type=TIMESTAMP),
                Column("csat", integer(minimum=1, maximum=5), required=False, sql_type="integer"),
                Column("channel", choice(Channel.values)),
            ),
            key=("external_id",),
            row_checks=(_not_before("resolved_at", "opened_at"),),
        ),
    )
}
