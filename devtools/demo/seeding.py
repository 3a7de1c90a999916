"""Whether to seed, and seeding: the rules ``manage.py seed_demo`` applies before it writes anything."""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from jobs.models import Activity, AdoptionReading, Lead, Opportunity, Order, SupportTicket
from pods.models import Account, Contact, Pod

from .generator import DemoGenerator
from .story import DEMO_POD_SLUGS, DEMO_PREFIX


def demo_data_present() -> bool:
    """True when an earlier ``seed_demo`` left its accounts in the demo pods."""
    return Account.objects.filter(external_id__startswith=DEMO_PREFIX, pod__slug__in=DEMO_POD_SLUGS).exists()


def non_demo_data() -> list[str]:
    """Describe what the database holds that the demo did not write (empty when nothing)."""
    found = []
    other_pods = list(Pod.objects.exclude(slug__in=DEMO_POD_SLUGS).values_list("slug", flat=True)[:6])
    if other_pods:
        found.append(f"pods outside the demo ({', '.join(other_pods[:5])}{', ...' if len(other_pods) > 5 else ''})")
    for model in (Account, Contact, Activity, Lead, Opportunity, Order, AdoptionReading, SupportTicket):
        # exclude() keeps rows without an external id: they are not the demo's either.
        if model.objects.exclude(external_id__startswith=DEMO_PREFIX).exists():
            found.append(f"{model._meta.verbose_name_plural} without the {DEMO_PREFIX} prefix")
    return found


@transaction.atomic
def seed_demo(*, seed: int = 42, scale: float = 1.0, now: dt.datetime | None = None) -> dict[str, int]:
    """Write the demo organisation and two years of facts ending at ``now``; return the counts written.

    The caller decides whether seeding is appropriate (``demo_data_present``, ``non_demo_data``).
    """
    if scale <= 0:
        raise ValueError("scale must be positive")
    now = now or timezone.now()
    counts = DemoGenerator(seed=seed, scale=scale, now=now).run()
    counts["reorganisations"] = mark_demo_reorganisation(now)
    return counts


def mark_demo_reorganisation(now: dt.datetime) -> int:
    """The demo's re-designation into pods by buying job, 18 months ago, so /reorganisations/ has a story."""
    from metrics.models import Reorganisation
    from metrics.reorg import add_months

    Reorganisation.objects.create(
        name="Pods staffed by buying job",
        effective_on=add_months(now.date(), -18),
        notes="Sales, marketing and service staff re-designated into geographic pods across the five jobs.",
    )
    return 1
