"""Webhook endpoints admins register, and the log of every delivery to them (docs/WEBHOOKS.md)."""

import secrets
import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from .choices import DeliveryStatus, EventType
from .destinations import validate_endpoint_url

SECRET_PREFIX = "whsec_"  # noqa: S105 (a marker, not a secret)


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


class Endpoint(models.Model):
    """An HTTPS address that receives the events it subscribes to, signed with its own secret."""

    url = models.URLField(max_length=500, validators=[validate_endpoint_url])
    description = models.CharField(max_length=200, blank=True)
    events = ArrayField(models.CharField(max_length=40, choices=EventType.choices))
    secret = models.CharField(max_length=100, default=new_secret, editable=False)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["url", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(events__contained_by=EventType.values) & ~Q(events=[]), name="endpoint_events_valid"
            ),
            models.CheckConstraint(condition=Q(secret__startswith=SECRET_PREFIX), name="endpoint_secret_present"),
        ]

    def __str__(self):
        return self.description or self.url

    @property
    def masked_secret(self) -> str:
        return f"{SECRET_PREFIX}…{self.secret[-4:]}"


class Delivery(models.Model):
    """One event sent (or to be sent) to one endpoint: its payload, attempts and the last answer.

    ``next_attempt_at`` is the schedule: the send task and the beat that re-sends due deliveries both
    claim a delivery by moving it forward (``webhooks.services.attempt_delivery``), so a delivery is
    sent by one worker at a time however often its task is delivered.
    """

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_type = models.CharField(max_length=40, choices=EventType.choices)
    event_id = models.UUIDField(default=uuid.uuid4, editable=False)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True, help_text="The first 2 KB of the last response's body.")
    error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status=DeliveryStatus.PENDING), name="delivery_due"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="delivery_one_per_endpoint_event"),
            models.CheckConstraint(condition=Q(event_type__in=EventType.values), name="delivery_event_type_valid"),
            models.CheckConstraint(condition=Q(status__in=DeliveryStatus.values), name="delivery_status_valid"),
            # Pending means scheduled; finished means no schedule left.
            models.CheckConstraint(
                condition=Q(status=DeliveryStatus.PENDING, next_attempt_at__isnull=False)
                | (~Q(status=DeliveryStatus.PENDING) & Q(next_attempt_at__isnull=True)),
                name="delivery_pending_is_scheduled",
            ),
        ]

    def __str__(self):
        return f"{self.event_type} {self.event_id} → {self.endpoint}"
