"""Targets (and, with the metric engine, the per-pod snapshots the dashboard reads)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Func, Q
from django.db.models.functions import Cast

from pods.models import Pod

from .catalogue import TARGETABLE_METRIC_CHOICES
from .choices import Grain


class PeriodStartOf(Func):
    """``date_trunc(grain, day)::date`` — the start of the grain's period containing ``day``.

    PostgreSQL's ``week`` truncation is the ISO week (Monday), matching METRICS.md.
    """

    function = "date_trunc"
    output_field = models.DateTimeField()


class Target(models.Model):
    """What a pod aims for on one metric in one period."""

    pod = models.ForeignKey(Pod, on_delete=models.CASCADE, related_name="targets")
    metric = models.CharField(max_length=40, choices=TARGETABLE_METRIC_CHOICES)
    grain = models.CharField(max_length=10, choices=Grain.choices)
    period_start = models.DateField()
    value = models.DecimalField(max_digits=16, decimal_places=4)

    class Meta:
        ordering = ["pod", "metric", "grain", "-period_start"]
        constraints = [
            models.UniqueConstraint(fields=["pod", "metric", "grain", "period_start"], name="target_unique_per_period"),
            models.CheckConstraint(condition=Q(grain__in=Grain.values), name="target_grain_valid"),
            models.CheckConstraint(
                condition=Q(metric__in=[key for key, _ in TARGETABLE_METRIC_CHOICES]), name="target_metric_valid"
            ),
            models.CheckConstraint(
                condition=Q(
                    period_start=Cast(
                        PeriodStartOf(F("grain"), Cast(F("period_start"), models.DateTimeField())), models.DateField()
                    )
                ),
                name="target_period_start_is_grain_start",
            ),
        ]

    def __str__(self):
        return f"{self.pod} {self.metric} {self.grain} {self.period_start}: {self.value}"


class PodMetricSnapshot(models.Model):
    """Every metric of METRICS.md for one pod and one period: what the dashboard and the API read.

    Written only by ``metrics.refresh`` with ``INSERT ... ON CONFLICT DO UPDATE``, so a
    recomputation replaces a snapshot and never adds to it.
    """

    pod = models.ForeignKey(Pod, on_delete=models.CASCADE, related_name="metric_snapshots")
    grain = models.CharField(max_length=10, choices=Grain.choices)
    period_start = models.DateField()
    period_end = models.DateField()
    metrics = models.JSONField()
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["pod", "grain", "period_start"]
        constraints = [
            models.UniqueConstraint(fields=["pod", "grain", "period_start"], name="snapshot_one_per_pod_period"),
            models.CheckConstraint(condition=Q(period_end__gt=F("period_start")), name="snapshot_period_not_empty"),
        ]

    def __str__(self):
        return f"{self.pod} {self.grain} {self.period_start}"


class PeriodToDateSnapshot(models.Model):
    """Every metric of a pod over the first ``days`` local days of a period (docs/PERIOD-TO-DATE.md).

    For each grain the refresh keeps three: the period in progress up to the pod's today, and the
    same number of days of the previous period and of the period a year earlier — what a period
    in progress is compared with.  Rows of an earlier today are replaced when the pod's date changes.
    """

    pod = models.ForeignKey(Pod, on_delete=models.CASCADE, related_name="to_date_snapshots")
    grain = models.CharField(max_length=10, choices=Grain.choices)
    period_start = models.DateField()
    days = models.PositiveSmallIntegerField()
    metrics = models.JSONField()
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["pod", "grain", "period_start", "days"]
        constraints = [
            models.UniqueConstraint(fields=["pod", "grain", "period_start", "days"], name="to_date_one_per_window"),
            models.CheckConstraint(condition=Q(days__gt=0), name="to_date_window_not_empty"),
        ]

    def __str__(self):
        return f"{self.pod} {self.grain} {self.period_start} +{self.days} days"


class DirtyRange(models.Model):
    """Local dates of a pod whose snapshots must be recomputed (``NULL`` bounds: open-ended).

    Rows are written by database triggers on every fact, assignment and pod write (migration
    ``0002``), so every write path — ORM, admin, API, ``COPY`` import — marks what it changes in
    the same transaction. The refresh claims and deletes them.
    """

    pod = models.ForeignKey(Pod, on_delete=models.CASCADE, related_name="+")
    from_day = models.DateField(null=True)
    to_day = models.DateField(null=True)

    class Meta:
        ordering = ["pod", "from_day"]
        indexes = [models.Index(fields=["pod"], name="dirtyrange_pod")]

    def __str__(self):
        return f"{self.pod_id}: {self.from_day or '…'} – {self.to_day or '…'}"


class PodMetricState(models.Model):
    """Per-pod bookkeeping of the metric engine, and the row a refresh locks to own the pod.

    ``first_day``/``last_day`` bound the materialised periods (the pod's data, plus a year so
    that year-over-year figures after the last fact are materialised too); outside them every
    figure is either empty or carried forward from the last period.
    """

    pod = models.OneToOneField(Pod, on_delete=models.CASCADE, primary_key=True, related_name="metric_state")
    computed_at = models.DateTimeField(null=True)
    first_day = models.DateField(null=True)
    last_day = models.DateField(null=True)
    # The pod's local date its period-to-date snapshots were computed for; a refresh claims the pod
    # again once its date moves on (the first refresh after its local midnight).
    to_date_as_of = models.DateField(null=True)

    class Meta:
        ordering = ["pod"]

    def __str__(self):
        return f"{self.pod_id} computed {self.computed_at}"


class RecomputeRequest(models.Model):
    """A recomputation asked for from the dashboard or the API, with its progress."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    pod = models.ForeignKey(Pod, on_delete=models.CASCADE, related_name="recompute_requests")
    requested_by = models.ForeignKey("pods.User", null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    steps_total = models.PositiveIntegerField(default=0)
    steps_done = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(steps_done__lte=F("steps_total")), name="recompute_progress_bounded"),
        ]

    def __str__(self):
        return f"Recompute {self.pod} ({self.status})"

    @property
    def percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        return int(100 * self.steps_done / self.steps_total) if self.steps_total else 0


