"""Grains and target statuses."""

from django.db import models


class Grain(models.TextChoices):
    WEEK = "week", "Week"
    MONTH = "month", "Month"
    QUARTER = "quarter", "Quarter"
    YEAR = "year", "Year"


class TargetStatus(models.TextChoices):
    GREEN = "green", "On target"
    AMBER = "amber", "Within 10%"
    RED = "red", "Off target"
