"""The facts behind the figures: period bounds, engaged accounts without a lead, and the drill-downs.

Unlike the rest of the dashboard, these read fact tables, always scoped to one pod and bounded by
pagination.  Their period bounds are computed by PostgreSQL exactly as the metric engine computes
``s`` and ``e`` (``local_date::timestamp AT TIME ZONE pod_tz``, :class:`LocalMidnight`), so a
drill-down (:data:`DRILLDOWNS`) lists precisely the rows its figure counted, daylight-saving days included.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db import models
from django.db.models import Case, Count, Exists, F, Func, IntegerField, Max, Min, OuterRef, Q, Value, When, Window
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lag
from django.utils import timezone

from jobs.choices import Channel, LeadStatus, OpportunityStatus
from jobs.models import Activity, AdoptionReading, Lead, Opportunity, Order, SupportTicket
from pods.choices import BUYING_JOB_ORDER, BuyingJob, Persona
from pods.models import Assignment, Pod

from ..engagement import SCORE_OF_OUTER_ACCOUNT_SQL, score_params
from ..periods import shift, year_earlier

ENGAGED_MIN_LEARN_ACTIVITIES = 2
NO_LEAD_LOOKBACK = dt.timedelta(days=90)


class LocalMidnight(Func):
    """``(day::timestamp AT TIME ZONE tz)``: the instant a local day starts, exactly as the engine computes it."""

    output_field = models.DateTimeField()

    def __init__(self, day: dt.date, tz: str, **extra):
        super().__init__(Value(day, output_field=models.DateField()), Value(tz), **extra)

    def as_sql(self, compiler, connection, **extra):
        day, tz = self.get_source_expressions()
        day_sql, day_params = compiler.compile(day)
        tz_sql, tz_params = compiler.compile(tz)
        return f"(({day_sql})::timestamp AT TIME ZONE {tz_sql})", [*day_params, *tz_params]


@dataclass(frozen=True)
class PeriodBounds:
    """A period ``[start, end)`` of local dates, and its instants ``s``/``e`` as SQL expressions."""

    start: dt.date
    end: dt.date
    tz: str

    @property
    def s(self) -> LocalMidnight:
        return LocalMidnight(self.start, self.tz)

    @property
    def e(self) -> LocalMidnight:
        return LocalMidnight(self.end, self.tz)

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    def instant_filter(self, column: str) -> Q:
        return Q(**{f"{column}__gte": self.s, f"{column}__lt": self.e})


def bounds_of(pod: Pod, grain: str, start: dt.date) -> PeriodBounds:
    return PeriodBounds(start=start, end=shift(grain, start, 1), tz=pod.timezone)


def _accounts_active_in(pod: Pod, bounds: PeriodBounds, job: str) -> models.QuerySet:
    """The pod's activities of one job in the period, grouped by account (annotate to count them)."""
    return Activity.objects.filter(bounds.instant_filter("occurred_at"), pod=pod, job=job).values(
        "account", "account__name", "account__external_id"
    )


ENGAGED_ORDERS = {
    "busiest": ("-learn_activities", "-last_activity_at", "account__name", "account"),
    "engagement": ("-engagement", "-learn_activities", "account__name", "account"),
    "latest": ("-last_activity_at", "account__name", "account"),
}


