"""The demo's monthly targets: set near what each pod actually did, with an ambition of its own per metric."""

import datetime as dt
import random
import statistics
import zoneinfo
from collections import defaultdict
from decimal import Decimal

from jobs.choices import LeadStatus, OpportunityStatus
from jobs.models import Lead, Opportunity, Order, SupportTicket
from metrics.models import Target
from pods.models import Pod

from ..vocabulary import LEARN
from .organisation import DemoAccount
from .story import BATCH_SIZE, DAY, DEMO_PODS

# Targets set per pod per month: (metric, lower is better, decimal places; None rounds money to thousands).
TARGET_METRICS = (
    ("lead_volume", False, 0),
    ("lead_acceptance_rate", False, 2),
    ("engaged_accounts", False, 0),
    ("bookings", False, None),
    ("win_rate", False, 2),
    ("median_sales_cycle_days", True, 1),
    ("median_days_to_install", True, 1),
    ("median_resolution_hours", True, 1),
    ("csat", False, 2),
)


class DemoTargets:
    """Writes the targets from the generated facts; mixed into ``DemoGenerator``, which sets these attributes."""

    rng: random.Random
    now: dt.datetime
    tz: dict[str, zoneinfo.ZoneInfo]
    pods: dict[str, Pod]
    activities: list[tuple]
    leads: list[Lead]
    opportunities: list[Opportunity]
    orders: list[Order]
    tickets: list[SupportTicket]
    counts: dict[str, int]
    by_pk: dict[int, DemoAccount]

    def _create_targets(self):
        """Monthly targets for the last 12 months, set near what each pod actually does.

        Each pod has its own ambition per metric, so the dashboard shows a mix of green, amber and red.
        """
        rng = self.rng
        monthly: dict[tuple[str, str, dt.date], list] = defaultdict(list)

        def add(metric, account, instant, value):
            # Bucketed by the pod's local month, as the dashboard does.
            month = instant.astimezone(account.tz).date().replace(day=1)
            monthly[(account.pod.slug, metric, month)].append(value)

        for occurred, account, job, *_ in self.activities:
            if job == LEARN:
                add("engaged_accounts", account, occurred, account.row.pk)
        by_pk = self.by_pk
        for lead in self.leads:
            add("lead_volume", by_pk[lead.account_id], lead.created_at, 1)
            if lead.decided_at:
                add("lead_acceptance_rate", by_pk[lead.account_id], lead.decided_at, lead.status == LeadStatus.ACCEPTED)
        for opp in self.opportunities:
            if opp.closed_at:
                account = by_pk[opp.account_id]
                won = opp.status == OpportunityStatus.WON
                add("win_rate", account, opp.closed_at, won)
                add("bookings", account, opp.closed_at, float(opp.amount) if won else 0.0)
                if won:
                    add(
                        "median_sales_cycle_days",
                        account,
                        opp.closed_at,
                        (opp.closed_at - opp.created_at).total_seconds() / 86400,
                    )
        for order in self.orders:
            if order.installed_at:
                days = (order.installed_at - order.ordered_at).total_seconds() / 86400
                add("median_days_to_install", by_pk[order.account_id], order.installed_at, days)
        for ticket in self.tickets:
            if ticket.resolved_at:
                account = by_pk[ticket.account_id]
                add(
                    "median_resolution_hours",
                    account,
                    ticket.resolved_at,
                    (ticket.resolved_at - ticket.opened_at).total_seconds() / 3600,
                )
                if ticket.csat:
                    add("csat", account, ticket.resolved_at, ticket.csat)

        summarise = {
            "lead_volume": len,
            "engaged_accounts": lambda values: len(set(values)),
            "lead_acceptance_rate": statistics.fmean,
            "win_rate": statistics.fmean,
            "bookings": sum,
            "median_sales_cycle_days": statistics.median,
            "median_days_to_install": statistics.median,
            "median_resolution_hours": statistics.median,
            "csat": statistics.fmean,
        }
        targets = []
        for profile in DEMO_PODS:
            this_month = self.now.astimezone(self.tz[profile.slug]).date().replace(day=1)
            months = [this_month]
            while len(months) < 12:
                months.append((months[-1] - DAY).replace(day=1))
            months.reverse()
            for metric, lower_is_better, places in TARGET_METRICS:
                actual = [
                    summarise[metric](monthly[(profile.slug, metric, m)])
                    for m in months
                    if monthly.get((profile.slug, metric, m))
                ]
                if not actual:
                    continue
                typical = statistics.fmean(actual)
                ambition = rng.choice((0.85, 0.93, 1.0, 1.05, 1.15))
                for index, month in enumerate(months):
                    ramp = 0.94 + 0.12 * index / 11  # plans ask for a little more every month
                    value = typical / ambition / ramp if lower_is_better else typical * ambition * ramp
                    if metric.endswith("_rate"):
                        value = min(value, 0.95)
                    if metric == "csat":
                        value = min(value, 4.9)
                    value = Decimal(round(value, -3)) if places is None else Decimal(str(round(value, places)))
                    targets.append(
                        Target(
                            pod=self.pods[profile.slug], metric=metric, grain="month", period_start=month, value=value
                        )
                    )
        Target.objects.bulk_create(targets, batch_size=BATCH_SIZE)
        self.counts["targets"] = len(targets)
