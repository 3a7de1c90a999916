"""Each rule of the CSV files says the same thing in Python and in SQL: same values accepted, same reasons, same value.

Large files are checked by PostgreSQL (the SQL of ``schema.CellSql``), the pods and staff files by the
Python parsers; a value must fare the same either way.  Edge cases are listed; Hypothesis adds
timestamps, dates and numbers built to land near every limit.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs.choices import Channel
from jobs.imports.schema import choice, date, decimal, integer, long_text, text, timestamp

pytestmark = pytest.mark.django_db

RULES = {
    "text(5)": (text(5), "text"),
    "long_text": (long_text, "text"),
    "timestamp": (timestamp, "timestamptz"),
    "date": (date, "date"),
    "amount": (decimal(places=2, max_digits=14, minimum=Decimal(0)), "numeric"),
    "target value": (decimal(places=4, max_digits=16), "numeric"),
    "integer": (integer(), "bigint"),
    "csat": (integer(minimum=1, maximum=5), "bigint"),
    "channel": (choice(Channel.values), "text"),
}

EDGE_CASES = {
    "text(5)": ["abcde", "abcdef", "ÄÖÜäö", "ÄÖÜäöß", "a b", "🙂🙂🙂🙂🙂", "🙂🙂🙂🙂🙂🙂"],
    "long_text": ["x" * 10_000, "line\nbreak", 'quote " and, comma'],
    "timestamp": [
        "2026-03-01T09:30:00-05:00",
        "2026-03-01T09:30:00Z",
        "2026-03-01 09:30Z",
        "2026-03-01T09:30:00.5+05:30",
        "2026-03-01T09:30:00.1234567Z",  # digits beyond microseconds are dropped
        "2026-03-01T09:30:00.000000000-03:00",
        "2026-03-01T09:30:00+0530",
        "2026-03-01T09:30:00+05",
        "2026-03-01T09:30:00+14:00",
        "2026-03-01T09:30:00-14:00",
        "2026-03-01T09:30:00+14:30",  # beyond the offsets that exist
        "2026-03-01T09:30:00+15:59",
        "2026-03-01T09:30:00+16:00",
        "2026-03-01T09:30:00+23:59",
        "2026-03-01T09:30:00+24:00",
        "2026-03-01T09:30:00",  # naive
        "2026-03-01",  # naive
        "2026-03-01T24:00:00Z",
        "2026-03-01T23:59:60Z",
        "2026-02-29T09:30:00Z",
        "2024-02-29T09:30:00Z",
        "2100-02-29T00:00:00Z",
        "2000-02-29T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "2026-12-31T23:00:00-05:00",
        "1900-01-01T00:00:00Z",
        "1900-01-01T00:30:00+01:00",  # 1899 in UTC
        "2099-12-31T23:30:00-01:00",  # 2100 in UTC
        "2099-12-31T22:30:00-01:00",
        "1899-12-31T23:59:59Z",
        "2100-01-01T00:00:00Z",
        "0000-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "2026-03-01t09:30:00z",
        "2026-03-01X09:30:00Z",
        "20260301T093000Z",
        "2026-03-01T09Z",
        "2026-03-01T09:30:00,5Z",
        "2026-03-01T09:30:00+05:30:15",
        "yesterday",
        "2026-3-1T09:30:00Z",
        "２０２６-03-01T09:30:00Z",
        "2026-03-01T09:30:00 Z",
    ],
    "date": [
        "2026-03-05",
        "2026-3-6",
        "2026-02-29",
        "2024-02-29",
        "1900-01-01",
        "1899-12-31",
        "2099-12-31",
        "2100-01-01",
        "0000-01-01",
        "2026-13-01",
        "2026-00-10",
        "2026-01-00",
        "01/02/2026",
        "2026-01-01T00:00:00Z",
        "٢٠٢٦-٠١-٠١",
    ],
    "amount": [
        "0",
        "1250.50",
        "1.5",
        "1.",
        ".5",
        "+3",
        "-0",
        "-0.00",
        "-1",
        "-0.01",
        "10.999",
        "10.9900",
        "1e3",
        "999999999999.99",
        "1000000000000",
        "000000000000001.5",
        "-" + "9" * 200,
        "9" * 200,
        "1,5",
        "..5",
        "",
    ],
    "target value": ["0.65", "0.12345", "-3.5", "999999999999", "1000000000000", "12.50000"],
    "integer": [
        "0",
        "7",
        "+7",
        "007",
        "-0",
        "-5",
        "2147483647",
        "2147483648",
        "3000000000",
        "9" * 40,
        "-" + "9" * 40,
        "0" * 30 + "5",
        "1.5",
        "ten",
        "٣",
        "1 000",
    ],
    "csat": ["1", "5", "0", "6", "-1", "05"],
    "channel": ["digital", "in_person", "partner", "fax", "Digital", "digital "],
}


def in_python(parse, value):
    try:
        return None, parse(value)
    except ValueError as error:
        return str(error), None


def in_sql(parse, sql_type, values):
    """``(reason, value)`` of each value, as the checking query computes them."""
    error, typed = parse.sql.at("v")
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT {error}, CASE WHEN {error} IS NULL THEN ({typed})::{sql_type} END
                FROM unnest(%s::text[]) WITH ORDINALITY AS cells(v, n) ORDER BY n""",  # noqa: S608
            [list(values)],
        )
        return cursor.fetchall()


