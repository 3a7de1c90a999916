"""Writes of the jobs app (HackSoft style: keyword-only, atomic, return the instance).

Services check the data, not the caller: a view or API looks the account up in the caller's
scope (``jobs.selectors.accounts_loggable_by``) before calling them, while an admin's import may
log on behalf of any staff member.

Metrics follow every write by themselves (triggers mark the affected days, a worker recomputes
them): the whole path is told in ``metrics/pipeline.py``.
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from .models import Activity

# What a caller may change on an activity; pod, staff and created_at are never among them.
ACTIVITY_UPDATABLE_FIELDS = frozenset(
    {"account", "job", "channel", "kind", "occurred_at", "contact", "minutes", "notes", "external_id"}
)


def _check_activity(activity: Activity) -> None:
    """Raise ``ValidationError`` (keyed by field) unless ``activity`` may be stored."""
    if activity.contact_id is not None and activity.contact.account_id != activity.account_id:
        raise ValidationError({"contact": "This contact does not belong to the account."})
    # Constraints are enforced by the database too; field checks give the user readable messages.
    activity.full_clean(validate_constraints=False)


@transaction.atomic
def activity_log(
    *,
    staff,
    account,
    job: str,
    channel: str,
    kind: str,
    occurred_at,
    contact=None,
    minutes: int | None = None,
    notes: str = "",
    external_id: str | None = None,
) -> Activity:
    """Record an activity of ``staff`` for ``account``, under the pod the account belongs to now."""
    activity = Activity(
        pod_id=account.pod_id,
        account=account,
        staff=staff,
        job=job,
        channel=channel,
        kind=(kind or "").strip(),
        occurred_at=occurred_at,
        contact=contact,
        minutes=minutes,
        notes=notes or "",
        external_id=external_id or None,
    )
    _check_activity(activity)
    activity.save()
    return activity


@transaction.atomic
def activity_update(*, activity: Activity, **fields) -> Activity:
    """Change some of an activity's fields; it stays in the pod it was logged under."""
    unknown = set(fields) - ACTIVITY_UPDATABLE_FIELDS
    if unknown:
        raise TypeError(f"activity_update() cannot change {', '.join(sorted(unknown))}")
    if "kind" in fields:
        fields["kind"] = (fields["kind"] or "").strip()
    if "notes" in fields:
        fields["notes"] = fields["notes"] or ""
    if "external_id" in fields:
        fields["external_id"] = fields["external_id"] or None
    for name, value in fields.items():
        setattr(activity, name, value)
    if activity.account.pod_id != activity.pod_id:
        # A fact never moves between pods (the database refuses it too): history would be rewritten.
        raise ValidationError(
            {"account": "An activity stays in the pod it was logged under; choose an account of that pod."}
        )
    _check_activity(activity)
    activity.save(update_fields=[*fields])
    return activity


@transaction.atomic
def activity_delete(*, activity: Activity) -> None:
    activity.delete()
