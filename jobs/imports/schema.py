"""The columns of every CSV kind of INTERCHANGE.md: name, required or not, and how a value is read.

A parser takes the stripped, non-empty text of a cell and returns the Python value, or raises
``ValueError`` with the reason a person reading the error report needs.  Limits of the database
columns (lengths, integer ranges, decimal digits) are checked here too, so the set-based upsert
that follows never stops on a value the report should have named.

Most parsers also say the same thing in SQL (:class:`CellSql`, as their ``sql`` attribute), and
so do the checks across the columns of a row: large files are checked by PostgreSQL, a million
cells at a time (``loading.py``), and the Python parsers serve the small files that go through
the ORM.  ``tests/jobs/imports/test_rules.py`` holds the two versions to the same answers.  A
parser without SQL (slugs, usernames, e-mail addresses, time zones: Django's validators) runs in
Python once per distinct value of the file.

The ``targets`` kind is registered by ``metrics`` (``metrics/targets_csv.py``), which owns targets and
their vocabulary, so ``jobs`` does not depend on ``metrics``.
"""

import datetime as dt
import re
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, validate_slug

from pods.choices import BuyingJob, Persona
from pods.models import validate_time_zone
from pods.validators import (
    DATE_OUT_OF_RANGE,
    EARLIEST,
    LATEST,
    MAX_UTC_OFFSET,
    OFFSET_OUT_OF_RANGE,
    date_problem,
    timestamp_problem,
)

from ..choices import Channel, LeadStatus, OpportunityStatus
from ..models import ImportKind

MAX_INTEGER = 2_147_483_647  # PostgreSQL integer, the type of Django's PositiveIntegerField

Parser = Callable[[str], Any]


# ---------- the same rules in SQL ----------


@dataclass(frozen=True)
class CellSql:
    """How PostgreSQL checks and reads a cell, as SQL expressions in which ``{v}`` is the cell's text.

    ``{v}`` is stripped and never NULL or empty.  ``error`` is the reason the value is refused, in
    the parser's words, or NULL when it is fine; ``value`` is the value of an accepted cell (cast
    to the column's ``sql_type`` afterwards): ``error`` makes sure that cast cannot fail.
    """

    error: str
    value: str = "{v}"

    def at(self, cell: str) -> tuple[str, str]:
        """``(error, value)`` for the cell whose text is the SQL expression ``cell``."""
        return self.error.replace("{v}", cell), self.value.replace("{v}", cell)


def sql_text(value: str) -> str:
    """A SQL string literal of ``value``: for this module's constants, never for a file's content."""
    return "'" + value.replace("'", "''") + "'"


def sql_words(template: str, **expressions: str) -> str:
    """SQL text of ``template`` with each ``{name}`` replaced by the SQL expression ``expressions[name]``.

    ``{v}`` (the cell) is left for :meth:`CellSql.at`; ``sql_words('"{v}" is wrong.')`` is
    ``'"' || ({v}) || '" is wrong.'``.
    """
    parts = []
    for literal, name, _, _ in string.Formatter().parse(template):
        if literal:
            parts.append(sql_text(literal))
        if name is not None:
            parts.append(f"({expressions.get(name, '{' + name + '}')})::text")
    return " || ".join(parts)


def _with_sql(parse: Parser, error: str, value: str = "{v}") -> Parser:
    parse.sql = CellSql(error, value)
    return parse


def _matches(pattern: str) -> str:
    """SQL: does the cell match ``pattern`` (a regular expression both Python and PostgreSQL read alike)?"""
    return f"{{v}} ~ {sql_text('^' + pattern + '$')}"


# ---------- parsers ----------


def text(max_length: int) -> Parser:
    def parse(value: str) -> str:
        if len(value) > max_length:
            raise ValueError(f"The value is {len(value)} characters long; at most {max_length} are allowed.")
        return value

    message = sql_words(f"The value is {{n}} characters long; at most {max_length} are allowed.", n="length({v})")
    return _with_sql(parse, f"CASE WHEN length({{v}}) > {max_length} THEN {message} END")


def long_text(value: str) -> str:
    return value


_with_sql(long_text, "NULL")


# ISO 8601 as INTERCHANGE.md writes it: a date, "T" or a space, hours and minutes, optional seconds
# and fraction, and an offset (Z, +05, +0530 or +05:30).  Every pattern is ASCII-only, so Python's
# and PostgreSQL's regular expressions agree on it.  pods.validators sets the range of dates and
# offsets the application accepts anywhere; the patterns below write its offset limit out.
_MAX_OFFSET_HOURS = MAX_UTC_OFFSET // dt.timedelta(hours=1)
assert dt.timedelta(hours=_MAX_OFFSET_HOURS) == MAX_UTC_OFFSET < dt.timedelta(days=1), "whole hours, under a day"
_DATE = "[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
_TIME = "([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]+)?)?"
_OFFSET_IN_RANGE = "|".join(
    ["Z", f"[+-]({'|'.join(f'{hours:02d}' for hours in range(_MAX_OFFSET_HOURS))})(:?[0-5][0-9])?"]
    + [f"[+-]{_MAX_OFFSET_HOURS:02d}(:?00)?"]
)
_TIMESTAMP = f"{_DATE}[T ]{_TIME}({_OFFSET_IN_RANGE})"
_ANY_OFFSET = f"{_DATE}[T ]{_TIME}[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?"
_NAIVE = f"{_DATE}([T ]{_TIME})?"


