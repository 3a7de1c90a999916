from django.db import models


class DigestStatus(models.TextChoices):
    SUBSCRIBED = "subscribed", "Subscribed"
    PAUSED = "paused", "Paused"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"


class DeliveryStatus(models.TextChoices):
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    NOTHING_TO_SAY = "nothing", "Nothing to say"


class Condition(models.TextChoices):
    OFF_TARGET = "off_target", "Misses its target"
    MOVES_BY = "moves_by", "Moves by at least X% vs the previous period"
    STAYS_RED = "stays_red", "Stays red for K periods"


class NotificationKind(models.TextChoices):
    ALERT_FIRED = "alert_fired", "Alert"
    ALERT_RESOLVED = "alert_resolved", "Alert resolved"
