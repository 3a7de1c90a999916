"""One account as a pod reads it: its journey across the five jobs, channels, personas, open work and staff.

Defined in ``docs/ACCOUNTS.md``.  Every figure covers the account's whole history (all of its
activities, whatever pod they were logged under); dates are shown in the account's pod's time zone.
:func:`account_profile` reads it in a constant number of queries whatever the history's length:
the journey's stretches come from one window query (gaps and islands), every other section from one
query each.  Callers pass an account already scoped (``jobs.selectors.accounts_visible_to``).

The page is rendered once per version of the data (:func:`account_page_version`, one cheap query),
as the dashboard's figures are.
"""

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, Max, Min, Q

from jobs.choices import Channel, LeadStatus, OpportunityStatus
from jobs.models import Activity, AdoptionReading, Lead, Opportunity, Order, SupportTicket
from pods.choices import BUYING_JOB_ORDER, BuyingJob, Persona
from pods.models import Account

from .engagement import Engagement, engagement_of
from .propensity import Propensity, propensity_of

JOURNEY_STRETCHES_SHOWN = 40  # the latest ones; the count of all of them is shown beside
JOB_RANK = {job: rank for rank, job in enumerate(BUYING_JOB_ORDER)}

# A stretch is a maximal run of consecutive activities (by occurred_at, ties by creation order — the
# order of METRICS.md's journey_transitions) in one job.  A new stretch starts where the job changes.
STRETCHES_SQL = """
WITH ordered AS (
    SELECT id, occurred_at, job, channel,
           CASE WHEN job IS DISTINCT FROM lag(job) OVER w THEN 1 ELSE 0 END AS starts
    FROM jobs_activity
    WHERE account_id = %(account)s
    WINDOW w AS (ORDER BY occurred_at, id)
), numbered AS (
    SELECT *, sum(starts) OVER (ORDER BY occurred_at, id) AS stretch FROM ordered
)
SELECT stretch, job, count(*) AS activities, min(occurred_at) AS first_at, max(occurred_at) AS last_at,
       array_agg(DISTINCT channel ORDER BY channel) AS channels,
       count(*) OVER () AS stretch_count
FROM numbered
GROUP BY stretch, job
ORDER BY stretch DESC
LIMIT %(limit)s
"""


# Changes with every write to a fact of any pod (each one inserts a dirty mark, whatever its path, COPY
# included: metrics/dirty_marks.py) and with every refresh (which deletes the marks it consumed and moves
# a pod's computed_at forward), so a (max mark id, latest refresh) pair never comes back.  Global rather than
# the account's pod: an account's facts may have been logged under another pod.  A propensity refit
# (a new metrics_propensityfit row) changes the page too.
VERSION_SQL = """
SELECT concat_ws('/', (SELECT max(id) FROM metrics_dirtyrange), (SELECT max(computed_at) FROM metrics_podmetricstate),
                 (SELECT max(id) FROM metrics_propensityfit))
"""
# Contacts' personas and people's names carry no dirty mark; a rendered page is kept at most this long.
ACCOUNT_PAGE_CACHE_SECONDS = 300


def account_page_version(account: Account) -> str:
    """The key the rendered account page is cached under: the account as shown and the facts' version."""
    with connection.cursor() as cursor:
        cursor.execute(VERSION_SQL)
        version = cursor.fetchone()[0]
    return "|".join(
        (str(account.pk), account.external_id, account.name, account.segment, account.pod.slug, account.pod.name)
        + (account.pod.timezone, version)
    )


@dataclass(frozen=True)
class Stretch:
    """Consecutive activities of the account in one job; ``loopback``: it went back to an earlier job."""

    number: int
    job: str
    activities: int
    first_at: dt.datetime
    last_at: dt.datetime
    channels: tuple[str, ...]
    came_from: str | None
    loopback: bool

    @property
    def job_label(self) -> str:
        return BuyingJob(self.job).label

    @property
    def came_from_label(self) -> str | None:
        return BuyingJob(self.came_from).label if self.came_from else None


@dataclass(frozen=True)
class PersonaReach:
    job: str
    persona: str
    contacts: int  # distinct contacts of this persona reached by the job's activities
    activities: int
    last_at: dt.datetime | None


@dataclass
class AccountProfile:
    account: Account
    stretches: list[Stretch]
    stretch_count: int
    loopbacks: int  # among every stretch, not only those shown
    activity_count: int
    first_activity_at: dt.datetime | None
    last_activity_at: dt.datetime | None
    channels: list[dict]  # {"channel", "label", "activities"} for every channel, in Channel order
    personas: dict[str, dict[str, PersonaReach]]  # job -> persona -> reach, all 5 x 3 present
    open_leads: list
    open_opportunities: list
    open_orders: list
    open_tickets: list
    latest_adoption: AdoptionReading | None
    staff: list[dict]  # {"staff_id", "username", "full_name", "activities", "jobs", "last_at"}
    engagement: Engagement | None = None  # metrics/engagement.py, as of the moment the profile was read
    propensity: Propensity | None = None  # metrics/propensity.py; None while no fit covers the account's pod
    time_zone: zoneinfo.ZoneInfo = field(repr=False, default=None)

    @property
    def jobs_without_executive(self) -> list[str]:
        return [job for job, row in self.personas.items() if row[Persona.EXECUTIVE].contacts == 0]