def _real_date(value: str) -> bool:
    """Is the ``YYYY-MM-DD`` start of ``value`` (which matches a pattern above) a day of the calendar?"""
    try:
        dt.date.fromisoformat(value[:10])
    except ValueError:  # year 0, or a day the month does not have
        return False
    return True


def _fullmatch(pattern: str, value: str) -> bool:
    return re.fullmatch(pattern, value) is not None and _real_date(value)


def _sql_real_date(pattern: str) -> str:
    """SQL: does the cell match ``pattern`` and start with a day of the calendar?  Nothing here can raise."""
    return f"""CASE WHEN NOT ({_matches(pattern)}) OR left({{v}}, 4) = '0000' THEN false
        WHEN substr({{v}}, 9, 2) COLLATE "C" <= '28' THEN true
        ELSE extract(month FROM make_date(left({{v}}, 4)::int, substr({{v}}, 6, 2)::int, 1)
                                + (substr({{v}}, 9, 2)::int - 1)) = substr({{v}}, 6, 2)::int END"""


# The range as text: ISO dates compare as strings.
_SQL_DATE_OUT_OF_RANGE = (
    f"""left({{v}}, 10) COLLATE "C" NOT BETWEEN '{EARLIEST.isoformat()}' AND '{LATEST.isoformat()}'"""
)
_NOT_A_TIMESTAMP = '"{v}" is not an ISO 8601 timestamp such as 2026-03-01T09:30:00-05:00.'
_NAIVE_TIMESTAMP = '"{v}" has no UTC offset; add one, e.g. 2026-03-01T09:30:00-05:00 or ...Z.'


def timestamp(value: str) -> dt.datetime:
    """ISO 8601 with an offset (``2026-03-01T09:30:00-05:00`` or ``...Z``); a naive timestamp is refused."""
    if _fullmatch(_TIMESTAMP, value) or _fullmatch(_ANY_OFFSET, value):
        # Digits beyond microseconds are dropped, as the SQL reading below does.
        parsed = dt.datetime.fromisoformat(re.sub(r"(\.[0-9]{6})[0-9]+", r"\1", value))
        problem = timestamp_problem(parsed)
        if problem:
            raise ValueError(f'"{value}": {problem}')
        return parsed
    if _fullmatch(_NAIVE, value):
        raise ValueError(_NAIVE_TIMESTAMP.format(v=value))
    raise ValueError(_NOT_A_TIMESTAMP.format(v=value))


# PostgreSQL would round digits beyond microseconds; Python's reading truncates them.
_SQL_TIMESTAMP = r"""(CASE WHEN strpos({v}, '.') > 0 AND {v} ~ '\.[0-9]{7}'
                           THEN regexp_replace({v}, '(\.[0-9]{6})[0-9]+', '\1') ELSE {v} END)::timestamptz"""
_with_sql(
    timestamp,
    # The UTC date can leave the range only when the local one is at its very end (offsets are under a day).
    f"""CASE WHEN {_sql_real_date(_TIMESTAMP)} THEN
            CASE WHEN {_SQL_DATE_OUT_OF_RANGE}
                   OR left({{v}}, 10) IN ('{EARLIEST.isoformat()}', '{LATEST.isoformat()}')
                      AND ({_SQL_TIMESTAMP} AT TIME ZONE 'UTC')::date
                          NOT BETWEEN '{EARLIEST.isoformat()}' AND '{LATEST.isoformat()}'
                 THEN {sql_words(f'"{{v}}": {DATE_OUT_OF_RANGE}')} END
        WHEN {_sql_real_date(_ANY_OFFSET)} THEN {sql_words(f'"{{v}}": {OFFSET_OUT_OF_RANGE}')}
        WHEN {_sql_real_date(_NAIVE)} THEN {sql_words(_NAIVE_TIMESTAMP)}
        ELSE {sql_words(_NOT_A_TIMESTAMP)} END""",
    _SQL_TIMESTAMP,
)

_NOT_A_DATE = '"{v}" is not a date in the form YYYY-MM-DD.'


def date(value: str) -> dt.date:
    if _fullmatch(_DATE, value):
        parsed = dt.date.fromisoformat(value)
        if date_problem(parsed):
            raise ValueError(f'"{value}": {date_problem(parsed)}')
        return parsed
    raise ValueError(_NOT_A_DATE.format(v=value))


_with_sql(
    date,
    f"""CASE WHEN NOT ({_sql_real_date(_DATE)}) THEN {sql_words(_NOT_A_DATE)}
        WHEN {_SQL_DATE_OUT_OF_RANGE} THEN {sql_words(f'"{{v}}": {DATE_OUT_OF_RANGE}')} END""",
    "{v}::date",
)

_DECIMAL = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)"


