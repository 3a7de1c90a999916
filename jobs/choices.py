"""Vocabularies of the facts logged against the buying jobs (PRODUCT.md)."""

from django.db import models

from pods.choices import BUYING_JOB_ORDER, BuyingJob  # noqa: F401  (re-exported for jobs' users)


class Channel(models.TextChoices):
    DIGITAL = "digital", "Digital"
    IN_PERSON = "in_person", "In person"
    PARTNER = "partner", "Partner"


class LeadStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


class OpportunityStatus(models.TextChoices):
    OPEN = "open", "Open"
    WON = "won", "Won"
    LOST = "lost", "Lost"


# Suggested activity kinds for the log form; the field itself is free text (CRM exports vary).
ACTIVITY_KIND_SUGGESTIONS = [
    "email",
    "webinar",
    "event",
    "content_download",
    "website_visit",
    "call",
    "meeting",
    "demo",
    "proposal",
    "negotiation",
    "onboarding",
    "installation",
    "training",
    "health_check",
    "ticket",
]
