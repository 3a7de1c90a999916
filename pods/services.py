"""Writes to pods and people (HackSoft style: keyword-only, atomic, return the instance).

A reassignment or a pod's new time zone changes staffing and every period of the pod's metrics;
they are recomputed by themselves, as ``metrics/pipeline.py`` tells.
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from webhooks import events as webhook_events
from webhooks import services as webhooks
from webhooks.choices import EventType

from .models import Assignment, Pod, User


@transaction.atomic
def assignment_reassign(*, person: User, pod: Pod, job: str, effective_on: dt.date) -> Assignment:
    """Move ``person`` to ``pod`` / ``job`` from ``effective_on``.

    The assignment active on that day ends on it and a new one starts on it; nothing is
    overwritten, so history stays queryable.  Reassigning someone to where they already are
    changes nothing and returns their current assignment.
    """
    # Serialise concurrent reassignments of one person; the exclusion constraint is the backstop.
    User.objects.select_for_update().filter(pk=person.pk).first()
    assignments = Assignment.objects.filter(person=person)
    if assignments.filter(started_on__gt=effective_on).exists():
        raise ValidationError(
            f"{person} already has an assignment starting after {effective_on:%Y-%m-%d}; "
            "reassign from that date or later."
        )
    current = assignments.filter(Q(ended_on__isnull=True) | Q(ended_on__gt=effective_on)).first()
    if current is not None:
        if current.pod_id == pod.pk and current.job == job:
            return current
        current.ended_on = effective_on
        current.save(update_fields=["ended_on"])
    new = Assignment.objects.create(person=person, pod=pod, job=job, started_on=effective_on)
    webhooks.emit(EventType.ASSIGNMENT_CHANGED, lambda: webhook_events.assignment_changed(old=current, new=new))
    return new