def _stretches(account: Account) -> tuple[list[Stretch], int, int]:
    with connection.cursor() as cursor:
        cursor.execute(STRETCHES_SQL, {"account": account.pk, "limit": JOURNEY_STRETCHES_SHOWN + 1})
        rows = cursor.fetchall()
        cursor.execute(
            """
            SELECT count(*) FILTER (WHERE prev IS NOT NULL AND prev <> job
                                    AND array_position(%(order)s, job) < array_position(%(order)s, prev))
            FROM (SELECT job, lag(job) OVER (ORDER BY occurred_at, id) AS prev
                  FROM jobs_activity WHERE account_id = %(account)s) moves
            """,
            {"account": account.pk, "order": BUYING_JOB_ORDER},
        )
        loopbacks = cursor.fetchone()[0]
    stretch_count = rows[0][6] if rows else 0
    newest_first = []
    # rows hold one stretch more than shown (when there is one): it is where the oldest shown came from.
    for index, (number, job, activities, first_at, last_at, channels, _) in enumerate(rows[:JOURNEY_STRETCHES_SHOWN]):
        came_from = rows[index + 1][1] if index + 1 < len(rows) else None
        newest_first.append(
            Stretch(
                number=number,
                job=job,
                activities=activities,
                first_at=first_at,
                last_at=last_at,
                channels=tuple(channels),
                came_from=came_from,
                loopback=came_from is not None and JOB_RANK[job] < JOB_RANK[came_from],
            )
        )
    return newest_first, stretch_count, loopbacks


def _personas(account: Account) -> dict[str, dict[str, PersonaReach]]:
    reached = {
        (row["job"], row["contact__persona"]): row
        for row in Activity.objects.filter(account=account, contact__isnull=False)
        .values("job", "contact__persona")
        .annotate(contacts=Count("contact", distinct=True), activities=Count("id"), last_at=Max("occurred_at"))
    }
    grid = {}
    for job in BUYING_JOB_ORDER:
        grid[job] = {}
        for persona in Persona.values:
            row = reached.get((job, persona), {})
            grid[job][persona] = PersonaReach(
                job=job,
                persona=persona,
                contacts=row.get("contacts", 0),
                activities=row.get("activities", 0),
                last_at=row.get("last_at"),
            )
    return grid


def account_profile(account: Account) -> AccountProfile:
    """Everything the account page and ``GET /api/accounts/{external_id}/`` show (see module docstring)."""
    stretches, stretch_count, loopbacks = _stretches(account)
    activities = Activity.objects.filter(account=account)
    totals = activities.aggregate(
        total=Count("id"),
        first_at=Min("occurred_at"),
        last_at=Max("occurred_at"),
        **{f"channel_{channel}": Count("id", filter=Q(channel=channel)) for channel in Channel.values},
    )
    staff = list(
        activities.filter(staff__isnull=False)
        .values("staff_id", "staff__username", "staff__full_name")
        .annotate(activities=Count("id"), last_at=Max("occurred_at"))
        .order_by("-activities", "-last_at", "staff__username")
    )
    jobs_by_staff = {}
    for row in activities.filter(staff__isnull=False).values("staff_id", "job").distinct():
        jobs_by_staff.setdefault(row["staff_id"], set()).add(row["job"])
    return AccountProfile(
        account=account,
        engagement=engagement_of(account),
        propensity=propensity_of(account),
        stretches=stretches,
        stretch_count=stretch_count,
        loopbacks=loopbacks,
        activity_count=totals["total"],
        first_activity_at=totals["first_at"],
        last_activity_at=totals["last_at"],
        channels=[
            {"channel": channel.value, "label": channel.label, "activities": totals[f"channel_{channel.value}"]}
            for channel in Channel
        ],
        personas=_personas(account),
        open_leads=list(Lead.objects.filter(account=account, status=LeadStatus.OPEN).order_by("-created_at", "-id")),
        open_opportunities=list(
            Opportunity.objects.filter(account=account, status=OpportunityStatus.OPEN).order_by("-created_at", "-id")
        ),
        open_orders=list(
            Order.objects.filter(account=account, installed_at__isnull=True).order_by("-ordered_at", "-id")
        ),
        open_tickets=list(
            SupportTicket.objects.filter(account=account, resolved_at__isnull=True).order_by("-opened_at", "-id")
        ),
        latest_adoption=AdoptionReading.objects.filter(account=account).order_by("-measured_on", "-id").first(),
        staff=[
            {
                "staff_id": row["staff_id"],
                "username": row["staff__username"],
                "full_name": row["staff__full_name"] or row["staff__username"],
                "activities": row["activities"],
                "jobs": [job for job in BUYING_JOB_ORDER if job in jobs_by_staff.get(row["staff_id"], ())],
                "last_at": row["last_at"],
            }
            for row in staff
        ],
        time_zone=zoneinfo.ZoneInfo(account.pod.timezone),
    )