def engaged_accounts_without_lead(
    *, pod: Pod, bounds: PeriodBounds, order: str = "busiest", now: dt.datetime | None = None
) -> models.QuerySet:
    """Accounts with at least two Learn activities (under the pod) in the period and no lead in the 90 days
    before the period's end — engaged digitally, not yet in sales' hands: the list a pod calls first.

    A lead of the account under any pod counts: the account is in someone's hands.  Rows are dicts
    (account id, name, external id, Learn activity count, digital ones, latest, and the account's
    engagement score as of ``now``: metrics/engagement.py), in one of :data:`ENGAGED_ORDERS`.
    """
    now = now or timezone.now()
    recent_lead = Lead.objects.filter(
        account=OuterRef("account"),
        created_at__gte=models.ExpressionWrapper(
            bounds.e - Value(NO_LEAD_LOOKBACK), output_field=models.DateTimeField()
        ),
        created_at__lt=bounds.e,
    )
    return (
        _accounts_active_in(pod, bounds, BuyingJob.LEARN)
        .annotate(
            learn_activities=Count("id"),
            digital_activities=Count("id", filter=Q(channel=Channel.DIGITAL)),
            last_activity_at=Max("occurred_at"),
            engagement=RawSQL(SCORE_OF_OUTER_ACCOUNT_SQL, score_params(now), output_field=models.FloatField()),  # noqa: S611 # constant SQL, bound parameters
        )
        .filter(learn_activities__gte=ENGAGED_MIN_LEARN_ACTIVITIES)
        .filter(~Exists(recent_lead))
        .order_by(*ENGAGED_ORDERS.get(order, ENGAGED_ORDERS["busiest"]))
    )


@dataclass(frozen=True)
class Column:
    """A column of a drill-down table: a key of the row dicts and how to show it."""

    label: str
    key: str
    # text | account (links to the account page) | datetime | date | money | count | days | hours | rate | job |
    # channel | status | flag
    kind: str = "text"

    @property
    def numeric(self) -> bool:
        return self.kind in {"count", "money", "days", "hours", "rate"}


@dataclass(frozen=True)
class Drilldown:
    """The records behind one figure: what they are, their columns and the scoped queryset producing them."""

    title: str
    description: str
    columns: tuple[Column, ...]
    rows: Callable[[Pod, PeriodBounds, str], models.QuerySet]


ACCOUNT = Column("Account", "account__name", "account")  # links to the account page (account__external_id)
LEAD_COLUMNS = (
    Column("Lead", "external_id"),
    ACCOUNT,
    Column("Created", "created_at", "datetime"),
    Column("Channel", "channel", "channel"),
    Column("Status", "status", "status"),
    Column("Decided", "decided_at", "datetime"),
    Column("Rejection reason", "rejection_reason"),
)
LEAD_FIELDS = (
    "pk",
    "external_id",
    "account__name",
    "account__external_id",
    "created_at",
    "channel",
    "status",
    "decided_at",
    "rejection_reason",
)
OPPORTUNITY_FIELDS = (
    "pk",
    "external_id",
    "name",
    "account__name",
    "account__external_id",
    "amount",
    "created_at",
    "status",
    "closed_at",
)
OPPORTUNITY_COLUMNS = (
    Column("Opportunity", "name"),
    ACCOUNT,
    Column("Amount", "amount", "money"),
    Column("Created", "created_at", "datetime"),
    Column("Status", "status", "status"),
    Column("Closed", "closed_at", "datetime"),
)
ORDER_FIELDS = ("pk", "external_id", "account__name", "account__external_id", "ordered_at", "installed_at", "seats")
ORDER_COLUMNS = (
    Column("Order", "external_id"),
    ACCOUNT,
    Column("Ordered", "ordered_at", "datetime"),
    Column("Installed", "installed_at", "datetime"),
    Column("Seats", "seats", "count"),
)
TICKET_FIELDS = (
    "pk",
    "external_id",
    "account__name",
    "account__external_id",
    "opened_at",
    "resolved_at",
    "channel",
    "csat",
)
TICKET_COLUMNS = (
    Column("Ticket", "external_id"),
    ACCOUNT,
    Column("Opened", "opened_at", "datetime"),
    Column("Resolved", "resolved_at", "datetime"),
    Column("Channel", "channel", "channel"),
    Column("CSAT", "csat", "count"),
)
ACTIVITY_FIELDS = (
    "pk",
    "occurred_at",
    "account__name",
    "account__external_id",
    "job",
    "channel",
    "kind",
    "staff__full_name",
    "minutes",
)
ACTIVITY_COLUMNS = (
    Column("Occurred", "occurred_at", "datetime"),
    ACCOUNT,
    Column("Job", "job", "job"),
    Column("Channel", "channel", "channel"),
    Column("Kind", "kind"),
    Column("Staff", "staff__full_name"),
    Column("Minutes", "minutes", "count"),
)


