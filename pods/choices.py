"""Fixed vocabularies of PRODUCT.md used by pods and people.

The five buying jobs live here (not in ``jobs``) because an assignment names one, and
dependencies run ``pods`` <- ``jobs`` <- ``metrics``.
"""

from django.db import models


class BuyingJob(models.TextChoices):
    """The customer's five buying jobs, in their fixed order."""

    LEARN = "learn", "Learn"
    BUY = "buy", "Buy"
    ORDER_INSTALL = "order_install", "Order/Install"
    ADOPT = "adopt", "Adopt"
    SUPPORT = "support", "Support"


BUYING_JOB_ORDER = [job.value for job in BuyingJob]


class Persona(models.TextChoices):
    END_USER = "end_user", "End user"
    CHAMPION = "champion", "Champion"
    EXECUTIVE = "executive", "Executive"
