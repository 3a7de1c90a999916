"""Reads of pods and people that pages share (querysets, scoped by the caller)."""

from django.db.models import Count, Q

from .choices import BuyingJob
from .models import Pod
from .scoping import current_assignments, pods_readable_by


def staff_count_field(job: str) -> str:
    return f"staff_{job}"


def pods_with_staffing(user):
    """The pods whose pages ``user`` may read (``pods_readable_by``), each with its head count per job.

    One query whatever the number of pods: every count is a conditional ``Count`` over the
    assignments active today (``current_assignments``), so the staffing shown never disagrees
    with who actually has access.  The visible pods are re-selected by primary key because
    ``pods_visible_to`` joins the leaders table, and that join would multiply the counts.
    """
    current = current_assignments()
    return Pod.objects.filter(pk__in=pods_readable_by(user).values("pk")).annotate(
        **{
            staff_count_field(job): Count("assignments", filter=Q(assignments__job=job, assignments__in=current))
            for job in BuyingJob.values
        }
    )
