"""Threshold alerts: each active rule of a pod checked against the dashboard's figures (docs/ALERTS.md).

Run after every refresh that touched the pod (``alerts.tasks.evaluate_alerts``). A rule is checked on
the current period of its grain, as the dashboard shows it: to date and like for like while the period is
in progress, its target held pro rata. It fires once per rule and period (the unique constraint on
``AlertEvent``), and when it no longer holds its open event is resolved with a notice. A rule whose owner
may no longer read the pod (``pods.scoping``) is not checked: they stop hearing about it at once.
"""

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from metrics.catalogue import METRICS_BY_KEY
from metrics.choices import TargetStatus
from metrics.dashboard.kpis import PodDashboard, pod_dashboard
from metrics.dashboard.state import DashboardState
from metrics.periods import shift
from metrics.selectors import pod_metric_series
from metrics.templatetags.metric_format import format_number
from pods.models import Pod
from pods.scoping import pods_readable_by
from webhooks import events as webhook_events
from webhooks import services as webhooks
from webhooks.choices import EventType

from . import mail
from .choices import Condition, NotificationKind
from .figures import events_behind, relative_change
from .models import AlertEvent, AlertRule, Notification

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    holds: bool
    detail: str
    # What webhooks report (docs/WEBHOOKS.md): the figure, the target or move size it was held to, the comparison.
    value: float | None = None
    threshold: float | None = None
    comparison_value: float | None = None


def _number(metric, value) -> str:
    return format_number(value, metric.unit)


def check(rule: AlertRule, board: PodDashboard, earlier_statuses: list[str | None]) -> Verdict:
    """Whether ``rule`` holds on the dashboard's period; ``earlier_statuses``: the statuses of the periods
    before it against their targets, latest first."""
    metric = METRICS_BY_KEY[rule.metric]
    kpi = board.kpis[rule.metric]
    value = _number(metric, kpi.value)
    if rule.condition == Condition.OFF_TARGET:
        holds = kpi.status in (TargetStatus.AMBER, TargetStatus.RED)
        target = _number(metric, kpi.target) if kpi.target is not None else "none"
        return Verdict(holds, f"{metric.label} {value} against a target of {target}", kpi.value, kpi.target)
    if rule.condition == Condition.STAYS_RED:
        streak = [kpi.status, *earlier_statuses[: rule.periods - 1]]
        holds = len(streak) == rule.periods and all(status == TargetStatus.RED for status in streak)
        return Verdict(
            holds, f"{metric.label} {value}: red {rule.periods} {rule.grain}s in a row", kpi.value, kpi.target
        )
    change = relative_change(kpi.value, kpi.comparison_value)
    volume = events_behind(rule.metric, board.current_metrics, board.comparison_metrics)
    holds = change is not None and abs(change) >= float(rule.change_pct) and volume >= rule.min_events
    moved = "—" if change is None else ("from 0" if change == float("inf") else f"{change:+.1f}%")
    before = _number(metric, kpi.comparison_value)
    detail = f"{metric.label} {value} vs {before} ({moved}; {volume} events behind it)"
    return Verdict(holds, detail, kpi.value, float(rule.change_pct), kpi.comparison_value)


def _earlier_statuses(pod: Pod, grain: str, period: dt.date, rules: list[AlertRule]) -> dict[str, list]:
    depth = max((rule.periods for rule in rules if rule.condition == Condition.STAYS_RED), default=0) - 1
    if depth <= 0:
        return {}
    series = pod_metric_series(pod=pod, grain=grain, first=shift(grain, period, -depth), last=shift(grain, period, -1))
    statuses = {}
    for rule in rules:
        statuses[rule.metric] = [(p.targets.get(rule.metric) or {}).get("status") for p in reversed(series.periods)]
    return statuses


def evaluate_pod(pod: Pod, *, now: dt.datetime | None = None) -> dict[str, int]:
    """Check every active rule of ``pod``; return how many fired and how many were resolved."""
    now = now or timezone.now()
    rules = list(AlertRule.objects.filter(pod=pod, paused=False, owner__is_active=True).select_related("owner"))
    counts = {"fired": 0, "resolved": 0, "checked": 0}
    by_grain: dict[str, list[AlertRule]] = {}
    for rule in rules:
        if pods_readable_by(rule.owner).filter(pk=pod.pk).exists():
            by_grain.setdefault(rule.grain, []).append(rule)
    for grain, grain_rules in by_grain.items():
        state = DashboardState.from_query({"grain": grain}, today=pod.local_today())
        board = pod_dashboard(pod=pod, state=state)
        earlier = _earlier_statuses(pod, grain, state.period, grain_rules)
        url = reverse("pod-dashboard", args=[pod.slug]) + "?" + state.query()
        for rule in grain_rules:
            verdict = check(rule, board, earlier.get(rule.metric, []))
            counts["checked"] += 1
            outcome = _record(rule, state, verdict, url, now)
            if outcome:
                counts[outcome] += 1
    return counts


def _record(rule: AlertRule, state: DashboardState, verdict: Verdict, url: str, now: dt.datetime) -> str | None:
    """Write what changed for ``rule`` in one transaction; its mail goes once that commits."""
    with transaction.atomic():
        open_events = list(
            AlertEvent.objects.select_for_update()
            .filter(rule=rule, resolved_at__isnull=True, closed_at__isnull=True)
            .order_by("period_start")
        )
        if verdict.holds:
            for event in open_events:
                if event.period_start != state.period:  # an earlier period ended firing: this one takes over
                    event.closed_at = now
                    event.save(update_fields=["closed_at"])
            if AlertEvent.objects.filter(rule=rule, period_start=state.period).exists():
                return None  # fired for this period already (and maybe resolved since: once per period)
            try:
                with transaction.atomic():
                    event = AlertEvent.objects.create(
                        rule=rule, period_start=state.period, fired_at=now, detail=verdict.detail[:300]
                    )
            except IntegrityError:  # another worker fired it first
                return None
            _notify(rule, event, NotificationKind.ALERT_FIRED, state, verdict, url)
            webhooks.emit(
                EventType.ALERT_FIRED, lambda: webhook_events.alert_fired(rule=rule, event=event, verdict=verdict)
            )
            return "fired"
        if not open_events:
            return None
        for event in open_events:
            event.resolved_at = now
            event.save(update_fields=["resolved_at"])
        _notify(rule, open_events[-1], NotificationKind.ALERT_RESOLVED, state, verdict, url)
        return "resolved"


def _notify(rule, event, kind, state, verdict, url):
    metric = METRICS_BY_KEY[rule.metric]
    if kind == NotificationKind.ALERT_FIRED:
        title = f"{rule.pod.name}: {metric.label} {rule.describe()}"
    else:
        title = f"Resolved — {rule.pod.name}: {metric.label} no longer {rule.describe()}"
    body = f"{state.label}{' (to date)' if state.in_progress else ''}: {verdict.detail}"
    notice = Notification.objects.create(
        user=rule.owner, kind=kind, pod=rule.pod, event=event, title=title[:200], body=body[:500], url=url
    )
    if rule.email and rule.owner.email:
        transaction.on_commit(lambda: _send_quietly(notice.pk))


def _send_quietly(notification_id: int) -> None:
    """The alert's email; a mail server that refuses it loses the email, never the notification (logged)."""
    try:
        mail.send_alert_email(notification_id)
    except Exception:
        logger.exception("the email of notification %s could not be sent", notification_id)
