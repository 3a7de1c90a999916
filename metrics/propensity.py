"""Propensity to buy: how likely an opportunity opened for the account now is to be won, from its pod's history.

Defined in docs/ACCOUNTS.md ("Propensity to buy").  In short:

* **Examples**: every won or lost opportunity of the pod, its features read as of the moment it was
  created (:data:`FEATURES`, over the :data:`WINDOW_DAYS` days before it), its label won = 1, lost = 0.
* **Model**: a logistic regression on the standardised features with an L2 penalty (:data:`PENALTY`),
  fitted by Newton's method (:func:`fit_logistic`) — six features and a few hundred rows need no library.
  A pod with fewer than :data:`MIN_EXAMPLES` examples, or fewer than :data:`MIN_EACH` won or lost, is
  scored with the organisation-wide fit (every pod's examples) instead; the page says which.
* **Score**: the same features of the account as of now, through the fit.  Its factors are the terms
  ``coefficient × (value − mean) ÷ scale`` of the log-odds: they add up, with the fit's intercept (an
  account with the pod's average history), to the score's log-odds exactly.
* **Calibration**: each example is also predicted by a fit that did not see it (:data:`FOLDS`-fold,
  fold = id mod FOLDS); those predictions, bucketed by :data:`BINS` equal bins of probability, against the
  win rate observed in each bin, and their Brier score against always predicting the base rate.

The refit runs nightly on a worker (``metrics.tasks.refit_propensity``) and writes one
:class:`~metrics.models.PropensityFit` per pod plus the organisation-wide one.
"""

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from jobs.choices import Channel, OpportunityStatus
from pods.choices import BuyingJob, Persona
from pods.models import Account, Pod

from .models import PropensityFit

WINDOW_DAYS = 90
MIN_EXAMPLES = 40
MIN_EACH = 8
# L2 penalties tried, on the standardised coefficients (not the intercept); the refit picks one per pod.
PENALTIES = (1.0, 10.0, 100.0, 1000.0)
PENALTY = PENALTIES[0]
MAX_EXAMPLES = 1000  # the latest won or lost opportunities (by id) a fit learns from
FOLDS = 5
BINS = 5


@dataclass(frozen=True)
class Feature:
    key: str
    label: str
    counted: bool  # a count, modelled as ln(1 + count); otherwise 0 or 1
    absent: str = ""  # how a 0/1 feature reads when it is 0


FEATURES: tuple[Feature, ...] = (
    Feature("customer", "Already a customer (a won opportunity before)", counted=False, absent="Not a customer yet"),
    Feature("learn", "Learn activities", counted=True),
    Feature("buy", "Buy activities", counted=True),
    Feature("hands_on", "In-person and partner activities", counted=True),
    Feature("champion", "Champion reached", counted=False, absent="No champion reached"),
    Feature("executive", "Executive reached", counted=False, absent="No executive reached"),
)
FEATURE_KEYS = tuple(feature.key for feature in FEATURES)
FEATURE_LABELS = {feature.key: feature.label for feature in FEATURES}
FEATURES_BY_KEY = {feature.key: feature for feature in FEATURES}

# The raw features of each (key, account_id, at) in %(points)s's rows; ``at`` is exclusive of later facts.
FEATURES_SQL = f"""
    SELECT p.key,
           EXISTS (SELECT 1 FROM jobs_opportunity o
                   WHERE o.account_id = p.account_id AND o.status = '{OpportunityStatus.WON}'
                     AND o.closed_at < p.at)::int AS customer,
           f.learn, f.buy, f.hands_on, f.champion, f.executive
    FROM ({{points}}) p (key, account_id, at)
    CROSS JOIN LATERAL (
        SELECT count(*) FILTER (WHERE a.job = '{BuyingJob.LEARN}') AS learn,
               count(*) FILTER (WHERE a.job = '{BuyingJob.BUY}') AS buy,
               count(*) FILTER (WHERE a.channel IN ('{Channel.IN_PERSON}', '{Channel.PARTNER}')) AS hands_on,
               coalesce(bool_or(c.persona = '{Persona.CHAMPION}'), false)::int AS champion,
               coalesce(bool_or(c.persona = '{Persona.EXECUTIVE}'), false)::int AS executive
        FROM jobs_activity a LEFT JOIN pods_contact c ON c.id = a.contact_id
        WHERE a.account_id = p.account_id
          AND a.occurred_at > p.at - make_interval(days => {WINDOW_DAYS}) AND a.occurred_at <= p.at
    ) f
"""  # noqa: S608  # nosec B608 # assembled from this module's constants; every input is a parameter

