"""Calendar periods of each grain as local dates (the pod's zone is applied by the SQL engine)."""

import datetime as dt

from .choices import Grain


def period_start(grain: str, day: dt.date) -> dt.date:
    """The first day of the ``grain`` period containing ``day`` (weeks start on Monday, ISO)."""
    if grain == Grain.WEEK:
        return day - dt.timedelta(days=day.weekday())
    if grain == Grain.MONTH:
        return day.replace(day=1)
    if grain == Grain.QUARTER:
        return day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)
    if grain == Grain.YEAR:
        return day.replace(month=1, day=1)
    raise ValueError(f"unknown grain {grain!r}")


def shift(grain: str, start: dt.date, periods: int) -> dt.date:
    """The start of the period ``periods`` periods after (negative: before) the one starting at ``start``."""
    if grain == Grain.WEEK:
        return start + dt.timedelta(weeks=periods)
    months = {Grain.MONTH: 1, Grain.QUARTER: 3, Grain.YEAR: 12}[grain] * periods
    index = start.year * 12 + start.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def periods_starting_between(grain: str, first: dt.date, last: dt.date) -> list[tuple[dt.date, dt.date]]:
    """Every ``(start, end)`` of the grain whose start date lies in ``[first, last]``."""
    start = period_start(grain, first)
    if start < first:
        start = shift(grain, start, 1)
    periods = []
    while start <= last:
        end = shift(grain, start, 1)
        periods.append((start, end))
        start = end
    return periods


def year_earlier(grain: str, start: dt.date) -> dt.date:
    """The same-grain period one year earlier (weeks: 52 weeks earlier), as METRICS.md defines it."""
    return shift(grain, start, {Grain.WEEK: -52, Grain.MONTH: -12, Grain.QUARTER: -4, Grain.YEAR: -1}[grain])