def assert_same(rule, values):
    parse, sql_type = RULES[rule]
    values = [value for value in values if value and value == value.strip()]  # what a cell holds once read
    differences = [
        (value, python, sql)
        for value, sql in zip(values, in_sql(parse, sql_type, values), strict=True)
        if (python := in_python(parse, value)) != tuple(sql)
    ]
    assert not differences, f"{rule}: Python and SQL disagree on {differences[:5]}"


@pytest.mark.parametrize("rule", EDGE_CASES)
def test_python_and_sql_agree_on_the_edge_cases(rule):
    assert_same(rule, EDGE_CASES[rule])


def test_the_edge_cases_are_judged_as_the_interchange_says():
    """Spot checks that the shared answers are the right ones, not merely the same."""
    parse = RULES["timestamp"][0]
    assert parse("2026-03-01T09:30:00-05:00") == dt.datetime(2026, 3, 1, 14, 30, tzinfo=dt.UTC)
    assert parse("2026-03-01T09:30:00.1234567Z").microsecond == 123456
    for refused, words in [
        ("2026-03-01T09:30:00", "no UTC offset"),
        ("2026-03-01T09:30:00+14:30", "UTC offset"),
        ("2099-12-31T23:30:00-01:00", "between 1900-01-01 and 2099-12-31"),
        ("2026-02-29T09:30:00Z", "not an ISO 8601 timestamp"),
    ]:
        reason, _ = in_python(parse, refused)
        assert words in reason, refused
    assert in_python(RULES["amount"][0], "-0")[0] is None
    assert "negative" in in_python(RULES["amount"][0], "-0.01")[0]
    assert in_python(RULES["integer"][0], "9" * 40)[0].startswith("9" * 40 + " is out of range")


def digits(n, low=0):
    return st.integers(min_value=low, max_value=10**n - 1).map(lambda number: str(number).zfill(n))


def timestamps():
    offset = st.one_of(
        st.just("Z"),
        st.tuples(st.sampled_from("+-"), digits(2), st.sampled_from(["", ":", "x"]), digits(2)).map("".join),
        st.tuples(st.sampled_from("+-"), digits(2)).map("".join),
        st.just(""),
    )
    return st.tuples(
        st.integers(min_value=1895, max_value=2105).map(str),
        digits(2),
        digits(2),
        st.sampled_from(["T", " ", "t"]),
        digits(2),
        digits(2),
        st.sampled_from(["", ":00", ":59", ":60", ":30.5", ":30.1234567"]),
        offset,
    ).map(lambda parts: f"{parts[0]}-{parts[1]}-{parts[2]}{parts[3]}{parts[4]}:{parts[5]}{parts[6]}{parts[7]}")


def dates():
    return st.tuples(st.integers(min_value=0, max_value=2200).map(lambda y: str(y).zfill(4)), digits(2), digits(2)).map(
        "-".join
    )


def numbers():
    return st.tuples(
        st.sampled_from(["", "+", "-"]),
        st.text("0123456789", max_size=20),
        st.sampled_from(["", "."]),
        st.text("0123456789", max_size=8),
    ).map("".join)


BATCH = st.lists  # one query checks a whole batch
HYPOTHESIS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@HYPOTHESIS
@given(values=BATCH(st.one_of(timestamps(), st.text("0123456789-:T +Z.", min_size=1, max_size=30)), max_size=60))
def test_python_and_sql_agree_on_timestamps(values):
    assert_same("timestamp", values)


@HYPOTHESIS
@given(values=BATCH(st.one_of(dates(), st.text("0123456789-", min_size=1, max_size=12)), max_size=60))
def test_python_and_sql_agree_on_dates(values):
    assert_same("date", values)


@HYPOTHESIS
@given(values=BATCH(numbers(), max_size=60))
def test_python_and_sql_agree_on_numbers(values):
    for rule in ("amount", "target value", "integer", "csat"):
        assert_same(rule, values)