def _duration(end: str, start: str):
    return models.ExpressionWrapper(F(end) - F(start), output_field=models.DurationField())


def _leads(pod, bounds, status=None, *, decided=False):
    rows = Lead.objects.filter(pod=pod)
    if decided:
        rows = rows.filter(bounds.instant_filter("decided_at"))
        rows = (
            rows.filter(status=status) if status else rows.filter(status__in=[LeadStatus.ACCEPTED, LeadStatus.REJECTED])
        )
        order = ("-decided_at", "-pk")
    else:
        rows = rows.filter(bounds.instant_filter("created_at"))
        order = ("-created_at", "-pk")
    return rows.values(*LEAD_FIELDS).order_by(*order)


def _won(pod, bounds):
    return Opportunity.objects.filter(bounds.instant_filter("closed_at"), pod=pod, status=OpportunityStatus.WON)


def _bookings_yoy(pod, bounds, grain):
    earlier = bounds_of(pod, grain, year_earlier(grain, bounds.start))
    return (
        Opportunity.objects.filter(
            bounds.instant_filter("closed_at") | earlier.instant_filter("closed_at"),
            pod=pod,
            status=OpportunityStatus.WON,
        )
        .annotate(
            period=Case(When(closed_at__gte=bounds.s, then=Value("This period")), default=Value("A year earlier"))
        )
        .values(*OPPORTUNITY_FIELDS, "period")
        .order_by("-closed_at", "-pk")
    )


def _rep_free_wins(pod, bounds, grain):
    # METRICS.md: a hands-on (in-person or partner) activity of the account under any pod in
    # [closed_at - 90 days, closed_at] makes a win not rep-free.
    hands_on = Activity.objects.filter(
        account=OuterRef("account"),
        channel__in=[Channel.IN_PERSON, Channel.PARTNER],
        occurred_at__gte=models.ExpressionWrapper(
            OuterRef("closed_at") - Value(NO_LEAD_LOOKBACK), output_field=models.DateTimeField()
        ),
        occurred_at__lte=OuterRef("closed_at"),
    )
    return (
        _won(pod, bounds)
        .annotate(rep_free=~Exists(hands_on))
        .values(*OPPORTUNITY_FIELDS, "rep_free")
        .order_by("-closed_at", "-pk")
    )


def _job_rank():
    return Case(*(When(job=job, then=Value(i)) for i, job in enumerate(BUYING_JOB_ORDER)), output_field=IntegerField())


def _transitions(pod, bounds, *, loopbacks_only=False):
    """Each activity whose job differs from the account's previous activity in the period (METRICS.md journey)."""
    previous = Window(Lag("job"), partition_by=[F("account")], order_by=[F("occurred_at").asc(), F("pk").asc()])
    previous_rank = Window(
        Lag(_job_rank()), partition_by=[F("account")], order_by=[F("occurred_at").asc(), F("pk").asc()]
    )
    rows = (
        Activity.objects.filter(bounds.instant_filter("occurred_at"), pod=pod)
        .annotate(from_job=previous, from_rank=previous_rank, to_rank=_job_rank())
        .filter(from_job__isnull=False)
        .exclude(from_job=F("job"))
    )
    rows = rows.annotate(is_loopback=Case(When(from_rank__gt=F("to_rank"), then=Value(True)), default=Value(False)))
    if loopbacks_only:
        rows = rows.filter(from_rank__gt=F("to_rank"))
    return rows.values(
        "pk",
        "occurred_at",
        "account__name",
        "account__external_id",
        "from_job",
        "job",
        "channel",
        "kind",
        "is_loopback",
    ).order_by("account__name", "account", "occurred_at", "pk")


TRANSITION_COLUMNS = (
    ACCOUNT,
    Column("Occurred", "occurred_at", "datetime"),
    Column("From job", "from_job", "job"),
    Column("To job", "job", "job"),
    Column("Channel", "channel", "channel"),
    Column("Kind", "kind"),
    Column("Loops back", "is_loopback", "flag"),
)


