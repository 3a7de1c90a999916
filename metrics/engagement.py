"""An account's engagement score, explained by the buying jobs and personas behind it.

Defined in docs/ACCOUNTS.md ("Engagement score").  Every activity of the account in the last
:data:`WINDOW_DAYS` days (whatever pod it was logged under) adds

    JOB_WEIGHTS[job] × CHANNEL_WEIGHTS[channel] × PERSONA_WEIGHTS[persona or "none"]
    × ½ ^ (age in days ÷ HALF_LIFE_DAYS)

and the score is the sum.  Its factors are the same sum split by (job, persona), so they add up to the
score exactly.  One statement (:func:`engagement_of`).
"""

import datetime as dt
import re
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from jobs.choices import Channel
from pods.choices import BUYING_JOB_ORDER, BuyingJob, Persona
from pods.models import Account

WINDOW_DAYS = 90
HALF_LIFE_DAYS = 30
NO_CONTACT = "none"

# Buying moves closest to revenue; hands-on contact says more than a page view; whoever signs counts most.
JOB_WEIGHTS = {
    BuyingJob.LEARN: 1.0,
    BuyingJob.BUY: 2.0,
    BuyingJob.ORDER_INSTALL: 1.5,
    BuyingJob.ADOPT: 1.0,
    BuyingJob.SUPPORT: 0.5,
}
CHANNEL_WEIGHTS = {Channel.DIGITAL: 1.0, Channel.IN_PERSON: 1.5, Channel.PARTNER: 1.25}
PERSONA_WEIGHTS = {Persona.END_USER: 1.0, Persona.CHAMPION: 1.5, Persona.EXECUTIVE: 2.0, NO_CONTACT: 0.75}
PERSONA_LABELS = {**dict(Persona.choices), NO_CONTACT: "No contact named"}


def _weights_sql(column: str, weights: dict) -> str:
    cases = " ".join(f"WHEN '{key}' THEN {float(weight)!r}" for key, weight in weights.items())
    return f"CASE {column} {cases} END"


# One activity's weight as of %(now)s: `a` is jobs_activity, `c` its contact (LEFT JOIN pods_contact).
WEIGHT_SQL = f"""
    {_weights_sql("a.job", JOB_WEIGHTS)}
    * {_weights_sql("a.channel", CHANNEL_WEIGHTS)}
    * {_weights_sql(f"coalesce(c.persona, '{NO_CONTACT}')", PERSONA_WEIGHTS)}
    * power(0.5, extract(epoch FROM %(now)s - a.occurred_at)::float8 / 86400 / {HALF_LIFE_DAYS})
"""
IN_WINDOW_SQL = "a.occurred_at > %(since)s AND a.occurred_at <= %(now)s"

ENGAGEMENT_SQL = f"""
    SELECT a.job, coalesce(c.persona, '{NO_CONTACT}') AS persona, count(*) AS activities,
           sum({WEIGHT_SQL}) AS contribution
    FROM jobs_activity a LEFT JOIN pods_contact c ON c.id = a.contact_id
    WHERE a.account_id = %(account)s AND {IN_WINDOW_SQL}
    GROUP BY 1, 2
"""  # noqa: S608  # nosec B608 # assembled from this module's constant weights; every input is a parameter

# The score of the account whose id is in the outer query's "jobs_activity"."account_id", as a scalar
# subquery with positional parameters (now, since, now): for lists that sort by it.
SCORE_OF_OUTER_ACCOUNT_SQL = f"""
    (SELECT coalesce(sum({WEIGHT_SQL}), 0)
     FROM jobs_activity a LEFT JOIN pods_contact c ON c.id = a.contact_id
     WHERE a.account_id = "jobs_activity"."account_id" AND {IN_WINDOW_SQL})
""".replace("%(now)s", "%s").replace("%(since)s", "%s")  # noqa: S608  # nosec B608 # constants only


def score_params(now: dt.datetime) -> tuple:
    """The parameters of :data:`SCORE_OF_OUTER_ACCOUNT_SQL`, in their order."""
    since = now - dt.timedelta(days=WINDOW_DAYS)
    order = re.findall(r"%\((now|since)\)s", WEIGHT_SQL + IN_WINDOW_SQL)
    return tuple(now if name == "now" else since for name in order)


@dataclass(frozen=True)
class Factor:
    job: str
    persona: str
    activities: int
    contribution: float

    @property
    def label(self) -> str:
        return f"{BuyingJob(self.job).label} · {PERSONA_LABELS[self.persona]}"


@dataclass(frozen=True)
class Engagement:
    score: float
    as_of: dt.datetime
    factors: list[Factor]  # largest contribution first; they sum to the score


def engagement_of(account: Account, *, now: dt.datetime | None = None) -> Engagement:
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            ENGAGEMENT_SQL, {"account": account.pk, "now": now, "since": now - dt.timedelta(days=WINDOW_DAYS)}
        )
        factors = [Factor(job, persona, n, float(contribution)) for job, persona, n, contribution in cursor.fetchall()]
    rank = {job: i for i, job in enumerate(BUYING_JOB_ORDER)}
    factors.sort(key=lambda f: (-f.contribution, rank[f.job], f.persona))
    return Engagement(score=sum(f.contribution for f in factors), as_of=now, factors=factors)


def weights_table() -> dict:
    """The weights as the page and the API show them."""
    return {
        "window_days": WINDOW_DAYS,
        "half_life_days": HALF_LIFE_DAYS,
        "job": {str(k): v for k, v in JOB_WEIGHTS.items()},
        "channel": {str(k): v for k, v in CHANNEL_WEIGHTS.items()},
        "persona": {str(k): v for k, v in PERSONA_WEIGHTS.items()},
    }
