"""Periods in progress, and comparing them like with like (docs/PERIOD-TO-DATE.md).

A period is *complete* once its last local day is over in the pod's zone; the period containing
the pod's today is *in progress*.  Its figures cover its first ``days`` local days (today counted
whole), and it is compared with the same number of days of the comparison period — "1–5 Dec vs
1–5 Nov", never 5 days against 30.  The refresh materialises these windows
(``metrics.models.PeriodToDateSnapshot``); this module says which windows a page reads, how they
are labelled and what a target of an unfinished period is held to.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from .catalogue import METRICS_BY_KEY
from .periods import period_start, shift, year_earlier

# Counts and amounts that accumulate day by day: their target is pro rata while the period runs.
# Rates, medians, scores and point-in-time figures (backlog, staffing) are held to the whole target.
ACCUMULATING = frozenset(
    {
        "lead_volume",
        "leads_accepted",
        "leads_rejected",
        "engaged_accounts",
        "pipeline_created",
        "bookings",
        "orders",
        "installs",
        "tickets_opened",
        "tickets_resolved",
        "activity_total",
        "loopbacks",
    }
)


def is_complete(grain: str, start: dt.date, today: dt.date) -> bool:
    """Whether the period starting at ``start`` ended before ``today`` (its end date is today or earlier)."""
    return shift(grain, start, 1) <= today


@dataclass(frozen=True)
class Window:
    """The first ``days`` local days of the ``grain`` period starting at ``start``: ``[start, start + days)``."""

    grain: str
    start: dt.date
    days: int

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=self.days)

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    @property
    def period_days(self) -> int:
        return (shift(self.grain, self.start, 1) - self.start).days

    @property
    def fraction(self) -> float:
        """The share of its period the window covers."""
        return self.days / self.period_days

    def label(self, *, year: bool = False) -> str:
        """``1–5 Dec``, ``5 Dec``, ``1 Oct–5 Dec``; with the year(s) when ``year``: ``1–5 Dec 2025``."""
        first, last = self.start, self.last_day
        suffix = f" {last.year}" if year else ""
        if first == last:
            return f"{last.day} {last:%b}{suffix}"
        if first.month == last.month and first.year == last.year:
            return f"{first.day}–{last.day} {last:%b}{suffix}"
        if first.year != last.year:
            return f"{first.day} {first:%b} {first.year}–{last.day} {last:%b} {last.year}"
        return f"{first.day} {first:%b}–{last.day} {last:%b}{suffix}"


@dataclass(frozen=True)
class ToDateWindows:
    """What a period in progress reads: itself so far, and the like-for-like stretch of the two comparisons."""

    current: Window
    previous: Window
    last_year: Window

    def all(self) -> tuple[Window, Window, Window]:
        return self.current, self.previous, self.last_year


def _clipped(grain: str, start: dt.date, days: int) -> Window:
    window = Window(grain, start, days)
    return Window(grain, start, min(days, window.period_days))


def windows_on(grain: str, today: dt.date) -> ToDateWindows:
    """The windows of the period containing ``today``: ``n`` = days since its start, today included;
    the previous period and the period a year earlier cut to the same ``n`` (never past their end)."""
    start = period_start(grain, today)
    days = (today - start).days + 1
    return ToDateWindows(
        current=Window(grain, start, days),
        previous=_clipped(grain, shift(grain, start, -1), days),
        last_year=_clipped(grain, year_earlier(grain, start), days),
    )


def target_to_date(metric_key: str, target, window: Window):
    """What a target of a period in progress is held to after ``window``: pro rata for accumulating
    counts and amounts (target × elapsed days / days of the period), the whole target otherwise."""
    if target is None:
        return None
    if metric_key in ACCUMULATING:
        return Decimal(str(target)) * window.days / window.period_days
    return Decimal(str(target))


def is_prorated(metric_key: str) -> bool:
    return metric_key in ACCUMULATING and METRICS_BY_KEY[metric_key].is_scalar