def _adoption(pod, bounds, grain):
    latest = (
        AdoptionReading.objects.filter(pod=pod, measured_on__gte=bounds.start, measured_on__lt=bounds.end)
        .order_by("account_id", "-measured_on")
        .distinct("account_id")
        .values("pk")
    )
    return (
        AdoptionReading.objects.filter(pk__in=latest)
        .annotate(
            usage=models.ExpressionWrapper(
                F("active_seats") * 1.0 / models.functions.NullIf(F("licensed_seats"), 0),
                output_field=models.FloatField(),
            )
        )
        .values("pk", "account__name", "account__external_id", "measured_on", "licensed_seats", "active_seats", "usage")
        .order_by("account__name", "pk")
    )


def _staffing(pod, bounds, grain):
    return (
        Assignment.objects.filter(pod=pod)
        .active_on(bounds.last_day)
        .annotate(job_rank=_job_rank())
        .values("pk", "person__full_name", "person__username", "job", "started_on", "ended_on")
        .order_by("job_rank", "person__full_name", "person__username", "pk")
    )


def _activities(pod, bounds, grain, **filters):
    return (
        Activity.objects.filter(bounds.instant_filter("occurred_at"), pod=pod, **filters)
        .values(*ACTIVITY_FIELDS)
        .order_by("-occurred_at", "-pk")
    )


def _tickets_resolved(pod, bounds):
    return SupportTicket.objects.filter(bounds.instant_filter("resolved_at"), pod=pod)