EXAMPLES_SQL = FEATURES_SQL.format(
    points=f"""SELECT id, account_id, created_at FROM jobs_opportunity
               WHERE status IN ('{OpportunityStatus.WON}', '{OpportunityStatus.LOST}')"""  # noqa: S608  # nosec B608
)
ACCOUNTS_NOW_SQL = FEATURES_SQL.format(
    points="SELECT id, id, %(now)s::timestamptz FROM unnest(%(accounts)s::bigint[]) id"
)


def _model_values(raw: dict) -> list[float]:
    """The features as the model sees them: counts as ln(1 + count)."""
    return [math.log1p(raw[f.key]) if f.counted else float(raw[f.key]) for f in FEATURES]


# --- the fit ---------------------------------------------------------------------------------


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float]:
    """``matrix⁻¹ · vector`` by Gaussian elimination with partial pivoting (the matrix is positive definite)."""
    n = len(vector)
    rows = [row[:] + [vector[i]] for i, row in enumerate(matrix)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(rows[r][col]))
        rows[col], rows[pivot] = rows[pivot], rows[col]
        for r in range(col + 1, n):
            factor = rows[r][col] / rows[col][col]
            for c in range(col, n + 1):
                rows[r][c] -= factor * rows[col][c]
    solution = [0.0] * n
    for r in range(n - 1, -1, -1):
        solution[r] = (rows[r][n] - sum(rows[r][c] * solution[c] for c in range(r + 1, n))) / rows[r][r]
    return solution


def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))


@dataclass(frozen=True)
class Fit:
    intercept: float
    coefficients: tuple[float, ...]  # per feature, on the standardised scale
    means: tuple[float, ...]
    scales: tuple[float, ...]

    def log_odds_terms(self, values: Sequence[float]) -> list[float]:
        return [b * (x - m) / s for b, x, m, s in zip(self.coefficients, values, self.means, self.scales, strict=True)]

    def predict(self, values: Sequence[float]) -> float:
        return _sigmoid(self.intercept + sum(self.log_odds_terms(values)))


def fit_logistic(rows: Sequence[Sequence[float]], labels: Sequence[int], *, penalty: float = PENALTY) -> Fit:
    """Maximise Σ log-likelihood − penalty/2 × Σ coefficient² on standardised features (Newton's method)."""
    n, k = len(rows), len(rows[0])
    means = [sum(row[j] for row in rows) / n for j in range(k)]
    scales = []
    for j in range(k):
        sd = math.sqrt(sum((row[j] - means[j]) ** 2 for row in rows) / n)
        scales.append(sd if sd > 1e-12 else 1.0)
    design = [[1.0] + [(row[j] - means[j]) / scales[j] for j in range(k)] for row in rows]
    beta = [0.0] * (k + 1)
    for _ in range(100):
        gradient = [-penalty * beta[j] if j else 0.0 for j in range(k + 1)]
        hessian = [[(penalty if i == j and i else 0.0) for j in range(k + 1)] for i in range(k + 1)]
        for x, y in zip(design, labels, strict=True):
            p = _sigmoid(sum(b * v for b, v in zip(beta, x, strict=True)))
            w = p * (1 - p)
            for i in range(k + 1):
                gradient[i] += (y - p) * x[i]
                for j in range(i, k + 1):
                    hessian[i][j] += w * x[i] * x[j]
        for i in range(k + 1):
            for j in range(i):
                hessian[i][j] = hessian[j][i]
        hessian[0][0] = max(hessian[0][0], 1e-9)
        step = _solve(hessian, gradient)
        beta = [b + s for b, s in zip(beta, step, strict=True)]
        if max(abs(s) for s in step) < 1e-10:
            break
    return Fit(intercept=beta[0], coefficients=tuple(beta[1:]), means=tuple(means), scales=tuple(scales))


def reliability(predicted: Sequence[float], labels: Sequence[int]) -> list[dict]:
    """Per equal-width bin of predicted probability: how many, the mean prediction, the observed win rate."""
    bins = []
    for index in range(BINS):
        low, high = index / BINS, (index + 1) / BINS
        members = [(p, y) for p, y in zip(predicted, labels, strict=True) if low <= p < high or (high == 1 and p == 1)]
        bins.append(
            {
                "low": low,
                "high": high,
                "opportunities": len(members),
                "predicted": sum(p for p, _ in members) / len(members) if members else None,
                "observed": sum(y for _, y in members) / len(members) if members else None,
            }
        )
    return bins


