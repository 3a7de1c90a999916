"""The ``targets`` CSV kind of INTERCHANGE.md, registered with the import machinery of ``jobs``.

Targets belong to ``metrics`` (the catalogue says which metrics take one, the grains say where a
period starts), so this app adds the kind instead of ``jobs`` reaching up for that vocabulary.
"""

from jobs.imports.schema import Column, Kind, choice, date, decimal, slug
from jobs.imports.tables import POD_REFERENCE, Field, TableLoad, copied_fields, register_kind
from jobs.models import ImportKind

from .catalogue import TARGETABLE_METRIC_CHOICES
from .choices import Grain
from .models import Target
from .periods import period_start

TARGETABLE_METRICS = [key for key, _ in TARGETABLE_METRIC_CHOICES]


def metric(value: str) -> str:
    if value not in TARGETABLE_METRICS:
        raise ValueError(f'"{value}" is not a metric a target can be set on (see METRICS.md).')
    return value


def period_start_of_grain(row):
    grain, start = row.get("grain"), row.get("period_start")
    if grain is None or start is None:
        return []
    expected = period_start(grain, start)
    if expected != start:
        message = f"{start.isoformat()} is not the start of a {grain}; that {grain} starts on {expected.isoformat()}."
        return [("period_start", message)]
    return []


TARGETS = Kind(
    ImportKind.TARGETS,
    (
        Column("pod", slug),
        Column("metric", metric),
        Column("grain", choice(Grain.values)),
        Column("period_start", date, sql_type="date"),
        Column("value", decimal(places=4, max_digits=16), sql_type="numeric"),
    ),
    key=("pod", "metric", "grain", "period_start"),
    row_checks=(period_start_of_grain,),
)

TARGETS_LOAD = TableLoad(
    Target,
    conflict=("pod_id", "metric", "grain", "period_start"),
    fields=(Field("pod_id", "p.id", "pod"), *copied_fields("metric", "grain", "period_start", "value")),
    references=(POD_REFERENCE,),
)


def register() -> None:
    register_kind(TARGETS, TARGETS_LOAD)
