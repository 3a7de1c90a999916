"""The metric catalogue of METRICS.md: every key, its buying job, unit and direction.

The definitions themselves live in ``metrics/aggregation.py`` (SQL); this module is what the UI,
the API and targets need to know about each key.
"""

from dataclasses import dataclass

from pods.choices import BuyingJob


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    job: str | None  # None: across the jobs
    unit: str  # count | money | rate | days | hours | score | object
    lower_is_better: bool = False

    @property
    def is_scalar(self) -> bool:
        return self.unit != "object"


METRICS: tuple[Metric, ...] = (
    Metric("lead_volume", "Lead volume", BuyingJob.LEARN, "count"),
    Metric("leads_accepted", "Leads accepted", BuyingJob.LEARN, "count"),
    Metric("leads_rejected", "Leads rejected", BuyingJob.LEARN, "count"),
    Metric("lead_acceptance_rate", "Lead acceptance rate", BuyingJob.LEARN, "rate"),
    Metric("leads_rejected_by_reason", "Leads rejected by reason", BuyingJob.LEARN, "object"),
    Metric("leads_decided_by_channel", "Leads decided by channel", BuyingJob.LEARN, "object"),
    Metric(
        "median_days_to_lead_decision",
        "Median time to lead decision",
        BuyingJob.LEARN,
        "days",
        lower_is_better=True,
    ),
    Metric("engaged_accounts", "Engaged accounts", BuyingJob.LEARN, "count"),
    Metric("pipeline_created", "Pipeline created", BuyingJob.BUY, "money"),
    Metric("bookings", "Bookings", BuyingJob.BUY, "money"),
    Metric("win_rate", "Win rate", BuyingJob.BUY, "rate"),
    Metric("bookings_yoy_growth", "Bookings growth YoY", BuyingJob.BUY, "rate"),
    Metric("median_sales_cycle_days", "Median sales cycle", BuyingJob.BUY, "days", lower_is_better=True),
    Metric(
        "buy_accounts_without_executive",
        "Buy accounts without an executive",
        BuyingJob.BUY,
        "count",
        lower_is_better=True,
    ),
    Metric("orders", "Orders", BuyingJob.ORDER_INSTALL, "count"),
    Metric("installs", "Installs", BuyingJob.ORDER_INSTALL, "count"),
    Metric("median_days_to_install", "Median days to install", BuyingJob.ORDER_INSTALL, "days", lower_is_better=True),
    Metric("adoption_rate", "Adoption rate", BuyingJob.ADOPT, "rate"),
    Metric("tickets_opened", "Tickets opened", BuyingJob.SUPPORT, "count"),
    Metric("tickets_resolved", "Tickets resolved", BuyingJob.SUPPORT, "count"),
    Metric("median_resolution_hours", "Median resolution time", BuyingJob.SUPPORT, "hours", lower_is_better=True),
    Metric("csat", "CSAT", BuyingJob.SUPPORT, "score"),
    Metric("open_backlog", "Open backlog", BuyingJob.SUPPORT, "count", lower_is_better=True),
    Metric("activities", "Activities by job and channel", None, "object"),
    Metric("activity_total", "Activities", None, "count"),
    Metric("digital_share", "Digital share", None, "rate"),
    Metric("rep_free_win_share", "Rep-free win share", None, "rate"),
    Metric("journey_transitions", "Journey transitions", None, "object"),
    Metric("loopbacks", "Loopbacks", None, "count"),
    Metric("maze_index", "Maze index", None, "rate"),
    Metric("persona_coverage", "Persona coverage by job", None, "object"),
    Metric("staff_by_job", "Staff by job", None, "object"),
    Metric("staffed_job_coverage", "Staffed job coverage", None, "rate"),
)

METRICS_BY_KEY: dict[str, Metric] = {metric.key: metric for metric in METRICS}
METRIC_KEYS: tuple[str, ...] = tuple(METRICS_BY_KEY)
TARGETABLE_METRIC_CHOICES = [(m.key, m.label) for m in METRICS if m.is_scalar]
