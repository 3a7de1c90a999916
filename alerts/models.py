"""Digest subscriptions and deliveries, alert rules and their events, in-app notifications (docs/ALERTS.md)."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from metrics.catalogue import TARGETABLE_METRIC_CHOICES
from metrics.choices import Grain
from pods.models import Pod

from .choices import Condition, DeliveryStatus, DigestStatus, NotificationKind

MAX_STREAK = 12


class DigestSubscription(models.Model):
    """A person's choice about one pod's weekly digest. Without a row, a pod's leaders receive it and
    nobody else does (staff and center-of-excellence members opt in)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_subscriptions")
    pod = models.ForeignKey(Pod, on_delete=models.CASCADE, related_name="digest_subscriptions")
    status = models.CharField(max_length=12, choices=DigestStatus.choices)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "pod"], name="digest_subscription_one_per_pod")]

    def __str__(self):
        return f"{self.user} · {self.pod}: {self.status}"


class DigestDelivery(models.Model):
    """One person's digest of one pod for one week: written before the mail is sent, so a redelivered
    task, a second beat or a second worker never send it twice (the unique constraint decides)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_deliveries")
    pod = models.ForeignKey(Pod, on_delete=models.CASCADE, related_name="digest_deliveries")
    week_start = models.DateField(help_text="Monday of the week the digest reports on (the pod's local dates).")
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices)
    subject = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-week_start", "pod", "user"]
        constraints = [
            models.UniqueConstraint(fields=["user", "pod", "week_start"], name="digest_delivery_once_a_week")
        ]

    def __str__(self):
        return f"{self.pod} {self.week_start} → {self.user}: {self.status}"


class AlertRule(models.Model):
    """A threshold on one scalar metric of one pod at one grain, owned by a leader of the pod or an admin."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_rules")
    pod = models.ForeignKey(Pod, on_delete=models.CASCADE, related_name="alert_rules")
    metric = models.CharField(max_length=64, choices=TARGETABLE_METRIC_CHOICES)
    grain = models.CharField(max_length=10, choices=Grain.choices, default=Grain.WEEK)
    condition = models.CharField(max_length=12, choices=Condition.choices)
    change_pct = models.DecimalField(
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="In percent of the previous period's figure; rises and falls alike.",
    )
    min_events = models.PositiveIntegerField(
        default=0,
        help_text="A move with fewer events behind the figure (the larger of the two periods' counts) is noise.",
    )
    periods = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(2), MaxValueValidator(MAX_STREAK)],
        help_text="2 to 12, the current period included.",
    )
    email = models.BooleanField(default=True, help_text="Also send an email when it fires and when it clears.")
    paused = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pod", "metric", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(condition=Condition.MOVES_BY) | Q(change_pct__isnull=False, change_pct__gte=0),
                name="alert_rule_moves_by_has_a_threshold",
            ),
            models.CheckConstraint(
                condition=~Q(condition=Condition.STAYS_RED) | Q(periods__gte=2, periods__lte=MAX_STREAK),
                name="alert_rule_stays_red_has_periods",
            ),
        ]

    def __str__(self):
        return f"{self.pod} · {self.get_metric_display()} ({self.get_grain_display()}): {self.describe()}"

    def describe(self) -> str:
        if self.condition == Condition.MOVES_BY:
            volume = f" with at least {self.min_events} events behind it" if self.min_events else ""
            return f"moves by {self.change_pct.normalize():f}% or more vs the previous {self.grain}{volume}"
        if self.condition == Condition.STAYS_RED:
            return f"is red {self.periods} {self.grain}s in a row"
        return "misses its target"


class AlertEvent(models.Model):
    """A rule fired for one period; ``resolved_at`` once it cleared. At most one per rule and period."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="events")
    period_start = models.DateField()
    fired_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(
        null=True, blank=True, help_text="The period ended still firing; the next period's event took over."
    )
    detail = models.CharField(max_length=300)

    class Meta:
        ordering = ["-fired_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["rule", "period_start"], name="alert_event_once_per_period")]

    def __str__(self):
        return f"{self.rule} @ {self.period_start}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None and self.closed_at is None


class Notification(models.Model):
    """What the bell counts: one message to one person, read or not."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=16, choices=NotificationKind.choices)
    pod = models.ForeignKey(Pod, on_delete=models.CASCADE, related_name="notifications")
    event = models.ForeignKey(AlertEvent, on_delete=models.CASCADE, null=True, blank=True, related_name="notices")
    title = models.CharField(max_length=200)
    body = models.CharField(max_length=500, blank=True)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread")]

    def __str__(self):
        return f"{self.user}: {self.title}"
