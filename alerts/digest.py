"""The weekly digest of one pod: what a leader would look for first on the dashboard (docs/ALERTS.md).

:func:`pod_digest` reads the pod's last complete week as the dashboard shows it (``pod_dashboard``), so
every figure is the dashboard's own; ``None`` when there is nothing to say.  The same digest goes to
every recipient of the pod; only the unsubscribe link differs (``alerts.mail``).
"""

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from metrics import propensity
from metrics.choices import Grain, TargetStatus
from metrics.dashboard.drilldowns import bounds_of, engaged_accounts_without_lead
from metrics.dashboard.kpis import Kpi, pod_dashboard
from metrics.dashboard.state import DashboardState
from metrics.periods import period_start, shift
from metrics.templatetags.metric_format import format_number
from pods.models import Pod

from .figures import events_behind, relative_change

MOVERS_SHOWN = 5
MOVER_MIN_CHANGE_PCT = 10.0  # smaller moves are noise in a weekly read
MOVER_MIN_EVENTS = 5  # ... and so are moves with fewer events behind them
ACCOUNTS_SHOWN = 5
ACCOUNTS_READ = 50  # the engaged accounts without a lead, most engaged first, among which the likeliest buyers


@dataclass(frozen=True)
class Line:
    """A figure of the digest: its label, value, and what it is compared with."""

    key: str
    label: str
    value: str
    versus: str
    change: float | None = None  # percent, for movers
    status: str | None = None
    url: str = ""


@dataclass
class Digest:
    pod: Pod
    week_start: dt.date
    label: str
    dashboard_url: str  # absolute
    off_target: list[Line] = field(default_factory=list)
    amber: list[Line] = field(default_factory=list)
    movers: list[Line] = field(default_factory=list)
    empty_jobs: list[str] = field(default_factory=list)
    accounts: list[dict] = field(default_factory=list)  # name, external_id, url, propensity, top factor
    computed_at: dt.datetime | None = None
    pending_changes: bool = False

    @property
    def has_news(self) -> bool:
        return bool(self.off_target or self.amber or self.movers or self.empty_jobs or self.accounts)

    @property
    def subject(self) -> str:
        parts = []
        if self.off_target:
            parts.append(f"{len(self.off_target)} off target")
        if self.movers:
            parts.append(f"{len(self.movers)} big move{'s' if len(self.movers) != 1 else ''}")
        if self.accounts:
            parts.append(f"{len(self.accounts)} account{'s' if len(self.accounts) != 1 else ''} to call")
        summary = ", ".join(parts) or "the week in brief"
        return f"{self.pod.name} — {self.label}: {summary}"


def digest_week(pod: Pod, now: dt.datetime) -> dt.date:
    """Monday of the last complete week in the pod's zone at ``now``."""
    return shift(Grain.WEEK, period_start(Grain.WEEK, now.astimezone(zoneinfo.ZoneInfo(pod.timezone)).date()), -1)


def absolute(path: str) -> str:
    return settings.UCE_SITE_URL.rstrip("/") + path


def _line(kpi: Kpi, *, change: float | None = None) -> Line:
    unit = kpi.metric.unit
    if change is None:
        versus = f"target {format_number(kpi.target, unit)}" if kpi.target is not None else ""
    else:
        versus = f"{format_number(kpi.comparison_value, unit)} the week before"
    return Line(
        key=kpi.key,
        label=kpi.metric.label,
        value=format_number(kpi.value, unit),
        versus=versus,
        change=change,
        status=kpi.status,
        url=absolute(kpi.drilldown_url) if kpi.drilldown_url else "",
    )


def pod_digest(pod: Pod, week_start: dt.date, *, now: dt.datetime | None = None) -> Digest:
    """The digest of ``pod`` for the week starting ``week_start`` (a complete week: compared with the whole
    week before; see ``has_news``)."""
    now = now or timezone.now()
    state = DashboardState.from_query({"grain": Grain.WEEK, "period": week_start.isoformat()}, today=pod.local_today())
    board = pod_dashboard(pod=pod, state=state)
    path = reverse("pod-dashboard", args=[pod.slug]) + "?" + state.query()
    digest = Digest(
        pod=pod,
        week_start=state.period,
        label=state.label,
        dashboard_url=absolute(path),
        computed_at=board.computed_at,
        pending_changes=board.pending_changes,
        empty_jobs=list(board.unstaffed),
    )
    for kpi in board.kpis.values():
        if kpi.status == TargetStatus.RED:
            digest.off_target.append(_line(kpi))
        elif kpi.status == TargetStatus.AMBER:
            digest.amber.append(_line(kpi))
    movers = []
    for key, kpi in board.kpis.items():
        change = relative_change(kpi.value, kpi.comparison_value)
        if change is None or change == float("inf") or abs(change) < MOVER_MIN_CHANGE_PCT:
            continue
        if events_behind(key, board.current_metrics, board.comparison_metrics) < MOVER_MIN_EVENTS:
            continue
        movers.append(_line(kpi, change=change))
    movers.sort(key=lambda line: (-abs(line.change), line.label))
    digest.movers = movers[:MOVERS_SHOWN]
    rows = list(
        engaged_accounts_without_lead(
            pod=pod, bounds=bounds_of(pod, Grain.WEEK, state.period), order="engagement", now=now
        )[:ACCOUNTS_READ]
    )
    rows = propensity.with_propensities(rows, now=now)
    rows.sort(key=lambda row: (-(row["propensity"].score if row["propensity"] else -1), -row["engagement"]))
    for row in rows[:ACCOUNTS_SHOWN]:
        score = row["propensity"]
        top = score.top_factor if score else None
        digest.accounts.append(
            {
                "name": row["account__name"],
                "external_id": row["account__external_id"],
                "url": absolute(reverse("account-page", args=[row["account__external_id"]])),
                "propensity": format_number(score.score, "rate") if score else "—",
                "why": top.description if top else "",
                "learn_activities": row["learn_activities"],
            }
        )
    return digest
