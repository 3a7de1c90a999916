"""Targets (and, with the metric engine, the per-pod snapshots the dashboard reads)."""

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
