"""Two panels of the pod dashboard that read objects of the snapshot, and the one live read behind them.

* :func:`persona_rows` — persona coverage (``persona_coverage``), one row per buying job, with the
  Buy accounts that reached no executive (``buy_accounts_without_executive``) flagged.
* :func:`qualifying_panel` — qualifying in and out: leads decided by channel
  (``leads_decided_by_channel``), rejected by reason (``leads_rejected_by_reason``), the median time
  to decision, and :func:`rejected_accounts_since` — how the accounts rejected in the period behaved
  after their rejection.  That last one reads facts (one statement), since "later" runs up to now.

Every figure is defined in docs/ACCOUNTS.md ("Figures on the pod dashboard").
"""

from dataclasses import dataclass

from django.db import connection

from jobs.choices import Channel, LeadStatus, OpportunityStatus
from pods.choices import BUYING_JOB_ORDER, Persona
from pods.models import Pod

from ..aggregation import UNSPECIFIED_REASON
from ..engagement import PERSONA_LABELS
from .drilldowns import PeriodBounds

PERSONA_ORDER = (Persona.END_USER, Persona.CHAMPION, Persona.EXECUTIVE)
UNSPECIFIED_REASON_LABEL = "No reason given"


@dataclass(frozen=True)
class PersonaRow:
    job: str
    label: str
    rates: list[tuple[str, float | None]]  # (persona label, share of the job's active accounts), in PERSONA_ORDER
    without_executive: int | None  # Buy only: accounts active in Buy that reached no executive


def persona_rows(current: dict, job_labels: dict[str, str]) -> list[PersonaRow]:
    coverage = current.get("persona_coverage") or {}
    rows = []
    for job in BUYING_JOB_ORDER:
        shares = coverage.get(job) or {}
        rows.append(
            PersonaRow(
                job=job,
                label=job_labels[job],
                rates=[(PERSONA_LABELS[p], shares.get(p)) for p in PERSONA_ORDER],
                without_executive=current.get("buy_accounts_without_executive") if job == "buy" else None,
            )
        )
    return rows


@dataclass(frozen=True)
class ChannelDecisions:
    channel: str
    label: str
    accepted: int
    rejected: int

    @property
    def acceptance_rate(self) -> float | None:
        decided = self.accepted + self.rejected
        return self.accepted / decided if decided else None


@dataclass(frozen=True)
class RejectedSince:
    """The accounts with a lead rejected in the period, and what they did after their first rejection in it."""

    accounts: int
    came_back: int  # a later lead of the account under the pod
    bought: int  # a won opportunity of the account under the pod, closed after the rejection

    def share(self, part: int) -> float | None:
        return part / self.accounts if self.accounts else None

    @property
    def came_back_rate(self) -> float | None:
        return self.share(self.came_back)

    @property
    def bought_rate(self) -> float | None:
        return self.share(self.bought)


@dataclass(frozen=True)
class QualifyingPanel:
    by_channel: list[ChannelDecisions]
    by_reason: list[tuple[str, int]]  # (reason as shown, rejected leads), most frequent first
    median_days: float | None
    rejected_since: RejectedSince

    @property
    def decided(self) -> int:
        return sum(row.accepted + row.rejected for row in self.by_channel)


REJECTED_SINCE_SQL = """
    WITH rejected AS (
        SELECT account_id, min(decided_at) AS rejected_at
        FROM jobs_lead
        WHERE pod_id = %(pod)s AND status = %(rejected)s
          AND decided_at >= (%(start)s::timestamp AT TIME ZONE %(tz)s)
          AND decided_at < (%(end)s::timestamp AT TIME ZONE %(tz)s)
        GROUP BY account_id
    )
    SELECT count(*),
           count(*) FILTER (WHERE EXISTS (
               SELECT 1 FROM jobs_lead l
               WHERE l.pod_id = %(pod)s AND l.account_id = r.account_id AND l.created_at > r.rejected_at)),
           count(*) FILTER (WHERE EXISTS (
               SELECT 1 FROM jobs_opportunity o
               WHERE o.pod_id = %(pod)s AND o.account_id = r.account_id
                 AND o.status = %(won)s AND o.closed_at > r.rejected_at))
    FROM rejected r
"""


def rejected_accounts_since(pod: Pod, bounds: PeriodBounds) -> RejectedSince:
    """One statement: the period's rejected accounts of the pod, and those that came back or bought since."""
    with connection.cursor() as cursor:
        cursor.execute(
            REJECTED_SINCE_SQL,
            {
                "pod": pod.pk,
                "start": bounds.start,
                "end": bounds.end,
                "tz": bounds.tz,
                "rejected": LeadStatus.REJECTED.value,
                "won": OpportunityStatus.WON.value,
            },
        )
        accounts, came_back, bought = cursor.fetchone()
    return RejectedSince(accounts=accounts, came_back=came_back, bought=bought)


def qualifying_panel(pod: Pod, bounds: PeriodBounds, current: dict, channel_labels: dict[str, str]) -> QualifyingPanel:
    decided = current.get("leads_decided_by_channel") or {}
    by_channel = [
        ChannelDecisions(
            channel=channel,
            label=channel_labels[channel],
            accepted=(decided.get(channel) or {}).get("accepted", 0),
            rejected=(decided.get(channel) or {}).get("rejected", 0),
        )
        for channel in Channel.values
    ]
    reasons = current.get("leads_rejected_by_reason") or {}
    by_reason = [
        (UNSPECIFIED_REASON_LABEL if reason == UNSPECIFIED_REASON else reason, count)
        for reason, count in sorted(reasons.items(), key=lambda item: (-item[1], item[0].casefold()))
    ]
    return QualifyingPanel(
        by_channel=by_channel,
        by_reason=by_reason,
        median_days=current.get("median_days_to_lead_decision"),
        rejected_since=rejected_accounts_since(pod, bounds),
    )
