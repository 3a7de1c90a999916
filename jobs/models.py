"""Facts logged against the five buying jobs.

Every fact row stores the pod it was created under (the account's pod at that moment), so
moving an account or a person never rewrites history; a database trigger (migration 0002)
refuses any later change of that pod.
"""

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import F, Q

from pods.models import Account, Contact, Pod

from .choices import BuyingJob, Channel, LeadStatus, OpportunityStatus


class Fact(models.Model):
    """Fields every fact shares: the pod it was created under, its account, an optional external id."""

    pod = models.ForeignKey(Pod, on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    external_id = models.CharField(max_length=100, unique=True, null=True, blank=True)

    class Meta:
        abstract = True


class Activity(Fact):
    """Something a pod member did for an account in one buying job, over one channel."""

    # The largest table: no single-column index where a composite one below starts with the column
    # (each index is paid for by every import and every logged activity).  Its references are
    # checked once per statement by triggers (migration 0009), not by foreign keys row by row.
    pod = models.ForeignKey(Pod, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False)
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    occurred_at = models.DateTimeField()
    job = models.CharField(max_length=20, choices=BuyingJob.choices)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    kind = models.CharField(max_length=50)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
        db_index=False,
        db_constraint=False,
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    minutes = models.PositiveIntegerField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name_plural = "activities"
        indexes = [
            # Covering the metric engine's read (metrics.aggregation.ACTIVITIES): an index-only scan.
            models.Index(
                fields=["pod", "occurred_at"],
                include=["account", "job", "channel", "id", "contact"],
                name="activity_pod_time_contact",
            ),
            models.Index(fields=["account", "occurred_at"], include=["channel"], name="activity_account_time"),
            models.Index(fields=["staff", "-occurred_at"], name="activity_staff_recent"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(job__in=BuyingJob.values), name="activity_job_valid"),
            models.CheckConstraint(condition=Q(channel__in=Channel.values), name="activity_channel_valid"),
            models.CheckConstraint(condition=~Q(kind=""), name="activity_kind_not_empty"),
        ]

    def __str__(self):
        return f"{self.get_job_display()} {self.kind} for {self.account} at {self.occurred_at:%Y-%m-%d %H:%M}"


class Lead(Fact):
    """A lead handed to the pod; accepting or rejecting it ("qualifying out") is a decision."""

    created_at = models.DateTimeField()
    channel = models.CharField(max_length=20, choices=Channel.choices)
    status = models.CharField(max_length=20, choices=LeadStatus.choices, default=LeadStatus.OPEN)
    decided_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["pod", "created_at"], name="lead_pod_created"),
            models.Index(fields=["pod", "decided_at"], include=["status"], name="lead_pod_decided"),
            models.Index(fields=["account", "created_at"], name="lead_account_created"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(channel__in=Channel.values), name="lead_channel_valid"),
            models.CheckConstraint(condition=Q(status__in=LeadStatus.values), name="lead_status_valid"),
            models.CheckConstraint(
                condition=Q(status=LeadStatus.OPEN) | Q(decided_at__isnull=False), name="lead_decided_unless_open"
            ),
            models.CheckConstraint(
                condition=Q(decided_at__isnull=True) | Q(decided_at__gte=F("created_at")),
                name="lead_decided_after_created",
            ),
        ]

    def __str__(self):
        return f"Lead {self.external_id or self.pk} ({self.get_status_display()})"


