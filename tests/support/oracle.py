"""A brute-force, pure-Python reading of METRICS.md: the oracle the metric engine is tested against.

Written from the spec alone, independent of ``metrics/`` (which computes the same figures in SQL):
every period is bucketed with ``zoneinfo``, every fact row is scanned for every period, and every
figure is kept exact (``int``, ``Decimal``, ``Fraction``) until it is turned into what the API
serialises, so a target status on the 10% amber boundary is decided without rounding.

The oracle reads plain records (see ``World``); the property tests fill them from the database with
ordinary ORM reads, never from the engine's tables.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

UTC = dt.UTC

JOBS = ("learn", "buy", "order_install", "adopt", "support")
CHANNELS = ("digital", "in_person", "partner")
PERSONAS = ("end_user", "champion", "executive")
GRAINS = ("week", "month", "quarter", "year")

# Every key of METRICS.md, in the spec's order, with how the API serialises it.
COUNT_KEYS = (
    "lead_volume",
    "leads_accepted",
    "leads_rejected",
    "engaged_accounts",
    "orders",
    "installs",
    "tickets_opened",
    "tickets_resolved",
    "open_backlog",
    "activity_total",
    "loopbacks",
    "buy_accounts_without_executive",
)
MONEY_KEYS = ("pipeline_created", "bookings")
FRACTION_KEYS = (
    "lead_acceptance_rate",
    "win_rate",
    "bookings_yoy_growth",
    "median_sales_cycle_days",
    "median_days_to_install",
    "adoption_rate",
    "median_resolution_hours",
    "csat",
    "median_days_to_lead_decision",
    "digital_share",
    "rep_free_win_share",
    "maze_index",
    "staffed_job_coverage",
)
OBJECT_KEYS = (
    "activities",
    "journey_transitions",
    "staff_by_job",
    "persona_coverage",
    "leads_rejected_by_reason",
    "leads_decided_by_channel",
)
METRIC_KEYS = (
    "lead_volume",
    "leads_accepted",
    "leads_rejected",
    "lead_acceptance_rate",
    "engaged_accounts",
    "pipeline_created",
    "bookings",
    "win_rate",
    "bookings_yoy_growth",
    "median_sales_cycle_days",
    "orders",
    "installs",
    "median_days_to_install",
    "adoption_rate",
    "tickets_opened",
    "tickets_resolved",
    "median_resolution_hours",
    "csat",
    "open_backlog",
    "activities",
    "activity_total",
    "digital_share",
    "rep_free_win_share",
    "journey_transitions",
    "loopbacks",
    "maze_index",
    "staff_by_job",
    "staffed_job_coverage",
    # Beyond METRICS.md, defined in docs/ACCOUNTS.md ("Figures on the pod dashboard").
    "leads_rejected_by_reason",
    "buy_accounts_without_executive",
    "persona_coverage",
    "leads_decided_by_channel",
    "median_days_to_lead_decision",
)
SCALAR_KEYS = tuple(key for key in METRIC_KEYS if key not in OBJECT_KEYS)
LOWER_IS_BETTER = frozenset(
    {
        "median_sales_cycle_days",
        "median_days_to_install",
        "median_resolution_hours",
        "median_days_to_lead_decision",
        "open_backlog",
        "buy_accounts_without_executive",  # docs/ACCOUNTS.md: fewer is better
    }
)

# "[closed_at - 90 days, closed_at]": 90 days of 86 400 seconds, whatever the calendar does.
REP_FREE_WINDOW = dt.timedelta(days=90)
AMBER_MARGIN = Fraction(1, 10)


# --- Plain records -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pod:
    id: int
    slug: str
    timezone: str


@dataclass(frozen=True)
class Activity:
    id: int
    pod_id: int
    account_id: int
    occurred_at: dt.datetime
    job: str
    channel: str
    persona: str | None = None  # the persona of the activity's contact; None without a contact


@dataclass(frozen=True)
class Lead:
    id: int
    pod_id: int
    account_id: int
    created_at: dt.datetime
    status: str
    decided_at: dt.datetime | None
    rejection_reason: str = ""
    channel: str = "digital"


@dataclass(frozen=True)
class Opportunity:
    id: int
    pod_id: int
    account_id: int
    amount: Decimal
    created_at: dt.datetime
    status: str
    closed_at: dt.datetime | None


@dataclass(frozen=True)
class Order:
    id: int
    pod_id: int
    account_id: int
    ordered_at: dt.datetime
    installed_at: dt.datetime | None


@dataclass(frozen=True)
class AdoptionReading:
    id: int
    pod_id: int
    account_id: int
    measured_on: dt.date
    licensed_seats: int
    active_seats: int


@dataclass(frozen=True)
class SupportTicket:
    id: int
    pod_id: int
    account_id: int
    opened_at: dt.datetime
    resolved_at: dt.datetime | None
    csat: int | None


@dataclass(frozen=True)
class Assignment:
    id: int
    person_id: int
    pod_id: int
    job: str
    started_on: dt.date
    ended_on: dt.date | None


@dataclass(frozen=True)
class Target:
    pod_id: int
    metric: str
    grain: str
    period_start: dt.date
    value: Decimal


@dataclass
class World:
    """Everything the metrics depend on; facts of every pod, because rep-free looks across pods."""

    pods: list[Pod] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)
    leads: list[Lead] = field(default_factory=list)
    opportunities: list[Opportunity] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    readings: list[AdoptionReading] = field(default_factory=list)
    tickets: list[SupportTicket] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)

    def pod(self, slug: str) -> Pod:
        return next(pod for pod in self.pods if pod.slug == slug)


# --- Periods -------------------------------------------------------------------------------------------------------


def period_start_of(grain: str, day: dt.date) -> dt.date:
    """The first day of the ``grain`` period containing ``day`` (weeks are ISO: Monday)."""
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if grain == "year":
        return dt.date(day.year, 1, 1)
    raise ValueError(grain)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def next_period_start(grain: str, start: dt.date) -> dt.date:
    if grain == "week":
        return start + dt.timedelta(days=7)
    return _add_months(start, {"month": 1, "quarter": 3, "year": 12}[grain])


def is_period_start(grain: str, day: dt.date) -> bool:
    return period_start_of(grain, day) == day


def year_earlier_start(grain: str, start: dt.date) -> dt.date:
    """Start of P': the same-grain period one year earlier (for weeks, 52 weeks earlier)."""
    if grain == "week":
        return start - dt.timedelta(weeks=52)
    return _add_months(start, -12)