DRILLDOWNS: dict[str, Drilldown] = {
    "lead_volume": Drilldown(
        "Leads created", "Leads created in the period.", LEAD_COLUMNS, lambda pod, b, g: _leads(pod, b)
    ),
    "leads_accepted": Drilldown(
        "Leads accepted",
        "Leads accepted in the period (by decision date).",
        LEAD_COLUMNS,
        lambda pod, b, g: _leads(pod, b, LeadStatus.ACCEPTED, decided=True),
    ),
    "leads_rejected": Drilldown(
        "Leads rejected",
        "Leads rejected in the period (by decision date) — qualifying out is a decision too.",
        LEAD_COLUMNS,
        lambda pod, b, g: _leads(pod, b, LeadStatus.REJECTED, decided=True),
    ),
    "lead_acceptance_rate": Drilldown(
        "Leads decided",
        "Leads accepted or rejected in the period: the rate is accepted ÷ decided.",
        LEAD_COLUMNS,
        lambda pod, b, g: _leads(pod, b, decided=True),
    ),
    "median_days_to_lead_decision": Drilldown(
        "Leads decided and their time to decision",
        "Leads accepted or rejected in the period, quickest first; the figure is the median time from creation "
        "to decision.",
        (*LEAD_COLUMNS, Column("Time to decision", "to_decision", "days")),
        lambda pod, b, g: _leads(pod, b, decided=True)
        .annotate(to_decision=_duration("decided_at", "created_at"))
        .order_by("to_decision", "pk"),
    ),
    "engaged_accounts": Drilldown(
        "Engaged accounts",
        "Accounts with at least one Learn activity in the period.",
        (
            ACCOUNT,
            Column("Learn activities", "learn_activities", "count"),
            Column("First", "first_activity_at", "datetime"),
            Column("Latest", "last_activity_at", "datetime"),
        ),
        lambda pod, b, g: _accounts_active_in(pod, b, BuyingJob.LEARN)
        .annotate(
            learn_activities=Count("id"), first_activity_at=Min("occurred_at"), last_activity_at=Max("occurred_at")
        )
        .order_by("-learn_activities", "account__name", "account"),
    ),
    "pipeline_created": Drilldown(
        "Opportunities created",
        "Opportunities created in the period; pipeline is the sum of their amounts.",
        OPPORTUNITY_COLUMNS,
        lambda pod, b, g: Opportunity.objects.filter(b.instant_filter("created_at"), pod=pod)
        .values(*OPPORTUNITY_FIELDS)
        .order_by("-created_at", "-pk"),
    ),
    "bookings": Drilldown(
        "Won opportunities",
        "Opportunities won (closed) in the period; bookings is the sum of their amounts.",
        OPPORTUNITY_COLUMNS,
        lambda pod, b, g: _won(pod, b).values(*OPPORTUNITY_FIELDS).order_by("-closed_at", "-pk"),
    ),
    "win_rate": Drilldown(
        "Closed opportunities",
        "Opportunities won or lost in the period: the rate is won ÷ closed.",
        OPPORTUNITY_COLUMNS,
        lambda pod, b, g: Opportunity.objects.filter(
            b.instant_filter("closed_at"), pod=pod, status__in=[OpportunityStatus.WON, OpportunityStatus.LOST]
        )
        .values(*OPPORTUNITY_FIELDS)
        .order_by("-closed_at", "-pk"),
    ),
    "bookings_yoy_growth": Drilldown(
        "Won opportunities, this period and a year earlier",
        "Growth compares the bookings of this period with those of the same period a year earlier.",
        (Column("Period", "period"), *OPPORTUNITY_COLUMNS),
        _bookings_yoy,
    ),
    "median_sales_cycle_days": Drilldown(
        "Won opportunities and their sales cycle",
        "Opportunities won in the period, shortest cycle first; the figure is the median cycle.",
        (*OPPORTUNITY_COLUMNS, Column("Sales cycle", "cycle", "days")),
        lambda pod, b, g: _won(pod, b)
        .annotate(cycle=_duration("closed_at", "created_at"))
        .values(*OPPORTUNITY_FIELDS, "cycle")
        .order_by("cycle", "pk"),
    ),
    "buy_accounts_without_executive": Drilldown(
        "Buy accounts without an executive",
        "Accounts with a Buy activity in the period none of whose Buy activities in the period named an executive.",
        (
            ACCOUNT,
            Column("Buy activities", "buy_activities", "count"),
            Column("With an end user", "end_user_activities", "count"),
            Column("With a champion", "champion_activities", "count"),
            Column("Latest", "last_activity_at", "datetime"),
        ),
        lambda pod, b, g: _accounts_active_in(pod, b, BuyingJob.BUY)
        .annotate(
            buy_activities=Count("id"),
            end_user_activities=Count("id", filter=Q(contact__persona=Persona.END_USER)),
            champion_activities=Count("id", filter=Q(contact__persona=Persona.CHAMPION)),
            executive_activities=Count("id", filter=Q(contact__persona=Persona.EXECUTIVE)),
            last_activity_at=Max("occurred_at"),
        )
        .filter(executive_activities=0)
        .order_by("-buy_activities", "account__name", "account"),
    ),
    "orders": Drilldown(
        "Orders placed",
        "Orders placed in the period.",
        ORDER_COLUMNS,
        lambda pod, b, g: Order.objects.filter(b.instant_filter("ordered_at"), pod=pod)
        .values(*ORDER_FIELDS)
        .order_by("-ordered_at", "-pk"),
    ),
    "installs": Drilldown(
        "Orders installed",
        "Orders installed in the period.",
        ORDER_COLUMNS,
        lambda pod, b, g: Order.objects.filter(b.instant_filter("installed_at"), pod=pod)
        .values(*ORDER_FIELDS)
        .order_by("-installed_at", "-pk"),
    ),
    "median_days_to_install": Drilldown(
        "Installs and their time to install",
        "Orders installed in the period, quickest first; the figure is the median time from order to install.",
        (*ORDER_COLUMNS, Column("Time to install", "to_install", "days")),
        lambda pod, b, g: Order.objects.filter(b.instant_filter("installed_at"), pod=pod)
        .annotate(to_install=_duration("installed_at", "ordered_at"))
        .values(*ORDER_FIELDS, "to_install")
        .order_by("to_install", "pk"),
    ),
    "adoption_rate": Drilldown(
        "Latest adoption reading per account",
        "Each account's latest reading in the period; the rate is active seats ÷ licensed seats over them.",
        (
            ACCOUNT,
            Column("Measured on", "measured_on", "date"),
            Column("Licensed seats", "licensed_seats", "count"),
            Column("Active seats", "active_seats", "count"),
            Column("Usage", "usage", "rate"),
        ),
        _adoption,
    ),
    "tickets_opened": Drilldown(
        "Tickets opened",
        "Support tickets opened in the period.",
        TICKET_COLUMNS,
        lambda pod, b, g: SupportTicket.objects.filter(b.instant_filter("opened_at"), pod=pod)
        .values(*TICKET_FIELDS)
        .order_by("-opened_at", "-pk"),
    ),
    "tickets_resolved": Drilldown(
        "Tickets resolved",
        "Support tickets resolved in the period.",
        TICKET_COLUMNS,
        lambda pod, b, g: _tickets_resolved(pod, b).values(*TICKET_FIELDS).order_by("-resolved_at", "-pk"),
    ),
    "median_resolution_hours": Drilldown(
        "Tickets resolved and their resolution time",
        "Tickets resolved in the period, quickest first; the figure is the median resolution time.",
        (*TICKET_COLUMNS, Column("Resolution time", "resolution", "hours")),
        lambda pod, b, g: _tickets_resolved(pod, b)
        .annotate(resolution=_duration("resolved_at", "opened_at"))
        .values(*TICKET_FIELDS, "resolution")
        .order_by("resolution", "pk"),
    ),
    "csat": Drilldown(
        "Rated tickets",
        "Tickets resolved in the period with a CSAT score; the figure is their mean score.",
        TICKET_COLUMNS,
        lambda pod, b, g: _tickets_resolved(pod, b)
        .filter(csat__isnull=False)
        .values(*TICKET_FIELDS)
        .order_by("csat", "-resolved_at", "-pk"),
    ),
    "open_backlog": Drilldown(
        "Open tickets at the end of the period",
        "Tickets opened before the period's end and not resolved by then.",
        TICKET_COLUMNS,
        lambda pod, b, g: SupportTicket.objects.filter(pod=pod, opened_at__lt=b.e)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=b.e))
        .values(*TICKET_FIELDS)
        .order_by("opened_at", "pk"),
    ),
    "activity_total": Drilldown(
        "Activities", "Activities in the period, across all jobs.", ACTIVITY_COLUMNS, _activities
    ),
    "digital_share": Drilldown(
        "Digital activities",
        "Activities over the digital channel in the period; the share is these ÷ all activities.",
        ACTIVITY_COLUMNS,
        lambda pod, b, g: _activities(pod, b, g, channel=Channel.DIGITAL),
    ),
    "rep_free_win_share": Drilldown(
        "Won opportunities, rep-free or not",
        "Wins of the period; rep-free: no in-person or partner activity of the account in the 90 days before closing.",
        (*OPPORTUNITY_COLUMNS, Column("Rep-free", "rep_free", "flag")),
        _rep_free_wins,
    ),
    "loopbacks": Drilldown(
        "Loopbacks",
        "Moves of an account back to an earlier buying job within the period.",
        TRANSITION_COLUMNS,
        lambda pod, b, g: _transitions(pod, b, loopbacks_only=True),
    ),
    "maze_index": Drilldown(
        "Journey transitions",
        "Every move of an account between buying jobs in the period; the index is the share of moving accounts "
        "that looped back at least once.",
        TRANSITION_COLUMNS,
        lambda pod, b, g: _transitions(pod, b),
    ),
    "staffed_job_coverage": Drilldown(
        "Staff on the last day of the period",
        "Assignments to the pod active on the period's last day, by buying job.",
        (
            Column("Person", "person__full_name"),
            Column("Job", "job", "job"),
            Column("Since", "started_on", "date"),
            Column("Until", "ended_on", "date"),
        ),
        _staffing,
    ),
}