class Opportunity(Fact):
    """A sales opportunity; won ones are bookings."""

    name = models.CharField(max_length=200, blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    created_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=OpportunityStatus.choices, default=OpportunityStatus.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "opportunities"
        indexes = [
            models.Index(fields=["pod", "created_at"], include=["amount"], name="opportunity_pod_created"),
            models.Index(fields=["pod", "closed_at"], include=["status", "amount"], name="opportunity_pod_closed"),
            # Finds the won opportunities an in-person activity may turn from rep-free (dirty marking).
            models.Index(fields=["account", "closed_at"], condition=Q(status="won"), name="opportunity_account_won"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="opportunity_amount_not_negative"),
            models.CheckConstraint(condition=Q(status__in=OpportunityStatus.values), name="opportunity_status_valid"),
            models.CheckConstraint(
                condition=Q(status=OpportunityStatus.OPEN) | Q(closed_at__isnull=False),
                name="opportunity_closed_unless_open",
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(closed_at__gte=F("created_at")),
                name="opportunity_closed_after_created",
            ),
        ]

    def __str__(self):
        return self.name or f"Opportunity {self.external_id or self.pk}"


class Order(Fact):
    """An order and, once done, its installation."""

    ordered_at = models.DateTimeField()
    installed_at = models.DateTimeField(null=True, blank=True)
    seats = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-ordered_at", "-id"]
        indexes = [
            models.Index(fields=["pod", "ordered_at"], name="order_pod_ordered"),
            models.Index(fields=["pod", "installed_at"], name="order_pod_installed"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(installed_at__isnull=True) | Q(installed_at__gte=F("ordered_at")),
                name="order_installed_after_ordered",
            ),
        ]

    def __str__(self):
        return f"Order {self.external_id or self.pk}"


class AdoptionReading(Fact):
    """Licensed and active seats of an account on one day (one reading per account and day)."""

    measured_on = models.DateField()
    licensed_seats = models.PositiveIntegerField()
    active_seats = models.PositiveIntegerField()

    class Meta:
        ordering = ["-measured_on", "account"]
        indexes = [models.Index(fields=["pod", "measured_on"], name="adoption_pod_measured")]
        constraints = [
            models.UniqueConstraint(fields=["account", "measured_on"], name="adoption_one_reading_per_account_day"),
        ]

    def __str__(self):
        return f"{self.account} on {self.measured_on}: {self.active_seats}/{self.licensed_seats}"


class SupportTicket(Fact):
    """A support ticket; CSAT (1–5) is given when it is resolved."""

    opened_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    csat = models.PositiveSmallIntegerField(null=True, blank=True)
    channel = models.CharField(max_length=20, choices=Channel.choices)

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["pod", "opened_at"], name="ticket_pod_opened"),
            models.Index(fields=["pod", "resolved_at"], name="ticket_pod_resolved"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(channel__in=Channel.values), name="ticket_channel_valid"),
            models.CheckConstraint(
                condition=Q(csat__isnull=True) | Q(csat__gte=1, csat__lte=5), name="ticket_csat_1_to_5"
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(resolved_at__gte=F("opened_at")),
                name="ticket_resolved_after_opened",
            ),
        ]

    def __str__(self):
        return f"Ticket {self.external_id or self.pk}"


class ImportFileStorage(FileSystemStorage):
    """Uploaded CSV files, under ``VAR_DIR/imports`` (read at use, so tests can point VAR_DIR elsewhere)."""

    @property
    def base_location(self):
        return str(settings.VAR_DIR / "imports")

    @property
    def location(self):
        return os.path.abspath(self.base_location)


def import_file_storage() -> ImportFileStorage:
    return _IMPORT_FILE_STORAGE


_IMPORT_FILE_STORAGE = ImportFileStorage()


class ImportKind(models.TextChoices):
    """What a CSV file holds (INTERCHANGE.md "CSV files")."""

    PODS = "pods", "Pods"
    STAFF = "staff", "Staff"
    ACCOUNTS = "accounts", "Accounts"
    CONTACTS = "contacts", "Contacts"
    ACTIVITIES = "activities", "Activities"
    LEADS = "leads", "Leads"
    OPPORTUNITIES = "opportunities", "Opportunities"
    ORDERS = "orders", "Orders"
    ADOPTION = "adoption", "Adoption readings"
    TICKETS = "tickets", "Support tickets"
    TARGETS = "targets", "Targets"


