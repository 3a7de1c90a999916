"""Pods, people, their effective-dated assignments, centers of excellence, accounts and contacts."""

import datetime as dt
import zoneinfo
from functools import lru_cache

from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeOperators
from django.contrib.postgres.fields.ranges import BigIntegerRangeField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Func, Q, Value
from django.utils import timezone

from .choices import BuyingJob, Persona


@lru_cache(maxsize=1)
def _iana_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value not in _iana_time_zones():
        raise ValidationError("%(value)s is not an IANA time zone (e.g. America/New_York).", params={"value": value})


RESERVED_POD_SLUGS = ("compare",)


class IsTimeZone(Func):
    """``uce_is_time_zone(text)``: true when the name is one of PostgreSQL's named time zones (migration 0001)."""

    function = "uce_is_time_zone"
    output_field = models.BooleanField()


class DateRange(Func):
    function = "daterange"
    output_field = DateRangeField()


class Int8Range(Func):
    function = "int8range"
    output_field = BigIntegerRangeField()


class User(AbstractUser):
    """A person: pod staff, pod leader, center-of-excellence member or admin."""

    full_name = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["username"]
        verbose_name = "person"
        verbose_name_plural = "people"

    def __str__(self):
        return self.full_name or self.username

    def get_full_name(self):
        return self.full_name or super().get_full_name()


class Pod(models.Model):
    """A geographic pod staffed across the five buying jobs. Periods are bucketed in its time zone."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=120)
    territory = models.CharField(max_length=500, blank=True, help_text="Free text, e.g. US-FL US-GA US-AL")
    timezone = models.CharField(max_length=64, validators=[validate_time_zone], help_text="IANA name")
    leaders = models.ManyToManyField(User, blank=True, related_name="led_pods")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=IsTimeZone(F("timezone")), name="pod_timezone_valid"),
            # /pods/compare/ is the comparison page, so no pod may be called that.
            models.CheckConstraint(
                condition=~Q(slug__in=RESERVED_POD_SLUGS),
                name="pod_slug_not_reserved",
                violation_error_message="This slug is reserved for a page; choose another.",
            ),
        ]

    def __str__(self):
        return self.name

    def local_today(self) -> dt.date:
        """Today's date in the pod's zone, by the application's clock: the day its periods are read at."""
        return timezone.now().astimezone(zoneinfo.ZoneInfo(self.timezone)).date()


class AssignmentQuerySet(models.QuerySet):
    def active_on(self, day):
        """Assignments active on ``day``: ``started_on <= day < ended_on`` (or no end)."""
        return self.filter(Q(ended_on__isnull=True) | Q(ended_on__gt=day), started_on__lte=day)


class Assignment(models.Model):
    """A person's membership of a pod in one buying job, effective-dated; history is never edited.

    The database refuses two assignments of one person whose ``[started_on, ended_on)`` ranges
    overlap, so at most one is active on any day.
    """

    person = models.ForeignKey(User, on_delete=models.PROTECT, related_name="assignments")
    pod = models.ForeignKey(Pod, on_delete=models.PROTECT, related_name="assignments")
    job = models.CharField(max_length=20, choices=BuyingJob.choices)
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["person", "-started_on"]
        indexes = [models.Index(fields=["pod", "started_on"], name="assignment_pod_started")]
        constraints = [
            models.CheckConstraint(condition=Q(job__in=BuyingJob.values), name="assignment_job_valid"),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="assignment_ends_after_start",
            ),
            ExclusionConstraint(
                name="assignment_one_active_per_person",
                index_type="GIST",
                expressions=[
                    (Int8Range(F("person"), F("person"), Value("[]")), RangeOperators.OVERLAPS),
                    (DateRange(F("started_on"), F("ended_on"), Value("[)")), RangeOperators.OVERLAPS),
                ],
            ),
        ]

    def __str__(self):
        until = f" until {self.ended_on}" if self.ended_on else ""
        return f"{self.person} — {self.pod} / {self.get_job_display()} from {self.started_on}{until}"

    def is_active_on(self, day) -> bool:
        return self.started_on <= day and (self.ended_on is None or day < self.ended_on)


class CenterOfExcellence(models.Model):
    """A shared team serving every pod; its members belong to it instead of a pod."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    members = models.ManyToManyField(User, blank=True, related_name="centers_of_excellence")

    class Meta:
        ordering = ["name"]
        verbose_name = "center of excellence"
        verbose_name_plural = "centers of excellence"

    def __str__(self):
        return self.name


class Account(models.Model):
    """A customer organisation; it belongs to one pod (by territory)."""

    external_id = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    pod = models.ForeignKey(Pod, on_delete=models.PROTECT, related_name="accounts")
    segment = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["pod", "name"], name="account_pod_name")]

    def __str__(self):
        return self.name


class Contact(models.Model):
    """A person at a customer account, with a buying persona."""

    external_id = models.CharField(max_length=100, unique=True)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    persona = models.CharField(max_length=20, choices=Persona.choices)

    class Meta:
        ordering = ["account", "name"]
        constraints = [models.CheckConstraint(condition=Q(persona__in=Persona.values), name="contact_persona_valid")]

    def __str__(self):
        return self.name or self.external_id
