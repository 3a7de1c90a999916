from django.db import models


class EventType(models.TextChoices):
    SNAPSHOT_REFRESHED = "snapshot.refreshed", "Snapshots refreshed for a pod"
    ALERT_FIRED = "alert.fired", "Alert fired"
    IMPORT_FINISHED = "import.finished", "Import finished"
    ASSIGNMENT_CHANGED = "assignment.changed", "Assignment changed"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