def decimal(*, places: int, max_digits: int, minimum: Decimal | None = None) -> Parser:
    def parse(value: str) -> Decimal:
        if not re.fullmatch(_DECIMAL, value):
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

    # The digits are counted in the text: a thousand-digit number is refused, not cast.
    whole_digits = "length(ltrim(split_part(ltrim({v}, '+-'), '.', 1), '0'))"
    negative = sql_words(f"{{v}} is negative; it must be {minimum} or more.")
    below_minimum = (
        f"""WHEN CASE WHEN length({{v}}) > 100 THEN {{v}} ~ '^-.*[1-9]' ELSE {{v}}::numeric < {minimum} END
            THEN {negative}"""
        if minimum is not None
        else ""
    )
    error = f"""CASE WHEN NOT ({_matches(_DECIMAL)}) THEN {sql_words('"{v}" is not a decimal number such as 1250.50.')}
        {below_minimum}
        WHEN {whole_digits} > {max_digits - places}
            THEN {sql_words(f"{{v}} is too large (at most {max_digits - places} digits before the point).")}
        WHEN length(rtrim(split_part({{v}}, '.', 2), '0')) > {places}
            THEN {sql_words(f"{{v}} has more than {places} decimal places.")} END"""
    return _with_sql(parse, error, "{v}::numeric")


def integer(*, minimum: int = 0, maximum: int = MAX_INTEGER) -> Parser:
    def parse(value: str) -> int:
        if not re.fullmatch(r"[+-]?[0-9]+", value):
            raise ValueError(f'"{value}" is not a whole number.')
        number = int(value)
        if not minimum <= number <= maximum:
            raise ValueError(f"{number} is out of range; it must be between {minimum} and {maximum}.")
        return number

    out_of_range = f" is out of range; it must be between {minimum} and {maximum}."
    # Past 18 digits a bigint would overflow: such a number is out of range, written out as Python would.
    digits = "ltrim(ltrim({v}, '+-'), '0')"
    error = f"""CASE WHEN NOT ({_matches("[+-]?[0-9]+")}) THEN {sql_words('"{v}" is not a whole number.')}
        WHEN length({digits}) > 18
            THEN (CASE WHEN left({{v}}, 1) = '-' THEN '-' ELSE '' END) || {digits} || {sql_text(out_of_range)}
        WHEN {{v}}::bigint NOT BETWEEN {minimum} AND {maximum}
            THEN {{v}}::bigint::text || {sql_text(out_of_range)} END"""
    return _with_sql(parse, error, "{v}::bigint")


def choice(choices: list[str]) -> Parser:
    allowed = frozenset(choices)
    listed = ", ".join(choices)

    def parse(value: str) -> str:
        if value not in allowed:
            raise ValueError(f'"{value}" is not one of {listed}.')
        return value

    codes = ", ".join(sql_text(code) for code in choices)
    message = sql_words(f'"{{v}}" is not one of {listed}.')
    return _with_sql(parse, f"CASE WHEN {{v}} NOT IN ({codes}) THEN {message} END")


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

    @property
    def sql(self) -> CellSql | None:
        """The parser's rule in SQL, if it has one."""
        return getattr(self.parse, "sql", None)


RowCheck = Callable[[dict[str, Any]], list[tuple[str, str]]]
"""A check across the columns of a row, in Python: given the row's values, its ``(column, reason)`` problems."""


@dataclass(frozen=True)
class RowCheckSql:
    """A check across the columns of a row, in SQL.

    ``problems(value, text)``, given the SQL of a column's value (NULL when empty or refused) and
    of its text, returns the ``(column, reason or NULL)`` SQL expressions of the row's problems.
    """

    problems: Callable[[Callable[[str], str], Callable[[str], str]], list[tuple[str, str]]]


@dataclass(frozen=True)
class Kind:
    """A CSV kind: its columns, the columns that identify a row, and checks across columns of one row.

    ``key`` names the columns whose values may appear only once per file (the upsert key as the
    file spells it); a repeated key is reported on the later line, in the key's last column.
    """

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    row_checks: tuple[RowCheck | RowCheckSql, ...] = field(default=())

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        """Columns that must be in the header (INTERCHANGE.md: the ones not in italics)."""
        return tuple(column.name for column in self.columns if column.required)


def _not_before(later: str, earlier: str) -> RowCheckSql:
    def problems(value, text):
        # The report quotes the file's own text of both timestamps.
        message = sql_words(
            f"{later} ({{later}}) is before {earlier} ({{earlier}}).", later=text(later), earlier=text(earlier)
        )
        return [(later, f"CASE WHEN {value(later)} < {value(earlier)} THEN {message} END")]

    return RowCheckSql(problems)


def _required_unless_open(column: str) -> RowCheckSql:
    def problems(value, text):
        message = sql_words("A value is required when status is {status}.", status=value("status"))
        return [(column, f"CASE WHEN {value('status')} <> 'open' AND {value(column)} IS NULL THEN {message} END")]

    return RowCheckSql(problems)


EXTERNAL_ID = Column("external_id", text(100))
TIMESTAMP = "timestamptz"


CSV_KINDS: dict[str, Kind] = {
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