class PropensityFit(models.Model):
    """One fit of the propensity-to-buy model (metrics/propensity.py) for a pod, or for every pod at once.

    The refit job writes one row per pod and one organisation-wide row (``pod`` null) each time it runs;
    an account is scored with its pod's latest fitted row, else the latest organisation-wide one.  A row
    without ``coefficients`` records that there were too few won and lost opportunities to fit.
    """

    pod = models.ForeignKey(Pod, null=True, blank=True, on_delete=models.CASCADE, related_name="propensity_fits")
    fitted_at = models.DateTimeField()
    examples = models.PositiveIntegerField()  # won + lost opportunities it learnt from
    won = models.PositiveIntegerField()
    penalty = models.FloatField(null=True, blank=True)  # the L2 penalty the cross-validation chose
    intercept = models.FloatField(null=True, blank=True)
    # {feature: value} for every feature of metrics.propensity.FEATURES; empty when too few examples.
    coefficients = models.JSONField(default=dict, blank=True)
    means = models.JSONField(default=dict, blank=True)
    scales = models.JSONField(default=dict, blank=True)
    # Out-of-fold reliability: [{"low", "high", "opportunities", "predicted", "observed"}] per bin.
    calibration = models.JSONField(default=list, blank=True)
    brier = models.FloatField(null=True, blank=True)  # out-of-fold Brier score
    base_brier = models.FloatField(null=True, blank=True)  # Brier score of always predicting the base rate

    class Meta:
        ordering = ["-fitted_at", "-id"]
        indexes = [models.Index(fields=["pod", "-fitted_at"], name="propensity_fit_pod_latest")]
        constraints = [models.CheckConstraint(condition=Q(won__lte=F("examples")), name="propensity_won_bounded")]

    def __str__(self):
        return f"Propensity fit for {self.pod or 'every pod'} at {self.fitted_at:%Y-%m-%d %H:%M}"

    @property
    def fitted(self) -> bool:
        return bool(self.coefficients)

    @property
    def base_rate(self) -> float | None:
        return self.won / self.examples if self.examples else None


class Reorganisation(models.Model):
    """A date an admin marks as a reorganisation (a re-designation of people into pods and jobs).

    ``pods``: the pods it concerns; none means the whole organisation.  Its impact (before/after figures) is
    computed on demand by ``metrics/reorg.py`` (docs/REORGANISATION.md).
    """

    name = models.CharField(max_length=120)
    effective_on = models.DateField(help_text="The first day of the new organisation (a local date in every pod).")
    pods = models.ManyToManyField(Pod, blank=True, related_name="+", help_text="None: the whole organisation.")
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-effective_on", "-id"]

    def __str__(self):
        return f"{self.name} ({self.effective_on.day} {self.effective_on:%b %Y})"  # 7 Jun 2025, as the pages write it
