"""Did the reorganisation work? Figures over equal windows before and after a re-designation (docs/REORGANISATION.md).

A reorganisation is a local date ``D`` (``Reorganisation.effective_on``) and the pods it concerns.  For a window
length of ``N`` months it compares three windows of local dates, each read in every pod's own time zone:

- **after**: ``[D, D + N months)``, cut at *today* (excluded: it is in progress) when that is earlier;
- **before**: ``[D - N months, D)``, or, when *after* was cut, the same number of days just before ``D``;
- **year earlier**: *after* moved back ``ceil(N / 12)`` whole years (the same months, entirely before ``D``).

Counts and sums add up over the pods; a rate is recomputed from the summed parts; a median is over the union of
the pods' rows.  One SQL statement per fact table answers every window and pod at once (constant query count).
"""

import calendar
import datetime as dt
import math
import zoneinfo
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import Count
from django.utils import timezone

from pods.choices import BuyingJob
from pods.models import Assignment, Pod

WINDOW_MONTHS = (6, 12, 18)
DEFAULT_MONTHS = 12
WINDOWS = ("before", "after", "year_earlier")
JOBS = tuple(BuyingJob.values)
# Days on which at least this many assignments started (a bulk re-designation) are proposed as reorganisations.
PROPOSAL_MIN_CHANGES = 5


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by ``months`` calendar months, the day clamped to the month's end (31 Mar - 1 month = 28 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


@dataclass(frozen=True)
class Window:
    name: str
    start: dt.date  # first local day
    end: dt.date  # first local day after it

    @property
    def days(self) -> int:
        return (self.end - self.start).days


@dataclass(frozen=True)
class Windows:
    before: Window
    after: Window
    year_earlier: Window
    months: int
    in_progress: bool  # the after window was cut at today

    def all(self) -> tuple[Window, ...]:
        return (self.before, self.after, self.year_earlier)


def day_text(day: dt.date) -> str:
    """A day as the reorganisation pages write one (the templates' ``j M Y``): 5 Jan 2026."""
    return f"{day.day} {day:%b %Y}"


def windows_for(effective_on: dt.date, months: int, today: dt.date) -> Windows:
    """The three windows of a reorganisation on ``effective_on`` (``today``: the first day not yet over)."""
    if months < 1:
        raise ValueError("A window is at least one month long.")
    if today <= effective_on:
        raise ValueError(f"No day after {day_text(effective_on)} is over yet: there is nothing to compare.")
    full_end = add_months(effective_on, months)
    in_progress = full_end > today
    after = Window("after", effective_on, today if in_progress else full_end)
    if in_progress:
        before = Window("before", effective_on - dt.timedelta(days=after.days), effective_on)
    else:
        before = Window("before", add_months(effective_on, -months), effective_on)
    years = math.ceil(months / 12)
    year_earlier = Window("year_earlier", add_months(after.start, -12 * years), add_months(after.end, -12 * years))
    return Windows(before, after, year_earlier, months, in_progress)


def today_for(pods) -> dt.date:
    """The earliest local date among ``pods``: no pod's window then holds a day that has not begun for it."""
    now = timezone.now()
    return min((now.astimezone(zoneinfo.ZoneInfo(pod.timezone)).date() for pod in pods), default=now.date())


# ---------- the figures ----------


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    unit: str  # count | money | rate | days | hours | ratio
    job: str | None  # None: a headline KPI across the jobs
    lower_is_better: bool = False


HEADLINE = (
    Figure("lead_volume", "Lead volume", "count", None),
    Figure("lead_acceptance_rate", "Lead acceptance rate", "rate", None),
    Figure("pipeline_created", "Pipeline created", "money", None),
    Figure("bookings", "Bookings", "money", None),
    Figure("win_rate", "Win rate", "rate", None),
    Figure("activity_total", "Activities", "count", None),
)

