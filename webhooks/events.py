"""The ``data`` of each event type, built from the objects of the write that caused it (docs/WEBHOOKS.md).

Values are JSON as receivers read them: dates ``YYYY-MM-DD``, times ISO 8601 in UTC, figures numbers.
"""

import datetime as dt
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Max, Min

from metrics.choices import Grain


def _day(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _moment(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if value else None


def _figure(value) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(value)
    return value


def _placement(assignment) -> dict | None:
    if assignment is None:
        return None
    return {
        "pod": assignment.pod.slug,
        "job": assignment.job,
        "started_on": _day(assignment.started_on),
        "ended_on": _day(assignment.ended_on),
    }


def assignment_changed(*, old, new) -> dict:
    """``old``: the assignment the change ended (as it is now, ending on the day of the change), or None."""
    person = new.person
    return {
        "person": {"username": person.username, "name": person.get_full_name(), "email": person.email},
        "effective_on": _day(new.started_on),
        "old": _placement(old),
        "new": _placement(new),
    }


def import_finished(import_job) -> dict:
    return {
        "import_id": import_job.pk,
        "kind": import_job.kind,
        "source": import_job.source or None,
        "status": import_job.status,
        "rows_total": import_job.rows_total,
        "rows_created": import_job.rows_created,
        "rows_updated": import_job.rows_updated,
        "error_count": import_job.error_count,
        "started_at": _moment(import_job.started_at),
        "finished_at": _moment(import_job.finished_at),
    }


def alert_fired(*, rule, event, verdict) -> dict:
    return {
        "rule_id": rule.pk,
        "pod": rule.pod.slug,
        "metric": rule.metric,
        "grain": rule.grain,
        "condition": rule.condition,
        "period_start": _day(event.period_start),
        "value": _figure(verdict.value),
        "threshold": _figure(verdict.threshold),
        "comparison_value": _figure(verdict.comparison_value),
        "detail": event.detail,
        "fired_at": _moment(event.fired_at),
    }


def database_now() -> dt.datetime:
    """The database's clock as a refresh stamps its snapshots (``now()``, its transaction's start): read before a
    refresh, no later than any snapshot it writes. Not the application's clock, which tests may freeze."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT now()")
        return cursor.fetchone()[0]


def snapshots_refreshed(pod_ids, *, since: dt.datetime) -> list[dict]:
    """One event per pod: the periods of each grain whose snapshots a refresh wrote from ``since`` on."""
    from metrics.models import PodMetricSnapshot
    from pods.models import Pod

    pods = dict(Pod.objects.filter(pk__in=pod_ids).values_list("pk", "slug"))
    grains = {grain: order for order, grain in enumerate(Grain.values)}
    written = (
        PodMetricSnapshot.objects.filter(pod_id__in=pods, computed_at__gte=since)
        .values("pod_id", "grain")
        .annotate(first=Min("period_start"), last=Max("period_start"), count=Count("pk"))
        .order_by()
    )
    periods: dict[int, list[dict]] = {pk: [] for pk in pods}
    for row in sorted(written, key=lambda row: (row["pod_id"], grains.get(row["grain"], 99))):
        periods[row["pod_id"]].append(
            {"grain": row["grain"], "first": _day(row["first"]), "last": _day(row["last"]), "count": row["count"]}
        )
    return [{"pod": pods[pk], "periods": periods[pk]} for pk in sorted(pods)]
