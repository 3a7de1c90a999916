"""The range of dates and timestamps the application accepts, wherever one comes in (form, API, CSV, filter).

Python and PostgreSQL agree on neither end of the calendar: a timestamp of 9999-12-31 23:00 at
UTC-05:00 is stored as year 10000, which Python cannot read back, so every page listing that row
would fail; PostgreSQL refuses offsets beyond ±15:59 that Python accepts.  Business data lies far
inside these limits, so one plain range is enforced at every door: the years 1900 to 2099 and the
UTC offsets that exist (-12:00 to +14:00; ±14:00 is accepted on both sides).
"""

import datetime as dt

from django.core.exceptions import ValidationError

EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2099, 12, 31)
MAX_UTC_OFFSET = dt.timedelta(hours=14)

DATE_OUT_OF_RANGE = f"Dates must lie between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}."
OFFSET_OUT_OF_RANGE = "A UTC offset lies between -14:00 and +14:00."


def date_problem(value: dt.date) -> str | None:
    """Why ``value`` (a date) is not accepted, or ``None``."""
    if not EARLIEST <= value <= LATEST:
        return DATE_OUT_OF_RANGE
    return None


def timestamp_problem(value: dt.datetime) -> str | None:
    """Why ``value`` (an aware timestamp) is not accepted, or ``None``; a naive one is judged as UTC."""
    offset = value.utcoffset()
    if offset is not None and abs(offset) > MAX_UTC_OFFSET:
        return OFFSET_OUT_OF_RANGE
    # Both the local date and the UTC date must lie in range: either is stored or shown somewhere.
    # (The local date first: near year 1 or 9999, computing the UTC one would overflow.)
    if date_problem(value.date()):
        return DATE_OUT_OF_RANGE
    return date_problem((value.replace(tzinfo=None) - (offset or dt.timedelta())).date())


def validate_date_in_range(value: dt.date) -> None:
    """Django validator form of :func:`date_problem`."""
    problem = date_problem(value)
    if problem:
        raise ValidationError(problem, code="date_out_of_range")


def validate_timestamp_in_range(value: dt.datetime) -> None:
    """Django validator form of :func:`timestamp_problem`."""
    problem = timestamp_problem(value)
    if problem:
        raise ValidationError(problem, code="timestamp_out_of_range")
