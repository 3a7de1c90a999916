"""What alerts and digests read off a figure: the events behind it, and how far it moved (docs/ALERTS.md)."""

# "Events behind a figure" (docs/ALERTS.md): the counts its value is made of. A count is its own volume;
# figures whose base the snapshot does not hold are backed by the activities of their buying job.
VOLUME_OF = {
    "lead_acceptance_rate": ("leads_accepted", "leads_rejected"),
    "median_days_to_lead_decision": ("leads_accepted", "leads_rejected"),
    "median_days_to_install": ("installs",),
    "median_resolution_hours": ("tickets_resolved",),
    "csat": ("tickets_resolved",),
    "digital_share": ("activity_total",),
    "maze_index": ("activity_total",),
    "rep_free_win_share": ("activities:buy",),
    "pipeline_created": ("activities:buy",),
    "bookings": ("activities:buy",),
    "win_rate": ("activities:buy",),
    "bookings_yoy_growth": ("activities:buy",),
    "median_sales_cycle_days": ("activities:buy",),
    "adoption_rate": ("activities:adopt",),
    "staffed_job_coverage": ("staff",),
}


def _count(metrics: dict, part: str) -> int:
    if part.startswith("activities:"):
        return sum((metrics.get("activities") or {}).get(part.split(":", 1)[1], {}).values())
    if part == "staff":
        return sum((metrics.get("staff_by_job") or {}).values())
    return int(metrics.get(part) or 0)


def events_behind(key: str, current: dict, comparison: dict) -> int:
    """The larger of the two periods' counts behind ``key``: a collapse from 100 to 5 has 100 behind it."""
    parts = VOLUME_OF.get(key, (key,))
    return max(sum(_count(metrics, part) for part in parts) for metrics in (current, comparison or {}))


def relative_change(value, comparison) -> float | None:
    """Percent change vs the comparison; from 0 to anything else it is infinite; None without both figures."""
    if value is None or comparison is None:
        return None
    value, comparison = float(value), float(comparison)
    if comparison == 0:
        return 0.0 if value == 0 else float("inf")
    return (value - comparison) / abs(comparison) * 100