JOB_FIGURES = {
    BuyingJob.LEARN: (
        Figure("lead_volume", "Lead volume", "count", BuyingJob.LEARN),
        Figure("leads_accepted", "Leads accepted", "count", BuyingJob.LEARN),
        Figure("lead_acceptance_rate", "Lead acceptance rate", "rate", BuyingJob.LEARN),
        Figure("engaged_accounts", "Engaged accounts", "count", BuyingJob.LEARN),
    ),
    BuyingJob.BUY: (
        Figure("pipeline_created", "Pipeline created", "money", BuyingJob.BUY),
        Figure("bookings", "Bookings", "money", BuyingJob.BUY),
        Figure("win_rate", "Win rate", "rate", BuyingJob.BUY),
        Figure("median_sales_cycle_days", "Median sales cycle", "days", BuyingJob.BUY, lower_is_better=True),
    ),
    BuyingJob.ORDER_INSTALL: (
        Figure("orders", "Orders", "count", BuyingJob.ORDER_INSTALL),
        Figure("installs", "Installs", "count", BuyingJob.ORDER_INSTALL),
        Figure(
            "median_days_to_install", "Median days to install", "days", BuyingJob.ORDER_INSTALL, lower_is_better=True
        ),
    ),
    BuyingJob.ADOPT: (Figure("adoption_rate", "Adoption rate", "rate", BuyingJob.ADOPT),),
    BuyingJob.SUPPORT: (
        Figure("tickets_opened", "Tickets opened", "count", BuyingJob.SUPPORT),
        Figure("tickets_resolved", "Tickets resolved", "count", BuyingJob.SUPPORT),
        Figure("median_resolution_hours", "Median resolution time", "hours", BuyingJob.SUPPORT, lower_is_better=True),
        Figure("open_backlog", "Open backlog at the end", "count", BuyingJob.SUPPORT, lower_is_better=True),
    ),
}

STAFFING = (
    Figure("average_staff", "Staff (average)", "ratio", None),
    Figure("staff_at_end", "Staff on the last day", "count", None),
    Figure("activities", "Activities", "count", None),
    Figure("activities_per_staff", "Activities per staff member", "ratio", None),
    Figure("open_work", "Open work at the end", "count", None, lower_is_better=True),
    Figure("open_work_per_staff", "Open work per staff member", "ratio", None, lower_is_better=True),
)

# What "open work" is in each job, at a window's end e (docs/REORGANISATION.md); Adopt has none.
OPEN_WORK = {
    BuyingJob.LEARN: "leads created before e and not decided before e",
    BuyingJob.BUY: "opportunities created before e and not closed before e",
    BuyingJob.ORDER_INSTALL: "orders placed before e and not installed before e",
    BuyingJob.SUPPORT: "tickets opened before e and not resolved before e",
}


@dataclass(frozen=True)
class Comparison:
    """One figure in the three windows, and how after compares with before and with the year earlier."""

    figure: Figure
    before: object
    after: object
    year_earlier: object

    @staticmethod
    def _change(new, old):
        if new is None or old is None:
            return None
        return new - old

    @staticmethod
    def _relative(new, old):
        if new is None or old is None or old == 0:
            return None
        return (Decimal(new) - Decimal(old)) / Decimal(old)

    @property
    def change(self):
        return self._change(self.after, self.before)

    @property
    def relative_change(self):
        return self._relative(self.after, self.before)

    @property
    def year_change(self):
        return self._change(self.after, self.year_earlier)

    @property
    def relative_year_change(self):
        return self._relative(self.after, self.year_earlier)


@dataclass
class Impact:
    windows: Windows
    pods: list
    headline: list[Comparison] = field(default_factory=list)
    jobs: dict[str, list[Comparison]] = field(default_factory=dict)
    staffing: dict[str, list[Comparison]] = field(default_factory=dict)
    first_data_on: dt.date | None = None
    unrecorded: list[str] = field(default_factory=list)  # windows over before the first recorded fact: null

    def short_history(self) -> list[Window]:
        """Windows that begin before the first recorded fact of these pods but end after it (figures partial)."""
        if self.first_data_on is None:
            return []
        return [w for w in self.windows.all() if w.start < self.first_data_on and w.name not in self.unrecorded]