@dataclass(frozen=True)
class Example:
    opportunity_id: int
    pod_id: int
    won: int
    values: tuple[float, ...]


def read_examples() -> list[Example]:
    """Every won or lost opportunity with its features as of its creation (one statement)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT o.id, o.pod_id, o.status = '{OpportunityStatus.WON}', x.* "  # noqa: S608  # nosec B608
            f"FROM ({EXAMPLES_SQL}) x JOIN jobs_opportunity o ON o.id = x.key"
        )
        names = [column.name for column in cursor.description]
        examples = []
        for row in cursor.fetchall():
            raw = dict(zip(names, row, strict=True))
            examples.append(Example(row[0], row[1], int(row[2]), tuple(_model_values(raw))))
    return examples


def _out_of_fold(examples: Sequence[Example], penalty: float) -> tuple[list[float], list[int]]:
    """Each example predicted by a fit on the other folds (fold = opportunity id mod :data:`FOLDS`)."""
    predicted, labels = [], []
    for fold in range(FOLDS):
        train = [e for e in examples if e.opportunity_id % FOLDS != fold]
        held_out = [e for e in examples if e.opportunity_id % FOLDS == fold]
        if not held_out or len({e.won for e in train}) < 2:
            continue
        fold_fit = fit_logistic([e.values for e in train], [e.won for e in train], penalty=penalty)
        predicted += [fold_fit.predict(e.values) for e in held_out]
        labels += [e.won for e in held_out]
    return predicted, labels


def _brier(predicted: Sequence[float], labels: Sequence[int]) -> float:
    return sum((p - y) ** 2 for p, y in zip(predicted, labels, strict=True)) / len(labels)


def fit_examples(examples: Sequence[Example], *, pod: Pod | None, now: dt.datetime) -> PropensityFit:
    """An unsaved :class:`PropensityFit` of ``examples``: the model and its out-of-fold calibration.

    The penalty is the one of :data:`PENALTIES` whose out-of-fold predictions score best (lowest Brier;
    the smaller penalty on a tie): a pod whose history says little is shrunk towards its base rate.
    """
    examples = sorted(examples, key=lambda e: -e.opportunity_id)[:MAX_EXAMPLES]
    won = sum(e.won for e in examples)
    record = PropensityFit(pod=pod, fitted_at=now, examples=len(examples), won=won)
    if len(examples) < MIN_EXAMPLES or min(won, len(examples) - won) < MIN_EACH:
        return record
    trials = {penalty: _out_of_fold(examples, penalty) for penalty in PENALTIES}
    penalty = min(PENALTIES, key=lambda p: (_brier(*trials[p]), p))
    predicted, labels = trials[penalty]
    fit = fit_logistic([e.values for e in examples], [e.won for e in examples], penalty=penalty)
    base_rate = won / len(examples)
    record.penalty = penalty
    record.intercept = fit.intercept
    record.coefficients = dict(zip(FEATURE_KEYS, fit.coefficients, strict=True))
    record.means = dict(zip(FEATURE_KEYS, fit.means, strict=True))
    record.scales = dict(zip(FEATURE_KEYS, fit.scales, strict=True))
    record.calibration = reliability(predicted, labels)
    record.brier = _brier(predicted, labels)
    record.base_brier = sum((base_rate - y) ** 2 for y in labels) / len(labels)
    return record


def refit(*, now: dt.datetime | None = None) -> list[PropensityFit]:
    """Fit every pod and the organisation; store the fits in one transaction and return them."""
    now = now or timezone.now()
    examples = read_examples()
    by_pod: dict[int, list[Example]] = {}
    for example in examples:
        by_pod.setdefault(example.pod_id, []).append(example)
    fits = [fit_examples(examples, pod=None, now=now)]
    fits += [fit_examples(by_pod.get(pod.pk, []), pod=pod, now=now) for pod in Pod.objects.order_by("name")]
    with transaction.atomic():
        PropensityFit.objects.bulk_create(fits)
    return fits


# --- scoring ---------------------------------------------------------------------------------


def latest_fits() -> tuple[dict[int, PropensityFit], PropensityFit | None]:
    """The latest fit of each pod (fitted or not) and the latest fitted organisation-wide one (two queries)."""
    per_pod = {
        fit.pod_id: fit
        for fit in PropensityFit.objects.filter(pod__isnull=False)
        .order_by("pod_id", "-fitted_at", "-id")
        .distinct("pod_id")
    }
    organisation = PropensityFit.objects.filter(pod__isnull=True).exclude(coefficients={}).first()
    return per_pod, organisation


def fit_for(pod_id: int, fits: tuple[dict[int, PropensityFit], PropensityFit | None]) -> PropensityFit | None:
    """The fit that scores the pod's accounts: its own if it had enough examples, else the organisation's."""
    per_pod, organisation = fits
    own = per_pod.get(pod_id)
    return own if own is not None and own.fitted else organisation


@dataclass(frozen=True)
class PropensityFactor:
    feature: str
    value: int  # the raw value: a count, or 0/1
    contribution: float  # to the log-odds; e^contribution multiplies the odds

    @property
    def label(self) -> str:
        return FEATURE_LABELS[self.feature]

    @property
    def counted(self) -> bool:
        return FEATURES_BY_KEY[self.feature].counted

    @property
    def description(self) -> str:
        """The factor as this account has it: "Buy activities: 5", "Executive reached", "No executive reached"."""
        feature = FEATURES_BY_KEY[self.feature]
        if feature.counted:
            return f"{feature.label}: {self.value}"
        return feature.label if self.value else feature.absent

    @property
    def odds_ratio(self) -> float:
        return math.exp(self.contribution)


@dataclass(frozen=True)
class Propensity:
    score: float  # a probability, 0–1
    as_of: dt.datetime
    fit: PropensityFit
    baseline: float  # the probability of an account with the fit's average features
    factors: list[PropensityFactor]  # largest effect first; with the intercept they sum to the log-odds

    @property
    def pooled(self) -> bool:
        return self.fit.pod_id is None

    @property
    def top_factor(self) -> PropensityFactor | None:
        return self.factors[0] if self.factors else None


def _score(raw: dict, fit: PropensityFit, now: dt.datetime) -> Propensity:
    values = _model_values(raw)
    terms = [
        fit.coefficients[f.key] * (value - fit.means[f.key]) / fit.scales[f.key]
        for f, value in zip(FEATURES, values, strict=True)
    ]
    factors = [PropensityFactor(f.key, int(raw[f.key]), term) for f, term in zip(FEATURES, terms, strict=True)]
    factors.sort(key=lambda factor: (-abs(factor.contribution), FEATURE_KEYS.index(factor.feature)))
    return Propensity(
        score=_sigmoid(fit.intercept + sum(terms)),
        as_of=now,
        fit=fit,
        baseline=_sigmoid(fit.intercept),
        factors=factors,
    )


def propensities_of(
    accounts: Iterable[tuple[int, int]], *, now: dt.datetime | None = None, fits=None
) -> dict[int, Propensity | None]:
    """``{account_id: Propensity or None}`` for (account_id, pod_id) pairs: three queries whatever their number."""
    now = now or timezone.now()
    pods = dict(accounts)
    if not pods:
        return {}
    fits = fits or latest_fits()
    if not fits[0] and fits[1] is None:
        return dict.fromkeys(pods)
    with connection.cursor() as cursor:
        cursor.execute(ACCOUNTS_NOW_SQL, {"now": now, "accounts": list(pods)})
        names = [column.name for column in cursor.description]
        raw = {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}
    result = {}
    for account_id, pod_id in pods.items():
        fit = fit_for(pod_id, fits)
        result[account_id] = _score(raw[account_id], fit, now) if fit is not None else None
    return result


def propensities_of_accounts(account_ids: Iterable[int], *, now: dt.datetime | None = None) -> dict:
    """:func:`propensities_of` for bare account ids (one more query reads their pods)."""
    pairs = Account.objects.filter(pk__in=list(account_ids)).values_list("pk", "pod_id")
    return propensities_of(list(pairs), now=now)


def with_propensities(rows: list[dict], *, now: dt.datetime | None = None) -> list[dict]:
    """Set ``row["propensity"]`` on rows that carry an ``"account"`` id (the accounts-to-call lists); returns them."""
    scores = propensities_of_accounts((row["account"] for row in rows), now=now)
    for row in rows:
        row["propensity"] = scores.get(row["account"])
    return rows


def propensity_of(account, *, now: dt.datetime | None = None) -> Propensity | None:
    return propensities_of([(account.pk, account.pod_id)], now=now)[account.pk]


def latest_fit_version() -> str:
    """Part of the account page's cache key: the newest fit's id (a refit changes every score)."""
    latest = PropensityFit.objects.order_by("-id").values_list("id", flat=True).first()
    return str(latest or 0)
