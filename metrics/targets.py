"""Status of a metric against its target (METRICS.md "Targets")."""

from decimal import Decimal

from .catalogue import METRICS_BY_KEY
from .choices import TargetStatus

AMBER_TOLERANCE = Decimal("0.10")


def target_status(metric_key: str, value, target) -> str | None:
    """green: meets or beats the target; amber: misses by at most 10% of the target; red: misses by more."""
    if value is None or target is None:
        return None
    value, target = Decimal(str(value)), Decimal(str(target))
    lower_is_better = METRICS_BY_KEY[metric_key].lower_is_better
    miss = (value - target) if lower_is_better else (target - value)
    if miss <= 0:
        return TargetStatus.GREEN
    if miss <= AMBER_TOLERANCE * abs(target):
        return TargetStatus.AMBER
    return TargetStatus.RED