def _ratio(numerator, denominator):
    if numerator is None or not denominator:
        return None
    return Decimal(numerator) / Decimal(denominator)


def _window_table(pods, windows: Windows) -> tuple[str, list]:
    """SQL rows ``w(pod_id, name, s, e, s_day, e_day)``: each window's instants in each pod's own zone."""
    pod_ids, names, starts, ends, start_days, end_days = [], [], [], [], [], []
    for pod in pods:
        zone = zoneinfo.ZoneInfo(pod.timezone)
        for window in windows.all():
            pod_ids.append(pod.pk)
            names.append(window.name)
            starts.append(dt.datetime.combine(window.start, dt.time(), zone))
            ends.append(dt.datetime.combine(window.end, dt.time(), zone))
            start_days.append(window.start)
            end_days.append(window.end)
    sql = (
        "SELECT * FROM unnest(%s::bigint[], %s::text[], %s::timestamptz[], %s::timestamptz[], %s::date[], %s::date[])"
        " AS w(pod_id, name, s, e, s_day, e_day)"
    )
    return sql, [pod_ids, names, starts, ends, start_days, end_days]


def _by_window(sql: str, params: list) -> dict[str, dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [c.name for c in cursor.description]
        return {row[0]: dict(zip(columns[1:], row[1:], strict=True)) for row in cursor.fetchall()}


def _figures(pods, windows: Windows) -> dict[str, dict]:
    """Every window's raw figures: ``{window name: {key: value}}`` (one statement per fact table)."""
    w, params = _window_table(pods, windows)
    found = {name: {} for name in WINDOWS}

    def merge(sql):
        for name, values in _by_window(f"WITH w AS ({w}) {sql}", params).items():
            found[name].update(values)

    merge(
        """SELECT w.name,
            count(*) FILTER (WHERE l.created_at >= w.s AND l.created_at < w.e) AS lead_volume,
            count(*) FILTER (WHERE l.status = 'accepted' AND l.decided_at >= w.s AND l.decided_at < w.e) AS accepted,
            count(*) FILTER (WHERE l.status = 'rejected' AND l.decided_at >= w.s AND l.decided_at < w.e) AS rejected,
            count(*) FILTER (WHERE l.created_at < w.e AND (l.decided_at IS NULL OR l.decided_at >= w.e))
                AS open_learn
        FROM w JOIN jobs_lead l ON l.pod_id = w.pod_id GROUP BY w.name"""
    )
    merge(
        """SELECT w.name,
            coalesce(sum(o.amount) FILTER (WHERE o.created_at >= w.s AND o.created_at < w.e), 0) AS pipeline_created,
            coalesce(sum(o.amount) FILTER (WHERE o.status = 'won' AND o.closed_at >= w.s AND o.closed_at < w.e), 0)
                AS bookings,
            count(*) FILTER (WHERE o.status = 'won' AND o.closed_at >= w.s AND o.closed_at < w.e) AS won,
            count(*) FILTER (WHERE o.status = 'lost' AND o.closed_at >= w.s AND o.closed_at < w.e) AS lost,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM o.closed_at - o.created_at) / 86400)
                FILTER (WHERE o.status = 'won' AND o.closed_at >= w.s AND o.closed_at < w.e) AS median_sales_cycle_days,
            count(*) FILTER (WHERE o.created_at < w.e AND (o.closed_at IS NULL OR o.closed_at >= w.e)) AS open_buy
        FROM w JOIN jobs_opportunity o ON o.pod_id = w.pod_id GROUP BY w.name"""
    )
    merge(
        """SELECT w.name,
            count(*) FILTER (WHERE r.ordered_at >= w.s AND r.ordered_at < w.e) AS orders,
            count(*) FILTER (WHERE r.installed_at >= w.s AND r.installed_at < w.e) AS installs,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM r.installed_at - r.ordered_at) / 86400)
                FILTER (WHERE r.installed_at >= w.s AND r.installed_at < w.e) AS median_days_to_install,
            count(*) FILTER (WHERE r.ordered_at < w.e AND (r.installed_at IS NULL OR r.installed_at >= w.e))
                AS open_order_install
        FROM w JOIN jobs_order r ON r.pod_id = w.pod_id GROUP BY w.name"""
    )
    merge(
        """SELECT w.name,
            count(*) FILTER (WHERE t.opened_at >= w.s AND t.opened_at < w.e) AS tickets_opened,
            count(*) FILTER (WHERE t.resolved_at >= w.s AND t.resolved_at < w.e) AS tickets_resolved,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM t.resolved_at - t.opened_at) / 3600)
                FILTER (WHERE t.resolved_at >= w.s AND t.resolved_at < w.e) AS median_resolution_hours,
            count(*) FILTER (WHERE t.opened_at < w.e AND (t.resolved_at IS NULL OR t.resolved_at >= w.e))
                AS open_support
        FROM w JOIN jobs_supportticket t ON t.pod_id = w.pod_id GROUP BY w.name"""
    )
    # Activities by job in each window, and the distinct accounts with a Learn activity.
    activity_columns = ", ".join(
        f"count(*) FILTER (WHERE a.job = '{job}') AS activities_{job}"
        for job in JOBS  # noqa: S608 (fixed codes)
    )
    merge(
        f"""SELECT w.name, count(*) AS activity_total, {activity_columns},
            count(DISTINCT a.account_id) FILTER (WHERE a.job = 'learn') AS engaged_accounts
        FROM w JOIN jobs_activity a ON a.pod_id = w.pod_id AND a.occurred_at >= w.s AND a.occurred_at < w.e
        GROUP BY w.name"""  # noqa: S608
    )
    # Adoption: each (pod, account)'s latest reading in the window.
    merge(
        """SELECT name, sum(active_seats) AS active_seats, sum(licensed_seats) AS licensed_seats FROM (
            SELECT DISTINCT ON (w.name, r.pod_id, r.account_id) w.name, r.active_seats, r.licensed_seats
            FROM w JOIN jobs_adoptionreading r
              ON r.pod_id = w.pod_id AND r.measured_on >= w.s_day AND r.measured_on < w.e_day
            ORDER BY w.name, r.pod_id, r.account_id, r.measured_on DESC) latest
        GROUP BY name"""
    )
    # Staffing per job: person-days of assignments inside the window, and the staff active on its last day.
    staff_columns = ", ".join(
        f"""coalesce(sum(greatest(0, least(coalesce(p.ended_on, 'infinity'::date), w.e_day)
                 - greatest(p.started_on, w.s_day))) FILTER (WHERE p.job = '{job}'), 0) AS person_days_{job},
            count(*) FILTER (WHERE p.job = '{job}' AND p.started_on <= w.e_day - 1
                 AND (p.ended_on IS NULL OR p.ended_on > w.e_day - 1)) AS staff_at_end_{job}"""
        for job in JOBS
    )
    merge(
        f"""SELECT w.name, {staff_columns}
        FROM w JOIN pods_assignment p ON p.pod_id = w.pod_id GROUP BY w.name"""  # noqa: S608
    )
    return found


def _first_data_on(pods) -> dt.date | None:
    """The earliest local day (in UTC terms, to the day) any fact of these pods is recorded on."""
    ids = [pod.pk for pod in pods]
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT least(
                (SELECT min(created_at) FROM jobs_lead WHERE pod_id = ANY(%s)),
                (SELECT min(created_at) FROM jobs_opportunity WHERE pod_id = ANY(%s)),
                (SELECT min(occurred_at) FROM jobs_activity WHERE pod_id = ANY(%s)),
                (SELECT min(ordered_at) FROM jobs_order WHERE pod_id = ANY(%s)),
                (SELECT min(opened_at) FROM jobs_supportticket WHERE pod_id = ANY(%s)))""",
            [ids] * 5,
        )
        (first,) = cursor.fetchone()
    return first.astimezone(dt.UTC).date() if first else None


def _value(key: str, raw: dict):
    """A figure from a window's raw sums (absent sums: nothing recorded, so counts are 0, ratios null)."""
    get = raw.get
    if key == "lead_volume":
        return get("lead_volume") or 0
    if key == "leads_accepted":
        return get("accepted") or 0
    if key == "lead_acceptance_rate":
        return _ratio(get("accepted") or 0, (get("accepted") or 0) + (get("rejected") or 0))
    if key == "win_rate":
        return _ratio(get("won") or 0, (get("won") or 0) + (get("lost") or 0))
    if key in ("pipeline_created", "bookings"):
        return get(key) or Decimal(0)
    if key == "adoption_rate":
        return _ratio(get("active_seats"), get("licensed_seats"))
    if key == "open_backlog":
        return get("open_support") or 0
    if key.startswith("median_"):
        value = get(key)
        return None if value is None else Decimal(str(value))
    return get(key) or 0


def _staffing(job: str, raw: dict, window: Window) -> dict:
    person_days = raw.get(f"person_days_{job}") or 0
    average = Decimal(person_days) / Decimal(window.days)
    at_end = raw.get(f"staff_at_end_{job}") or 0
    activities = raw.get(f"activities_{job}") or 0
    open_work = (raw.get(f"open_{job}") or 0) if job in OPEN_WORK else None  # Adopt has no open work
    return {
        "average_staff": average,
        "staff_at_end": at_end,
        "activities": activities,
        "activities_per_staff": _ratio(activities, average),
        "open_work": open_work,
        "open_work_per_staff": _ratio(open_work, at_end),
    }


def impact(pods, effective_on: dt.date, months: int = DEFAULT_MONTHS, today: dt.date | None = None) -> Impact:
    """The before/after comparison of a reorganisation on ``effective_on`` over ``pods`` (a list or queryset)."""
    pods = list(pods)
    windows = windows_for(effective_on, months, today or today_for(pods))
    result = Impact(windows=windows, pods=pods)
    if not pods:
        return result
    raw = _figures(pods, windows)
    by_window = dict(zip(WINDOWS, windows.all(), strict=True))
    result.first_data_on = _first_data_on(pods)
    # A window over before anything was recorded has no figures (null), not zeros: nothing is known of it.
    unrecorded = {w.name for w in windows.all() if result.first_data_on is None or w.end <= result.first_data_on}

    def compare(figure: Figure) -> Comparison:
        values = [None if name in unrecorded else _value(figure.key, raw[name]) for name in WINDOWS]
        return Comparison(figure, *values)

    result.headline = [compare(f) for f in HEADLINE]
    result.jobs = {job: [compare(f) for f in figures] for job, figures in JOB_FIGURES.items()}
    for job in JOBS:
        per_window = [_staffing(job, raw[name], by_window[name]) for name in WINDOWS]
        result.staffing[job] = [
            Comparison(
                f,
                *(
                    None if name in unrecorded else values[f.key]
                    for name, values in zip(WINDOWS, per_window, strict=True)
                ),
            )
            for f in STAFFING
        ]
    result.unrecorded = sorted(unrecorded, key=WINDOWS.index)
    return result


# ---------- proposals ----------


def proposed_dates(limit: int = 10, minimum: int = PROPOSAL_MIN_CHANGES) -> list[tuple[dt.date, int]]:
    """Days on which at least ``minimum`` assignments started (a bulk re-designation), busiest first."""
    rows = (
        Assignment.objects.values("started_on")
        .annotate(changes=Count("id"))
        .filter(changes__gte=minimum)
        .order_by("-changes", "-started_on")[:limit]
    )
    return [(row["started_on"], row["changes"]) for row in rows]


def pods_of(reorganisation, readable) -> list[Pod]:
    """The pods a reorganisation concerns (all, when it names none) that the reader may read."""
    chosen = list(reorganisation.pods.all())
    if not chosen:
        return list(readable.order_by("name"))
    allowed = {pod.pk for pod in readable}
    return [pod for pod in sorted(chosen, key=lambda p: p.name) if pod.pk in allowed]