def periods(grain: str, start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    """Every ``(start, next start)`` of the grain whose start date lies in ``[start, end]``."""
    first = period_start_of(grain, start)
    if first < start:
        first = next_period_start(grain, first)
    result = []
    while first <= end:
        following = next_period_start(grain, first)
        result.append((first, following))
        first = following
    return result


def local_midnight(timezone: str, day: dt.date) -> dt.datetime:
    """The instant (UTC) of 00:00 on ``day`` in ``timezone``."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def instant_bounds(timezone: str, start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """``s`` and ``e`` of METRICS.md: local midnights of the period's first day and of the next period's."""
    return local_midnight(timezone, start), local_midnight(timezone, end)


def _within(moment: dt.datetime | None, s: dt.datetime, e: dt.datetime) -> bool:
    return moment is not None and s <= moment < e


# --- Exact arithmetic ----------------------------------------------------------------------------------------------


def seconds(delta: dt.timedelta) -> Fraction:
    """A duration in seconds, exactly (``timedelta.total_seconds`` is a float)."""
    return Fraction(delta.days * 86400 + delta.seconds) + Fraction(delta.microseconds, 1_000_000)


def ratio(numerator, denominator) -> Fraction | None:
    """A ratio, or ``None`` when there is nothing to divide (METRICS.md "Conventions")."""
    if not denominator:
        return None
    return Fraction(numerator) / Fraction(denominator)


def median(values: Iterable[Fraction]) -> Fraction | None:
    values = list(values)
    # statistics.median averages the two middle values of an even count, as percentile_cont(0.5) does.
    return Fraction(statistics.median(values)) if values else None


# --- Metrics of one pod and one period -----------------------------------------------------------------------------


def _journeys(activities: list[Activity]) -> tuple[dict[str, dict[str, int]], int, int]:
    """Transitions between jobs per account, plus (accounts with a transition, accounts with a loopback)."""
    transitions = {source: dict.fromkeys(JOBS, 0) for source in JOBS}
    by_account: dict[int, list[Activity]] = {}
    for activity in activities:
        by_account.setdefault(activity.account_id, []).append(activity)
    travelling = looping = 0
    for journey in by_account.values():
        # Ties in occurred_at are broken by creation order, i.e. ascending id.
        journey.sort(key=lambda activity: (activity.occurred_at, activity.id))
        moved = looped = False
        for before, after in zip(journey, journey[1:], strict=False):
            if before.job == after.job:
                continue
            transitions[before.job][after.job] += 1
            moved = True
            looped = looped or JOBS.index(after.job) < JOBS.index(before.job)
        travelling += moved
        looping += looped
    return transitions, travelling, looping


def _bookings(world: World, pod: Pod, start: dt.date, end: dt.date) -> Decimal:
    s, e = instant_bounds(pod.timezone, start, end)
    won = [o for o in world.opportunities if o.pod_id == pod.id and o.status == "won"]
    return sum((o.amount for o in won if _within(o.closed_at, s, e)), Decimal("0.00"))


def period_metrics(
    world: World, pod: Pod, grain: str, start: dt.date, end: dt.date, *, yoy_days: int | None = None
) -> dict:
    """Every metric of METRICS.md for ``pod`` over ``[start, end)`` (local dates), as exact values.

    ``yoy_days``: a period to date (docs/PERIOD-TO-DATE.md) — bookings growth compares with the
    first ``yoy_days`` days of the period a year earlier (at most all of it), not the whole of it.
    """
    s, e = instant_bounds(pod.timezone, start, end)
    last_day = end - dt.timedelta(days=1)
    mine = pod.id

    leads = [lead for lead in world.leads if lead.pod_id == mine]
    lead_volume = sum(_within(lead.created_at, s, e) for lead in leads)
    accepted = sum(lead.status == "accepted" and _within(lead.decided_at, s, e) for lead in leads)
    rejected = sum(lead.status == "rejected" and _within(lead.decided_at, s, e) for lead in leads)

    activities = [a for a in world.activities if a.pod_id == mine and _within(a.occurred_at, s, e)]
    engaged = len({a.account_id for a in activities if a.job == "learn"})
    mix = {job: dict.fromkeys(CHANNELS, 0) for job in JOBS}
    for activity in activities:
        mix[activity.job][activity.channel] += 1
    digital = sum(activity.channel == "digital" for activity in activities)
    transitions, travelling, looping = _journeys(activities)
    loopbacks = sum(
        transitions[source][target] for source in JOBS for target in JOBS if JOBS.index(target) < JOBS.index(source)
    )

    reasons: dict[str, int] = {}
    decided_by_channel = {channel: {"accepted": 0, "rejected": 0} for channel in CHANNELS}
    decided = [lead for lead in leads if lead.status in ("accepted", "rejected") and _within(lead.decided_at, s, e)]
    for lead in decided:
        decided_by_channel[lead.channel][lead.status] += 1
        if lead.status == "rejected":
            reason = lead.rejection_reason.strip(" ") or "unspecified"
            reasons[reason] = reasons.get(reason, 0) + 1

    coverage = {}
    for job in JOBS:
        active = {a.account_id for a in activities if a.job == job}
        reached = {p: {a.account_id for a in activities if a.job == job and a.persona == p} for p in PERSONAS}
        coverage[job] = {p: ratio(len(reached[p]), len(active)) for p in PERSONAS}
        if job == "buy":
            buy_without_executive = len(active - reached["executive"])

    opportunities = [o for o in world.opportunities if o.pod_id == mine]
    pipeline = sum((o.amount for o in opportunities if _within(o.created_at, s, e)), Decimal("0.00"))
    closed = [o for o in opportunities if _within(o.closed_at, s, e)]
    won = [o for o in closed if o.status == "won"]
    lost = [o for o in closed if o.status == "lost"]
    bookings = sum((o.amount for o in won), Decimal("0.00"))
    earlier = year_earlier_start(grain, start)
    earlier_end = next_period_start(grain, earlier)
    if yoy_days is not None:
        earlier_end = min(earlier_end, earlier + dt.timedelta(days=yoy_days))
    bookings_before = _bookings(world, pod, earlier, earlier_end)
    yoy = None if bookings_before == 0 else (Fraction(bookings) - Fraction(bookings_before)) / Fraction(bookings_before)

    def rep_free(opportunity: Opportunity) -> bool:
        window_start = opportunity.closed_at - REP_FREE_WINDOW
        return not any(
            a.account_id == opportunity.account_id
            and a.channel in ("in_person", "partner")
            and window_start <= a.occurred_at <= opportunity.closed_at
            for a in world.activities  # under any pod
        )

    orders = [o for o in world.orders if o.pod_id == mine]
    installed = [o for o in orders if _within(o.installed_at, s, e)]

    latest: dict[int, AdoptionReading] = {}
    for reading in world.readings:
        if reading.pod_id == mine and start <= reading.measured_on < end:
            current = latest.get(reading.account_id)
            if current is None or reading.measured_on > current.measured_on:
                latest[reading.account_id] = reading
    adoption = ratio(sum(r.active_seats for r in latest.values()), sum(r.licensed_seats for r in latest.values()))

    tickets = [t for t in world.tickets if t.pod_id == mine]
    resolved = [t for t in tickets if _within(t.resolved_at, s, e)]
    rated = [t.csat for t in resolved if t.csat is not None]
    backlog = sum(t.opened_at < e and (t.resolved_at is None or t.resolved_at >= e) for t in tickets)

    staff = dict.fromkeys(JOBS, 0)
    for assignment in world.assignments:
        active = assignment.started_on <= last_day and (assignment.ended_on is None or last_day < assignment.ended_on)
        if assignment.pod_id == mine and active:
            staff[assignment.job] += 1

    return {
        "lead_volume": lead_volume,
        "leads_accepted": accepted,
        "leads_rejected": rejected,
        "lead_acceptance_rate": ratio(accepted, accepted + rejected),
        "engaged_accounts": engaged,
        "pipeline_created": pipeline,
        "bookings": bookings,
        "win_rate": ratio(len(won), len(won) + len(lost)),
        "bookings_yoy_growth": yoy,
        "median_sales_cycle_days": median(seconds(o.closed_at - o.created_at) / 86400 for o in won),
        "orders": sum(_within(o.ordered_at, s, e) for o in orders),
        "installs": len(installed),
        "median_days_to_install": median(seconds(o.installed_at - o.ordered_at) / 86400 for o in installed),
        "adoption_rate": adoption,
        "tickets_opened": sum(_within(t.opened_at, s, e) for t in tickets),
        "tickets_resolved": len(resolved),
        "median_resolution_hours": median(seconds(t.resolved_at - t.opened_at) / 3600 for t in resolved),
        "csat": ratio(sum(rated), len(rated)),
        "median_days_to_lead_decision": median(seconds(lead.decided_at - lead.created_at) / 86400 for lead in decided),
        "open_backlog": backlog,
        "activities": mix,
        "activity_total": len(activities),
        "digital_share": ratio(digital, len(activities)),
        "rep_free_win_share": ratio(sum(rep_free(o) for o in won), len(won)),
        "journey_transitions": transitions,
        "loopbacks": loopbacks,
        "maze_index": ratio(looping, travelling),
        "staff_by_job": staff,
        "staffed_job_coverage": Fraction(sum(count > 0 for count in staff.values()), len(JOBS)),
        "leads_rejected_by_reason": reasons,
        "buy_accounts_without_executive": buy_without_executive,
        "persona_coverage": coverage,
        "leads_decided_by_channel": decided_by_channel,
    }


# --- Targets -------------------------------------------------------------------------------------------------------


def target_status(metric: str, value, target) -> str | None:
    """green / amber / red of METRICS.md "Targets"; ``None`` when the value or the target is missing.

    "Misses it by at most 10% of the target" is read as a margin of 10% of the target's magnitude.
    """
    if value is None or target is None:
        return None
    value, target = Fraction(value), Fraction(target)
    miss = value - target if metric in LOWER_IS_BETTER else target - value
    if miss <= 0:
        return "green"
    if miss <= abs(target) * AMBER_MARGIN:
        return "amber"
    return "red"


# --- What the API should answer ------------------------------------------------------------------------------------


def serialise(key: str, value):
    """The JSON shape of one metric value: ints for counts, floats for money and rates, ``None`` for null."""
    if value is None:
        return None
    if key in COUNT_KEYS:
        return int(value)
    if key == "persona_coverage":
        return {job: {p: None if r is None else float(r) for p, r in row.items()} for job, row in value.items()}
    if key in OBJECT_KEYS:
        return value
    return float(value)


def expected_periods(world: World, slug: str, grain: str, start: dt.date, end: dt.date) -> list[dict]:
    """The ``periods`` list of ``GET /api/pods/{slug}/metrics/`` for that grain and range."""
    pod = world.pod(slug)
    answer = []
    for first, following in periods(grain, start, end):
        exact = period_metrics(world, pod, grain, first, following)
        targets = {
            target.metric: {
                "value": float(target.value),
                "status": target_status(target.metric, exact[target.metric], target.value),
            }
            for target in world.targets
            if target.pod_id == pod.id and target.grain == grain and target.period_start == first
        }
        answer.append(
            {
                "start": first.isoformat(),
                "end": following.isoformat(),
                "metrics": {key: serialise(key, value) for key, value in exact.items()},
                "exact": exact,
                "targets": targets,
            }
        )
    return answer


# --- Periods to date (docs/PERIOD-TO-DATE.md) ----------------------------------------------------------------------


def previous_period_start(grain: str, start: dt.date) -> dt.date:
    if grain == "week":
        return start - dt.timedelta(days=7)
    return _add_months(start, -{"month": 1, "quarter": 3, "year": 12}[grain])


def local_today(pod: Pod, now: dt.datetime) -> dt.date:
    return now.astimezone(ZoneInfo(pod.timezone)).date()


def to_date_windows(grain: str, today: dt.date) -> dict[str, tuple[dt.date, int]]:
    """``{"current" | "previous_period" | "same_period_last_year": (start, days)}``, counted day by day:
    the days of the period containing ``today`` up to it, and as many (at most all) of the other two."""
    start = period_start_of(grain, today)
    elapsed = 0
    day = start
    while day <= today:
        elapsed += 1
        day += dt.timedelta(days=1)
    windows = {"current": (start, elapsed)}
    for name, other in (
        ("previous_period", previous_period_start(grain, start)),
        ("same_period_last_year", year_earlier_start(grain, start)),
    ):
        length = (next_period_start(grain, other) - other).days
        windows[name] = (other, min(elapsed, length))
    return windows


# Counts and amounts that accumulate day by day: held to a pro rata share of their target while the period runs.
ACCUMULATING = {
    "lead_volume", "leads_accepted", "leads_rejected", "engaged_accounts", "pipeline_created", "bookings",
    "orders", "installs", "tickets_opened", "tickets_resolved", "activity_total", "loopbacks",
}  # fmt: skip


def expected_to_date(world: World, slug: str, grain: str, now: dt.datetime) -> dict:
    """The ``to_date`` block of the API for the pod's period in progress at ``now``."""
    pod = world.pod(slug)
    windows = to_date_windows(grain, local_today(pod, now))

    def figures(start: dt.date, days: int) -> dict:
        return period_metrics(world, pod, grain, start, start + dt.timedelta(days=days), yoy_days=days)

    start, days = windows["current"]
    period_days = (next_period_start(grain, start) - start).days
    current = figures(start, days)
    targets = {}
    for target in world.targets:
        if target.pod_id == pod.id and target.grain == grain and target.period_start == start:
            held_to = Fraction(target.value)
            if target.metric in ACCUMULATING:
                held_to = held_to * days / period_days
            targets[target.metric] = {
                "value": float(held_to),
                "status": target_status(target.metric, current[target.metric], held_to),
            }
    answer = {
        "through": (start + dt.timedelta(days=days - 1)).isoformat(),
        "days": days,
        "exact": current,
        "metrics": {key: serialise(key, value) for key, value in current.items()},
        "targets": targets,
    }
    for name in ("previous_period", "same_period_last_year"):
        other, other_days = windows[name]
        exact = figures(other, other_days)
        answer[name] = {
            "start": other.isoformat(),
            "end": (other + dt.timedelta(days=other_days)).isoformat(),
            "days": other_days,
            "metrics": {key: serialise(key, value) for key, value in exact.items()},
        }
    return answer
