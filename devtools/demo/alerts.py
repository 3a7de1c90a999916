"""The demo leader's alert rules: one of each condition on the pods they lead (docs/ALERTS.md)."""

from decimal import Decimal

from alerts.models import AlertRule
from pods.models import Pod, User


def create_alert_rules() -> int:
    leader = User.objects.get(username="leader")
    southeast, northeast = Pod.objects.get(slug="southeast-us"), Pod.objects.get(slug="northeast-us")
    rules = [
        AlertRule(owner=leader, pod=southeast, metric="lead_volume", grain="month", condition="off_target"),
        AlertRule(
            owner=leader,
            pod=southeast,
            metric="tickets_opened",
            grain="week",
            condition="moves_by",
            change_pct=Decimal("25"),
            min_events=10,
        ),
        AlertRule(owner=leader, pod=northeast, metric="win_rate", grain="month", condition="stays_red", periods=2),
        AlertRule(owner=leader, pod=northeast, metric="bookings", grain="month", condition="off_target"),
    ]
    AlertRule.objects.bulk_create(rules)
    return len(rules)
