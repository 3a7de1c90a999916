"""The dashboard's state, all of it in the URL: grain, period and comparison, and how periods are labelled.

:class:`DashboardState` reads ``?grain=&period=&compare=`` forgivingly and writes the canonical query
string back, so links are shareable and Back works.  The dashboard, its drill-downs, the home page and
the comparison all build one; a period containing the pod's today is *in progress* (docs/PERIOD-TO-DATE.md).
"""

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from ..choices import Grain
from ..periods import period_start, periods_starting_between, shift, year_earlier
from ..to_date import ToDateWindows, is_complete, windows_on
from ..to_date import Window as DayWindow

COMPARE_PREVIOUS = "previous"
COMPARE_LAST_YEAR = "last_year"
COMPARE_CHOICES = ((COMPARE_PREVIOUS, "Previous period"), (COMPARE_LAST_YEAR, "Same period last year"))
TREND_PERIODS = 12
# Periods before this are refused as typos (a year 0001 would also break period arithmetic).
EARLIEST_PERIOD = dt.date(1990, 1, 1)


def period_label(grain: str, start: dt.date, *, short: bool = False) -> str:
    """``March 2026``, ``Q1 2026``, ``2026``, or ``Week 11, 2026 (9–15 Mar)``; short forms for chart axes."""
    if grain == Grain.MONTH:
        return start.strftime("%b %y" if short else "%B %Y")
    if grain == Grain.QUARTER:
        return f"Q{(start.month - 1) // 3 + 1} {start:%y}" if short else f"Q{(start.month - 1) // 3 + 1} {start.year}"
    if grain == Grain.YEAR:
        return str(start.year)
    iso_year, iso_week, _ = start.isocalendar()
    if short:
        return f"{start.day} {start:%b}"
    last = start + dt.timedelta(days=6)
    span = (
        f"{start.day}–{last.day} {last:%b}"
        if start.month == last.month
        else f"{start.day} {start:%b}–{last.day} {last:%b}"
    )
    return f"Week {iso_week}, {iso_year} ({span})"


@dataclass(frozen=True)
class DashboardState:
    """What the dashboard shows: grain, period (its start date) and comparison — all of it in the URL."""

    grain: str
    period: dt.date
    compare: str
    current_period: dt.date  # the period containing the pod's today: the latest one offered
    # The pod's local today: the current period is in progress until it is over (docs/PERIOD-TO-DATE.md).
    today: dt.date | None = None

    @staticmethod
    def grain_of(params) -> str:
        """The grain of ``?grain=``, readable before the pod's today is known; month when unreadable."""
        grain = params.get("grain")
        return grain if grain in Grain.values else Grain.MONTH

    @classmethod
    def from_query(cls, params, *, today: dt.date) -> "DashboardState":
        """Read ``?grain=&period=&compare=``; anything unreadable falls back to this month, previous period."""
        grain = cls.grain_of(params)
        current = period_start(grain, today)
        try:
            day = dt.date.fromisoformat(params.get("period") or "")
        except ValueError:
            day = today
        if day < EARLIEST_PERIOD:
            day = today
        compare = params.get("compare")
        if compare not in (COMPARE_PREVIOUS, COMPARE_LAST_YEAR):
            compare = COMPARE_PREVIOUS
        period = min(period_start(grain, day), current)
        return cls(grain=grain, period=period, compare=compare, current_period=current, today=today)

    @property
    def in_progress(self) -> bool:
        """The period is the one containing today: its figures are to date, its comparison like for like."""
        return self.today is not None and not is_complete(self.grain, self.period, self.today)

    @property
    def to_date(self) -> ToDateWindows | None:
        return windows_on(self.grain, self.today) if self.in_progress else None

    @property
    def comparison_window(self) -> DayWindow | None:
        """The stretch of the comparison period a period in progress is compared with."""
        windows = self.to_date
        if windows is None:
            return None
        return windows.last_year if self.compare == COMPARE_LAST_YEAR else windows.previous

    @property
    def progress_label(self) -> str:
        """``1–5 Dec`` (``1–5 Dec 2026`` against last year): the days of a period in progress so far."""
        windows = self.to_date
        return windows.current.label(year=self.compare == COMPARE_LAST_YEAR) if windows else ""

    @property
    def end(self) -> dt.date:
        return shift(self.grain, self.period, 1)

    @property
    def comparison_period(self) -> dt.date:
        if self.compare == COMPARE_LAST_YEAR:
            return year_earlier(self.grain, self.period)
        return shift(self.grain, self.period, -1)

    @property
    def previous_period(self) -> dt.date:
        return shift(self.grain, self.period, -1)

    @property
    def next_period(self) -> dt.date | None:
        following = shift(self.grain, self.period, 1)
        return following if following <= self.current_period else None

    @property
    def label(self) -> str:
        return period_label(self.grain, self.period)

    @property
    def comparison_label(self) -> str:
        """The comparison period, or for a period in progress the same days of it: ``1–5 Nov``."""
        window = self.comparison_window
        if window is not None:
            return window.label(year=self.compare == COMPARE_LAST_YEAR)
        return period_label(self.grain, self.comparison_period)

    @property
    def trend_first(self) -> dt.date:
        return shift(self.grain, self.period, -(TREND_PERIODS - 1))

    def recent_periods(self, count: int = 24) -> list[tuple[dt.date, str]]:
        """Options of the period picker: the latest ``count`` periods, plus the selected one if older."""
        first = shift(self.grain, self.current_period, -(count - 1))
        options = [
            (start, period_label(self.grain, start))
            for start, _ in periods_starting_between(self.grain, first, self.current_period)
        ]
        if self.period < first:
            options.insert(0, (self.period, self.label))
        return list(reversed(options))

    def query(self, **overrides) -> str:
        """The canonical query string of this state, with some values replaced."""
        values = {"grain": self.grain, "period": self.period.isoformat(), "compare": self.compare}
        values.update(
            {key: value.isoformat() if isinstance(value, dt.date) else value for key, value in overrides.items()}
        )
        return urlencode(values)