class ImportStatus(models.TextChoices):
    """Where an import stands.

    The labels say what an import does; being its own (they differ from RecomputeRequest's), they
    also give the OpenAPI schema one named enum per vocabulary.
    """

    PENDING = "pending", "Waiting"
    RUNNING = "running", "Importing"
    # A preview asked for (``preview``): checked through, nothing written, waiting for the admin's go-ahead.
    CHECKED = "checked", "Checked, waiting for confirmation"
    SUCCEEDED = "succeeded", "Imported"
    FAILED = "failed", "Failed"


class ImportJob(models.Model):
    """One CSV import (INTERCHANGE.md): the uploaded file, its progress and, if it failed, the error report.

    ``rows_total`` is unknown (empty) until the file has been read once; ``errors`` holds at most
    the first thousand problems, ``error_count`` all of them.
    """

    Kind = ImportKind
    Status = ImportStatus

    kind = models.CharField(max_length=20, choices=ImportKind.choices)
    file = models.FileField(upload_to="%Y/%m/%d/", storage=import_file_storage, max_length=300)
    status = models.CharField(max_length=10, choices=ImportStatus.choices, default=ImportStatus.PENDING)
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    rows_processed = models.PositiveIntegerField(default=0)
    rows_created = models.PositiveIntegerField(null=True, blank=True)
    rows_updated = models.PositiveIntegerField(null=True, blank=True)
    errors = models.JSONField(default=list, blank=True)
    error_count = models.PositiveIntegerField(default=0)
    # A CRM export imported as it is (jobs/imports/sources/, docs/IMPORT-SOURCES.md); empty: our own format.
    source = models.CharField(max_length=20, blank=True, choices=[("salesforce", "Salesforce"), ("hubspot", "HubSpot")])
    mapping = models.CharField(max_length=64, blank=True, help_text="A mapping's name; empty: detected.")
    source_timezone = models.CharField(max_length=64, blank=True, help_text="IANA zone of times without an offset.")
    # Preview first: the file is checked through and its first rows shown as they would be stored, nothing written,
    # until the admin confirms (``confirmed_at``); then it is imported as any other.
    preview = models.BooleanField(default=False)
    preview_rows = models.JSONField(default=dict, blank=True, help_text='{"columns": [...], "rows": [[...], ...]}')
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "import"
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ImportKind.values), name="importjob_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=ImportStatus.values), name="importjob_status_valid"),
            models.CheckConstraint(
                condition=Q(rows_total__isnull=True) | Q(rows_processed__lte=F("rows_total")),
                name="importjob_progress_bounded",
            ),
        ]

    def __str__(self):
        return f"Import {self.pk} of {self.get_kind_display().lower()} ({self.status})"

    @property
    def filename(self) -> str:
        return os.path.basename(self.file.name)

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    @property
    def is_dry_run(self) -> bool:
        """Running it now checks and previews only: a preview was asked for and not yet confirmed."""
        return self.preview and self.confirmed_at is None

    @property
    def awaits_confirmation(self) -> bool:
        return self.status == self.Status.CHECKED

    @property
    def is_moving(self) -> bool:
        """Whether a worker has it (or will shortly): the page keeps polling its progress."""
        return not self.is_finished and not self.awaits_confirmation

    @property
    def percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        return int(100 * self.rows_processed / self.rows_total) if self.rows_total else 0

    @property
    def rows_unchanged(self) -> int | None:
        if self.rows_total is None or self.rows_created is None or self.rows_updated is None:
            return None
        return self.rows_total - self.rows_created - self.rows_updated


class SavedMapping(models.Model):
    """An admin's own mapping of a CRM export: a copy of a built-in with its columns, translations and defaults edited.

    ``definition`` holds what differs from nothing: the whole editable part (docs/IMPORT-SOURCES.md "Saved
    mappings"), read by ``jobs/imports/sources/saved.py``, which also checks it before it is saved.
    """

    name = models.SlugField(max_length=64, unique=True, help_text="Lower-case letters, digits and hyphens.")
    based_on = models.CharField(max_length=64, help_text="The built-in mapping it was copied from.")
    description = models.CharField(max_length=200, blank=True)
    definition = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "saved import mapping"

    def __str__(self):
        return self.name
